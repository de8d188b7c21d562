"""Chat essentials (#14, behaviour): a background tab counts and tells, room events in the log,
the truth on the join page, the typing indicator, /me, Escape, the name and PIN checks, colours,
"Kick and lock the room" and why a room burned."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.person import Room, shot
from tests.browser.test_chat import token

pytestmark = pytest.mark.browser

# The page thinks it is in a background tab (or back in front): what a switched tab looks like to it.
SET_HIDDEN = """(hidden) => {
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (hidden ? "hidden" : "visible") });
  Object.defineProperty(document, "hidden", { configurable: true, get: () => hidden });
  document.dispatchEvent(new Event("visibilitychange"));
}"""
# Records what the page asks of the Notification API and WebAudio (headless Chromium shows nothing).
SPY_ALERTS = """(() => {
  const Real = window.Notification;
  const shown = [];
  class Spy {
    constructor(title, options = {}) { Object.assign(this, { title, body: options.body, closed: false }); shown.push(this); }
    close() { this.closed = true; this.onclose?.(); }
    static get permission() { return Real.permission; }
    static requestPermission() { window.__asked = (window.__asked || 0) + 1; return Real.requestPermission(); }
  }
  window.Notification = Spy;
  window.__notes = shown;
  window.__tones = 0;
  const make = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () { window.__tones += 1; return make.call(this); };
})();"""
ICON = "document.querySelector('link[rel~=icon]').getAttribute('href')"


def hide(person, hidden=True):
    """Puts `person`'s tab in the background (or back in front)."""
    person.page.evaluate(SET_HIDDEN, hidden)


def creator_and_guest(people, guest="Ben", **guest_options):
    """Ana creates a room from the home page (admin) and enters it; `guest` joins by the link."""
    ana = people("Ana")
    room = ana.create_room()
    ana.enter_room("Ana")
    ben = people(guest, **guest_options)
    ben.join(room.link, guest)
    return room, ana, ben


def notes(person):
    """The notifications the page made: [{title, body, closed}]."""
    return person.page.evaluate("window.__notes.map(({ title, body, closed }) => ({ title, body, closed }))")


def test_a_background_tab_counts_unread_in_its_title_and_icon_until_the_person_is_back(people, app_server):
    """Hidden: three messages make "(3) ..." and a badge on the icon; typing and system lines don't count; back: both clear."""
    room = Room.from_api(app_server)
    ana, ben = people("Ana"), people("Ben")
    ana.join(room.link, "Ana")
    ben.join(room.link, "Ben")
    title = ben.page.title()
    plain_icon = ben.page.evaluate(ICON)
    hide(ben)
    ana.composer.press_sequentially("typing only")  # a typing body: no count
    expect(ben.page.get_by_test_id("typing")).to_be_visible()
    ana.composer.fill("")
    texts = [token("one"), token("two"), token("three")]
    for text in texts:
        ana.send(text)
    ben.expect_message(texts[-1], "Ana")
    expect(ben.page).to_have_title(f"(3) {title}")
    assert ben.page.evaluate(ICON).startswith("data:image/png;base64,")
    badge = ben.page.evaluate(ICON)
    hide(ben, False)
    expect(ben.page).to_have_title(title)
    assert ben.page.evaluate(ICON) == plain_icon
    ana.send(token("seen at once"))
    expect(ben.page).to_have_title(title)  # in front of the person nothing counts

    picture = ben.context.new_page()  # the badge drawn big enough to look at
    picture.set_content(f'<body style="background:#222"><img src="{badge}" width="128" height="128"></body>')
    shot(picture, "14-favicon-badge", settle=False)
    picture.close()


