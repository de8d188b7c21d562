"""One simulated person in a real browser: their own context (storage, keys), one page, and
everything that page did on the wire, over HTTP and in its console.

Actions go through what a person uses - labels, roles and button names - and
waits are Playwright's auto-waiting expectations, never sleeps.
"""

import re
from pathlib import Path
from types import SimpleNamespace

from playwright.sync_api import expect

from burnchat.client import crypto
from tests.browser.frames import parse_frame
from tests.server import wait_for

PROBE_JS = Path(__file__).with_name("probe.js")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
SAFETY_CODE = re.compile(r"^\d{5}( \d{5}){7}$")  # 40 digits in 8 groups (PROTOCOL.md §5.4)
MISMATCH = "The members you see don't match what others see - someone may be in the middle"
SAFETY_EPOCH = re.compile(r"^Safety code \(key (\d+)\)$")
PIN_TEXT = re.compile(r"^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$")
# What a person would call a broken chat screen: sideways scrolling, text out of its box,
# the Send button off screen, user text turned into markup (a link must be http(s), show its
# whole address and open with no opener) or not bidi-isolated.
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const log = document.querySelector('[role="log"]');
  const box = log.getBoundingClientRect();
  if (document.documentElement.scrollWidth > innerWidth) problems.push("page scrolls sideways");
  if (log.scrollWidth > log.clientWidth + 1) problems.push("message list scrolls sideways");
  for (const el of document.querySelectorAll('.msg__bubble, .sys')) {
    const r = el.getBoundingClientRect();
    if (r.left < box.left - 1 || r.right > box.right + 1) problems.push(`out of the list: ${el.className}`);
  }
  for (const el of document.querySelectorAll('.person')) {
    const seen = el.checkVisibility({ visibilityProperty: true, opacityProperty: true });
    if (seen && el.getBoundingClientRect().right > innerWidth + 1) problems.push("person off screen");
  }
  const send = document.querySelector('[data-part="send"]').getBoundingClientRect();
  if (!(send.width > 0 && send.right <= innerWidth && send.bottom <= innerHeight)) problems.push("Send off screen");
  if (document.querySelector('[role="log"] :is(img, script, b, a:not(.msg__link), iframe), .people :is(img, script, a)')) {
    problems.push("user text became markup");
  }
  for (const a of document.querySelectorAll('[role="log"] a')) {
    const href = a.getAttribute("href");
    if (!/^https?:[/][/]/i.test(href) || a.textContent !== href || a.rel !== "noopener noreferrer" || a.target !== "_blank") {
      problems.push(`unsafe link: ${href}`);
    }
  }
  if (![...document.querySelectorAll('.user-text')].every((el) => getComputedStyle(el).unicodeBidi === "isolate")) {
    problems.push("user text not bidi-isolated");
  }
  return problems;
}"""
# Resolves once every animation that ends by itself has ended (looping ones are left alone).
SETTLE_ANIMATIONS = """() => Promise.all(document.getAnimations()
  .filter((animation) => animation.effect?.getComputedTiming().iterations !== Infinity)
  .map((animation) => animation.finished.catch(() => null)))"""
CLIPBOARD = ["clipboard-read", "clipboard-write"]
ACTION_TIMEOUT_MS = 10_000


def shot(page, name, settle=True, full_page=False):
    """Saves a picture of `page` as artifacts/screenshots/NAME.png (the folder is git-ignored).

    With `settle`, finite animations (fades, the burn's fade-out) end first, so the
    picture shows the phase itself rather than a crossfade.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    viewport = page.viewport_size
    if full_page:
        # A taller window rather than Playwright's full_page stitching, which cuts the
        # page's fixed background glow off at the first screen's bottom edge.
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": viewport["width"], "height": max(height, viewport["height"])})
    if settle:
        page.evaluate(SETTLE_ANIMATIONS)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    if full_page:
        page.set_viewport_size(viewport)


class Room:
    """A room as its creator knows it: ID, share link (with #secret), secret and PIN."""

    def __init__(self, room_id, link, secret, pin=None):
        self.id = room_id
        self.link = link
        self.secret = secret
        self.pin = pin

    @classmethod
    def from_api(cls, server, ttl_seconds=120):
        """A room made through POST /api/rooms, with a secret made here as a browser would."""
        created = server.create_room(ttl_seconds=ttl_seconds)
        secret = crypto.random_id()
        return cls(created["room"], f"{server.url}{created['url']}#{secret}", secret, created["pin"])

    @property
    def path(self):
        """/r/ROOM"""
        return f"/r/{self.id}"


class Person:
    """A browser context of one's own with one page; records frames, requests and errors."""

    def __init__(self, browser, base_url, label, **context_options):
        self.label = label
        self.base_url = base_url
        self.private = set()  # names, messages and link secrets this person held: none may reach the wire
        self.frames = []    # (direction "sent"/"received", text) in order
        self.requests = []  # every URL the context asked for
        self.sockets = []   # every WebSocket URL the page opened
        self.console_errors = []
        self.page_errors = []
        self.dialogs = []
        self.unload_prompts = []  # "leave this page?" prompts (beforeunload), accepted
        # Dark is the default look; a test asks for the light theme with color_scheme="light".
        context_options.setdefault("color_scheme", "dark")
        self.context = browser.new_context(permissions=CLIPBOARD, **context_options)
        self.context.set_default_timeout(ACTION_TIMEOUT_MS)
        self.context.add_init_script(path=str(PROBE_JS))
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page = self.context.new_page()
        self.page.on("websocket", self._on_socket)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.page.on("dialog", self._on_dialog)

    # ---- recorders ------------------------------------------------------------------------

    def _on_socket(self, socket):
        """Keeps every frame the page sends and receives, in order."""
        self.sockets.append(socket.url)
        socket.on("framesent", lambda payload: self.frames.append(("sent", payload)))
        socket.on("framereceived", lambda payload: self.frames.append(("received", payload)))

    def _on_console(self, message):
        """Keeps console errors (a correct page logs none)."""
        if message.type == "error":
            self.console_errors.append(message.text)

    def _on_dialog(self, dialog):
        """An alert() would mean injected script ran: note it and close it.

        The browser's own "Leave this page?" prompt (beforeunload) is noted apart and answered
        yes: the person meant to reload or leave.
        """
        if dialog.type == "beforeunload":
            self.unload_prompts.append(dialog.message)
            dialog.accept()
            return
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    # ---- what the recorders saw -----------------------------------------------------------

    def events(self, direction, name):
        """Payloads of Socket.IO event `name` sent or received, in order."""
        found = []
        for way, text in self.frames:
            parsed = parse_frame(text)
            if way == direction and parsed and parsed[0] == "event" and parsed[2][0] == name:
                found.append(parsed[2][1] if len(parsed[2]) > 1 else None)
        return found

    def wire_text(self):
        """Every frame's text (binary frames decoded leniently)."""
        return "\n".join(t if isinstance(t, str) else t.decode("utf-8", "replace") for _, t in self.frames)

    def announcement(self):
        """This person's latest announcement as sent in its `join` (member ID and public keys)."""
        joins = self.events("sent", "join")
        assert joins, f"{self.label} never sent a join"
        return SimpleNamespace(**joins[-1])

    def member_id(self):
        """The member ID of this person's latest join."""
        return self.announcement().member_id

    def held_epochs(self):
        """Every epoch whose room key this page held: confirmed with key_held or made for a create."""
        held = {payload["epoch"] for payload in self.events("sent", "key_held")}
        held |= {payload["epoch"] for payload in self.events("sent", "key_deliver")}
        return held

    def foreign_requests(self):
        """URLs this person's pages asked for outside the server's origin (data:/blob: are local)."""
        urls = self.requests + self.sockets
        origins = (self.base_url + "/", self.base_url.replace("http", "ws", 1) + "/")
        return [u for u in urls if not u.startswith(origins) and not u.startswith(("data:", "blob:"))]

    def csp_violations(self):
        """securitypolicyviolation events the page saw (empty list when the page is gone)."""
        if self.page.is_closed():
            return []
        return self.page.evaluate("window.__probe ? window.__probe.csp : []")

    def marks(self):
        """Moments the probe stamped: burning, burned, removed and the test's own."""
        return self.page.evaluate("window.__probe.marks")

    def layout_problems(self):
        """What looks broken on the chat screen right now (empty when nothing does)."""
        return self.page.evaluate(LAYOUT_PROBLEMS)

    def dom_text(self):
        """The page's whole DOM as HTML, hidden parts and attributes included."""
        return self.page.content()

    # ---- what a person sees ---------------------------------------------------------------

    @property
    def log(self):
        """The message list."""
        return self.page.get_by_role("log")

    @property
    def timer(self):
        """The countdown."""
        return self.page.get_by_role("timer")

    @property
    def safety(self):
        """The safety code (its label is the text beside it: ARIA names no <code>)."""
        return self.page.get_by_test_id("safety-code")

    def safety_shown(self):
        """(code, epoch) as the security strip shows them now; epoch None while securing."""
        label = SAFETY_EPOCH.match(self.page.get_by_test_id("safety-epoch").text_content() or "")
        return self.safety.text_content(), int(label[1]) if label else None

    def system_line(self, text):
        """System lines in the chat holding `text`."""
        return self.log.get_by_test_id("system-line").filter(has_text=text)

    @property
    def composer(self):
        """The message box."""
        return self.page.get_by_role("textbox", name="Message")

    def timer_seconds(self):
        """Seconds the countdown shows now."""
        return self.page.evaluate("window.__probe.seconds(document.querySelector('[role=timer]').textContent)")

    def message(self, text):
        """Someone else's message bubble holding `text`."""
        return self.page.get_by_test_id("message").filter(has_text=text)

    def people(self):
        """The people list's entries."""
        return self.page.get_by_test_id("people").get_by_test_id("person")

    # ---- actions --------------------------------------------------------------------------

    def open(self, url):
        """Goes to `url` (absolute, or a path on the server); a #secret in it is noted as private."""
        if "#" in url:
            self.private.add(url.split("#", 1)[1])
        self.page.goto(url if url.startswith("http") else self.base_url + url)

    def create_room(self, ttl_seconds=None):
        """Home page -> Create room; `ttl_seconds` picks Custom seconds, else the default preset."""
        self.open("/")
        expect(self.page.get_by_role("button", name="Create room")).to_be_enabled()
        if ttl_seconds is not None:
            self.page.get_by_role("radio", name="Custom").check()
            self.page.get_by_label("Custom duration").fill(str(ttl_seconds))
            self.page.get_by_label("Unit").select_option("seconds")
        with self.page.expect_response(lambda r: r.url.endswith("/api/rooms")) as created:
            self.page.get_by_role("button", name="Create room").click()
        data = created.value.json()
        link = self.page.get_by_test_id("share-link")
        expect(link).to_have_value(re.compile(rf"^{re.escape(self.base_url)}/r/{data['room']}#[A-Za-z0-9_-]{{22}}$"))
        url = link.input_value()
        self.private.add(url.split("#", 1)[1])
        return Room(data["room"], url, url.split("#", 1)[1], self.read_pin())

    def read_pin(self):
        """The PIN this page made (the server never sees it): Reveal PIN, read it, hide it again."""
        reveal = self.page.get_by_role("button", name="Reveal PIN")
        reveal.click()
        shown = self.page.get_by_test_id("pin")
        expect(shown).to_have_attribute("data-revealed", "true")
        pin = shown.text_content()
        self.page.get_by_role("button", name="Hide PIN").click()
        expect(reveal).to_be_visible()
        self.private.add(pin)
        return pin

    def enter_room(self, name):
        """From the created panel into the room as its admin, then join as `name`."""
        self.page.get_by_role("button", name="Enter room").click()
        self.join_as(name)

    def join(self, link, name):
        """Opens the share link and joins as `name`; returns once the key is held."""
        self.open(link)
        self.join_as(name)

    def join_as(self, name, ready=True):
        """Types `name` on the join form and presses Join (waits for the key when `ready`)."""
        self.private.add(name)
        self.page.get_by_role("textbox", name="Your name").fill(name)
        self.page.get_by_role("button", name="Join").click()
        if ready:
            self.wait_ready()

    def wait_ready(self):
        """Waits until the composer holds the current key (not "Securing...")."""
        expect(self.composer).to_be_editable(timeout=10_000)

    def send(self, text, shown=None):
        """Types and sends `text`; returns once it shows as sent (the server acknowledged it).

        `shown`: a part of the text as the bubble shows it, when formatting hides its markers.
        """
        self.write(text, shown)
        expect(self.own(shown or text).last).to_have_attribute("data-state", "sent")

    def write(self, text, shown=None):
        """Types `text` and presses Send; returns once its bubble shows (pending while offline)."""
        self.private.add(text)
        expect(self.composer).to_be_editable(timeout=10_000)
        self.composer.fill(text)
        self.page.get_by_role("button", name="Send").click()
        expect(self.own(shown or text).last).to_be_visible()
        expect(self.composer).to_have_value("")

    def own(self, text):
        """Our own bubbles holding `text`."""
        return self.page.get_by_test_id("message-own").filter(has_text=text)

    def expect_message(self, text, sender):
        """Waits for `sender`'s message `text` in the log (sender named in the bubble)."""
        bubble = self.message(text)
        expect(bubble).to_have_count(1)
        expect(bubble).to_contain_text(sender)
        expect(bubble.locator(".msg__text")).to_have_text(text)

    def expect_safety_code(self, code):
        """Waits until the page shows exactly `code` as its safety code."""
        assert SAFETY_CODE.match(code), code
        expect(self.safety).to_have_text(code)

    def close(self):
        """Closes the context (its pages and sockets go with it)."""
        self.context.close()


def shared_safety_code(people, timeout=10):
    """Waits until every page shows one and the same 40-digit code for the same key; returns (code, epoch).

    The code comes from the epoch secret and the roster (PROTOCOL.md §5.4), so equal codes
    on every page mean one key and one member list; nobody outside the room can predict it.
    """
    def agreed():
        shown = {person.safety_shown() for person in people}
        if len(shown) != 1:
            return None
        code, epoch = shown.pop()
        return (code, epoch) if SAFETY_CODE.match(code) and epoch else None
    return wait_for(agreed, timeout=timeout, interval=0.1, message="one safety code on every page")


def open_names(room, person):
    """The names a person's announcements carried, opened with the link secret (the wire is sealed)."""
    link_keys = crypto.derive_link_keys(room.secret, room.id)
    return [crypto.open_announcement(link_keys, room.id, ann).name for ann in person.events("sent", "join")]


def admin_room(people, names, server=None):
    """The first of `names` creates a room (on `server`) and enters it as its admin; the others
    join in order, each keyed. -> (Room, [Person, ...])."""
    creator = people(names[0], server=server)
    room = creator.create_room()
    creator.enter_room(names[0])
    persons = [creator]
    for name in names[1:]:
        person = people(name, server=server)
        person.join(room.link, name)
        persons.append(person)
    return room, persons