def test_sound_and_notifications_are_opt_in_say_nothing_by_default_and_close_at_the_burn(people):
    """Off by default; permission asked only when turned on; "New message" only, until "show text" is
    chosen; a tone while in the background; closed on return and at the burn, which says why."""
    ana = people("Ana")
    room = ana.create_room()
    ana.enter_room("Ana")
    ben = people("Ben")
    ben.context.add_init_script(SPY_ALERTS)
    ben.join(room.link, "Ben")
    page = ben.page
    page.get_by_role("button", name="Alerts").click()
    menu = page.get_by_test_id("alerts-menu")
    expect(menu).to_be_visible()
    for box in ("alert-sound", "alert-notify", "alert-show-text"):
        expect(page.get_by_test_id(box)).not_to_be_checked()
    expect(page.get_by_test_id("alert-show-text")).to_be_disabled()
    expect(menu).to_contain_text("notification history")
    assert page.evaluate("window.__asked || 0") == 0  # nobody asked before the person chose
    page.get_by_test_id("alert-notify").click()  # asked now; this browser says no
    expect(page.get_by_test_id("alerts-error")).to_contain_text("blocked")
    expect(page.get_by_test_id("alert-notify")).not_to_be_checked()
    assert page.evaluate("window.__asked") == 1
    ben.context.grant_permissions(["notifications"], origin=ben.base_url)
    page.get_by_test_id("alert-notify").check()
    page.get_by_test_id("alert-sound").check()
    expect(page.get_by_test_id("alert-show-text")).to_be_enabled()
    expect(page.get_by_test_id("alerts-error")).to_be_hidden()
    shot(page, "14-alerts-menu")
    page.get_by_role("button", name="Close", exact=True).first.click()
    tones = page.evaluate("window.__tones")

    secret = token("the plan for tonight")
    hide(ben)
    ana.send(secret)
    page.wait_for_function("window.__notes.length === 1")
    assert notes(ben) == [{"title": "Burn Chat", "body": "New message", "closed": False}]
    assert page.evaluate("window.__tones") == tones + 1
    hide(ben, False)
    page.wait_for_function("window.__notes.every((note) => note.closed)")

    page.get_by_role("button", name="Alerts").click()
    page.get_by_test_id("alert-show-text").check()
    hide(ben)
    shown = token("now with its text")
    ana.send(shown)
    page.wait_for_function("window.__notes.length === 2")
    assert notes(ben)[1] == {"title": "Ana", "body": shown, "closed": False}

    ana.page.get_by_role("button", name="Burn now").click()
    ana.page.get_by_role("button", name="Confirm burn").click()
    expect(page.get_by_role("heading", name="Room burned")).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("burn-screen")).to_contain_text("The admin burned it")
    assert all(note["closed"] for note in notes(ben))
    expect(page).to_have_title("Room burned - Burn Chat")


def test_room_events_are_quiet_lines_and_runs_of_joins_fold(people, app_server):
    """Lock, unlock, an extension by how much and an admin joining are said in the log; four joins
    in a row read "Cy, Di and 2 others joined"."""
    room, ana, ben = creator_and_guest(people)
    ana.page.get_by_role("button", name="Lock room").click()
    expect(ben.system_line("The admin locked the room")).to_have_count(1)
    ana.page.get_by_role("button", name="Extend +5 min").click()
    expect(ben.system_line("The admin added 5 minutes")).to_have_count(1)
    ana.page.get_by_role("button", name="Unlock room").click()
    expect(ben.system_line("The admin unlocked the room")).to_have_count(1)

    desk = people("Desk")
    desk.open(f"{room.path}/admin")
    desk.page.get_by_label("PIN").fill(room.pin)
    desk.page.get_by_role("button", name="Continue").click()
    expect(ben.system_line("An admin joined")).to_have_count(1)
    expect(ana.system_line("An admin joined")).to_have_count(1)

    ana.send(token("before the crowd"))
    for name in ("Cy", "Di", "Ed", "Fi"):
        people(name).join(room.link, name)
    expect(ben.system_line("Cy, Di and 2 others joined")).to_have_count(1)
    expect(ben.system_line("Ed joined")).to_have_count(0)
    shot(ben.page, "14-room-events")


def test_the_last_minute_is_said_in_the_log(people, app_server):
    """A room with a little over a minute left says "Room burns in 1 minute" once."""
    room = Room.from_api(app_server, ttl_seconds=66)
    ana = people("Ana")
    ana.join(room.link, "Ana")
    expect(ana.system_line("Room burns in 1 minute")).to_have_count(1, timeout=15_000)


def test_the_join_page_shows_a_locked_room_and_changes_when_it_is_unlocked(people):
    """No active Join button that then fails: "Locked" until the admin unlocks, then Join works."""
    room, ana, ben = creator_and_guest(people)
    ana.page.get_by_role("button", name="Lock room").click()
    expect(ana.page.get_by_test_id("lock-badge")).to_be_visible()
    cy = people("Cy")
    cy.open(room.link)
    button = cy.page.get_by_test_id("join-button")
    expect(button).to_be_disabled()
    expect(button).to_have_text("Locked")
    expect(cy.page.get_by_test_id("locked-note")).to_be_visible()
    expect(cy.page.get_by_test_id("lock-state")).to_have_text("Locked by its admin")
    shot(cy.page, "14-join-locked")
    ana.page.get_by_role("button", name="Unlock room").click()
    expect(button).to_have_text("Join", timeout=10_000)
    expect(button).to_be_enabled()
    expect(cy.page.get_by_test_id("locked-note")).to_be_hidden()
    cy.join_as("Cy")
    assert not cy.events("sent", "join")[0].get("name")


def test_a_room_locked_while_the_join_page_is_open_refuses_gently(people):
    """The lock arrives between the page's last look and the Join press: the button says Locked, no error text."""
    room, ana, ben = creator_and_guest(people)
    cy = people("Cy")
    cy.open(room.link)
    expect(cy.page.get_by_test_id("join-button")).to_be_enabled()
    ana.page.get_by_role("button", name="Lock room").click()
    expect(cy.page.get_by_test_id("join-button")).to_have_text("Locked", timeout=10_000)


def test_typing_is_sealed_throttled_expires_and_counts_nowhere(people, app_server):
    """Ben types: Ana sees "Ben is typing...", from one sealed envelope per burst; no name or word on
    the wire; his message ends it with no gap notice and no unread count for the typing itself."""
    room = Room.from_api(app_server)
    ana, ben = people("Ana"), people("Ben")
    ana.join(room.link, "Ana")
    ben.join(room.link, "Ben")
    before = len(ben.events("sent", "message"))
    hide(ana)
    ben.composer.press_sequentially("hello the")
    typing = ana.page.get_by_test_id("typing")
    expect(typing).to_have_text("Ben is typing...")
    shot(ana.page, "14-typing")
    sent = ben.events("sent", "message")[before:]
    assert len(sent) == 1, "one typing body for a burst of keystrokes"
    assert set(sent[0]) == {"v", "epoch", "sender", "seq", "prev", "iv", "ct", "sig"}
    assert "typing" not in ben.wire_text() and "Ben" not in ben.wire_text()
    expect(ana.page).not_to_have_title(re.compile(r"^\(\d+\)"))
    expect(typing).to_be_hidden(timeout=10_000)  # it expires by itself

    ben.composer.press_sequentially("re")
    expect(typing).to_be_visible()
    text = token("hello there")
    ben.composer.fill(text)
    ben.private.add(text)
    ben.page.get_by_role("button", name="Send").click()
    ana.expect_message(text, "Ben")
    expect(typing).to_be_hidden()
    expect(ana.page).to_have_title(re.compile(r"^\(1\) "))
    expect(ana.log.get_by_test_id("system-line").filter(has_text="didn't reach you")).to_have_count(0)
    expect(ana.log.get_by_test_id("system-line").filter(has_text="changed on the way")).to_have_count(0)


def test_me_actions_read_as_actions(people, app_server):
    """"/me waves" shows as "* Ana waves" on both screens, sent as a text with me: true."""
    room = Room.from_api(app_server)
    ana, ben = people("Ana"), people("Ben")
    ana.join(room.link, "Ana")
    ben.join(room.link, "Ben")
    action = token("waves")
    ana.private.add(action)
    ana.composer.fill(f"/me {action}")
    ana.page.get_by_role("button", name="Send").click()
    expect(ana.own(action).locator(".msg__text")).to_have_text(f"Ana {action}")
    bubble = ben.message(action)
    expect(bubble.locator(".msg__text")).to_have_text(f"Ana {action}")
    expect(bubble).to_have_class(re.compile(r"msg--me"))
    assert "/me" not in ben.log.text_content()
    shot(ben.page, "14-me-action")


def test_escape_closes_what_is_open_and_the_phone_sheet_has_a_close_and_an_outside_tap(people):
    """Burn confirmation, the Alerts menu and the people sheet close with Escape; the sheet also with Close and a tap outside."""
    room, ana, ben = creator_and_guest(people, phone=True)
    ana.page.get_by_role("button", name="Burn now").click()
    expect(ana.page.get_by_test_id("burn-confirm")).to_be_visible()
    ana.page.keyboard.press("Escape")
    expect(ana.page.get_by_test_id("burn-confirm")).to_be_hidden()
    expect(ana.page.get_by_role("button", name="Burn now")).to_be_focused()
    ana.page.get_by_role("button", name="Alerts").click()
    expect(ana.page.get_by_test_id("alerts-menu")).to_be_visible()
    ana.page.keyboard.press("Escape")
    expect(ana.page.get_by_test_id("alerts-menu")).to_be_hidden()

    panel = ben.page.get_by_test_id("people-panel")
    toggle = ben.page.get_by_role("button", name="People")
    toggle.click()
    expect(panel).to_have_class(re.compile(r"is-open"))
    shot(ben.page, "14-people-sheet-phone")
    ben.page.get_by_test_id("people-close").click()
    expect(panel).not_to_have_class(re.compile(r"is-open"))
    toggle.click()
    expect(panel).to_have_class(re.compile(r"is-open"))
    ben.log.click(position={"x": 20, "y": 500})
    expect(panel).not_to_have_class(re.compile(r"is-open"))
    toggle.click()
    ben.page.keyboard.press("Escape")
    expect(panel).not_to_have_class(re.compile(r"is-open"))
    ben.page.get_by_role("button", name="Alerts").click()
    expect(ben.page.get_by_test_id("alerts-menu")).to_be_in_viewport(ratio=1)
    shot(ben.page, "14-alerts-menu-phone")
    ben.page.keyboard.press("Escape")
    expect(ben.page.get_by_test_id("alerts-menu")).to_be_hidden()
    expect(ana.page.get_by_test_id("burn-screen")).to_be_hidden()  # Escape never burned anything


def test_the_name_field_counts_and_stops_at_32(people, app_server):
    """The counter follows the typing; more than 32 characters can't be typed."""
    room = Room.from_api(app_server)
    ben = people("Ben")
    ben.open(room.link)
    field = ben.page.get_by_role("textbox", name="Your name")
    field.fill("Benjamin")
    expect(ben.page.get_by_test_id("name-count")).to_have_text("8/32")
    field.fill("")
    field.press_sequentially("x" * 40)
    expect(field).to_have_value("x" * 32)
    expect(ben.page.get_by_test_id("name-count")).to_have_text("32/32")


def test_a_pin_that_isnt_pin_shaped_costs_no_attempt(people):
    """"hello" is refused on the page (no admin_auth sent); the next real try still has all its attempts."""
    room, ana, ben = creator_and_guest(people)
    ben.page.get_by_role("button", name="I'm the admin").click()
    pin_box = ben.page.get_by_label("Admin PIN")
    pin_box.fill("hello")
    ben.page.get_by_role("button", name="Claim").click()
    expect(ben.page.get_by_test_id("admin-claim-error")).to_contain_text("A PIN has 8 letters and digits")
    assert ben.events("sent", "admin_auth") == []
    pin_box.fill("ABCD-2345" if room.pin != "ABCD-2345" else "ABCD-2346")
    ben.page.get_by_role("button", name="Claim").click()
    expect(ben.page.get_by_test_id("admin-claim-error")).to_have_text("Wrong PIN - 2 attempts left")

    desk = people("Desk")
    desk.open(f"{room.path}/admin")
    desk.page.get_by_label("PIN").fill("hello")
    desk.page.get_by_role("button", name="Continue").click()
    expect(desk.page.get_by_test_id("pin-error")).to_contain_text("A PIN has 8 letters and digits")
    assert desk.events("sent", "admin_auth") == []


def test_one_colour_per_person_for_name_and_avatar_and_never_shared(people, app_server):
    """Three people: three different colours, each the same on the message name and the avatar."""
    room = Room.from_api(app_server)
    trio = [people(name) for name in ("Ana", "Ben", "Cy")]
    for person in trio:
        person.join(room.link, person.label)
    said = {person.label: token(f"hi from {person.label}") for person in trio[1:]}
    for person in trio[1:]:
        person.send(said[person.label])
    ana = trio[0]
    for person in trio[1:]:
        ana.expect_message(said[person.label], person.label)
    hues = ana.page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('[data-testid=person]')]
        .map((li) => [li.querySelector('.person__name').textContent, li.style.getPropertyValue('--hue')]))""")
    assert len(set(hues.values())) == 3, hues
    for person in trio[1:]:
        bubble_hue = ana.message(said[person.label]).first.evaluate("(el) => el.style.getPropertyValue('--hue')")
        assert bubble_hue == hues[person.label]


def test_kick_and_lock_the_room_keeps_the_kicked_out(people):
    """The admin's "Kick and lock the room": Ben is removed and his link now meets a locked room."""
    room, ana, ben = creator_and_guest(people)
    entry = ana.page.get_by_role("listitem").filter(has_text="Ben")
    expect(entry.get_by_role("button", name="Kick", exact=True)).to_be_visible()
    shot(ana.page, "14-kick-and-lock")
    entry.get_by_role("button", name="Kick and lock").click()
    expect(ben.page.get_by_test_id("removed-screen")).to_be_visible()
    expect(ana.page.get_by_test_id("lock-badge")).to_be_visible()
    expect(ana.system_line("Ben was removed by the admin")).to_have_count(1)
    ben.open(room.link)
    expect(ben.page.get_by_test_id("join-button")).to_have_text("Locked")


def test_the_creator_is_welcomed_as_the_creator_and_a_burned_room_says_time_ran_out(people, app_server):
    """From the home page the join card greets the creator; at zero the end screen says why it burned."""
    ana = people("Ana")
    ana.create_room(ttl_seconds=8)
    ana.page.get_by_role("button", name="Enter room").click()
    expect(ana.page.get_by_role("heading", name="Your room is ready")).to_be_visible()
    expect(ana.page.get_by_text("You created this room, so you are its admin.")).to_be_visible()
    ana.join_as("Ana")
    expect(ana.page.get_by_role("heading", name="Room burned")).to_be_visible(timeout=20_000)
    expect(ana.page.get_by_test_id("burn-screen")).to_contain_text("Time ran out")
    shot(ana.page, "14-burned-time-ran-out")


def test_escape_backs_out_of_the_burn_confirmation_on_the_admin_page(people):
    """The admin page's "Burn now" asks first; Escape answers no."""
    room, ana, ben = creator_and_guest(people)
    desk = people("Desk")
    desk.open(f"{room.path}/admin")
    desk.page.get_by_label("PIN").fill(room.pin)
    desk.page.get_by_role("button", name="Continue").click()
    desk.page.get_by_role("button", name="Burn now").click()
    expect(desk.page.get_by_test_id("burn-confirm")).to_be_visible()
    desk.page.keyboard.press("Escape")
    expect(desk.page.get_by_test_id("burn-confirm")).to_be_hidden()
    expect(ben.composer).to_be_editable()


def test_a_message_over_the_limit_is_said_in_plain_words(people, app_server):
    """No "N bytes left" jargon while writing; past 4,096 bytes: "Message too long (4,096 bytes max)"."""
    room = Room.from_api(app_server)
    ana = people("Ana")
    ana.join(room.link, "Ana")
    ana.composer.fill("short")
    expect(ana.page.get_by_test_id("byte-counter")).to_have_text("")
    ana.composer.fill("x" * 4100)
    expect(ana.page.get_by_test_id("composer-status")).to_contain_text("Message too long (4,096 bytes max)")
    expect(ana.page.get_by_test_id("byte-counter")).to_have_text("4 bytes over")
    expect(ana.page.get_by_role("button", name="Send")).to_be_visible()
