"""The full-screen terminal chat (prompt_toolkit): message pane, status bar, input line.

The protocol work is TerminalChat's, unchanged, on a worker thread fed by the same
event queue; this module only replaces its output hooks. The input line belongs to
prompt_toolkit on the main thread, so incoming text never touches what is being typed.
Everything is drawn on the alternate screen and wiped at the end (burn.py).
"""

import shutil
import signal
import sys
import threading
import time

from prompt_toolkit.application import Application
from prompt_toolkit.filters import Condition
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.layout import HSplit, Layout, Window
from prompt_toolkit.layout.controls import FormattedTextControl, UIContent, UIControl
from prompt_toolkit.layout.dimension import Dimension
from prompt_toolkit.mouse_events import MouseEventType
from prompt_toolkit.styles import Style
from prompt_toolkit.utils import get_cwidth
from prompt_toolkit.widgets import TextArea

from . import burn
from .commands import parse_line
from .crypto import MAX_TEXT_BYTES
from .display import clock, name_colour, neutralise, one_line, remaining_level, remaining_text
from .terminal import EXIT_ERROR, EXIT_INTERRUPTED, TerminalChat

INDENT = 6  # continuation rows start under the text, past "HH:MM "
WHEEL_ROWS = 3
ANNOUNCED_MARKS = (300, 60)  # a system line when the countdown passes 5 min and 1 min
NOTHING_LEFT = "Nothing of it is left on this screen."
FAREWELLS = {
    "burned": f"Room burned. {NOTHING_LEFT}",
    "kicked": f"You were removed from the room by its admin. {NOTHING_LEFT}",
    "left": f"You left the room. {NOTHING_LEFT}",
    "lost": f"Lost the connection to the server. {NOTHING_LEFT}",
}

STYLE = Style.from_dict({
    "time": "#888888",
    "you": "#888888",
    "escaped": "reverse #aaaaaa",
    "sys": "#8a8a8a",
    "sys.ok": "#5fd75f",
    "sys.join": "#5fafd7",
    "sys.leave": "#8a8a8a italic",
    "sys.key": "#d7af5f",
    "sys.warn": "bold #ff5f5f",
    "me": "italic",
    "bar": "reverse",
    "bar.warn": "bold bg:#d78700 #000000",
    "bar.alert": "bold bg:#d70000 #ffffff",
    "bar.locked": "bg:#5f5f87 #ffffff",
    "bar.admin": "bold",
    "bar.scrolled": "bg:#d7d700 #000000",
    "prompt": "bold",
})


def wrap(fragments, width, indent=INDENT):
    """Rows of at most `width` cells, broken after a space where there is one; later rows start with `indent` spaces."""
    indent = indent if width > indent + 10 else 0
    lead = [("", " " * indent)] if indent else []
    rows, row, used = [], [], 0
    for style, text in fragments:
        for ch in text:
            cells = get_cwidth(ch)
            if used + cells > width and used > indent:
                start = len(lead) if rows else 0
                space = next((i for i in range(len(row) - 1, start, -1) if row[i][1] == " "), None)
                carry = row[space + 1:] if space is not None else []
                rows.append(row[:space + 1] if space is not None else row)
                row = lead + carry
                used = indent + sum(get_cwidth(piece) for _style, piece in carry)
            row.append((style, ch))
            used += cells
    rows.append(row)
    return rows


class MessagePane(UIControl):
    """The scrollable log of messages and system lines; it draws only the rows that fit, newest at the bottom."""

    def __init__(self, invalidate=lambda: None):
        """Start empty; `invalidate()` asks for a redraw after scrolling."""
        self.items = []  # each a list of logical lines, each a list of (style, text)
        self.offset = 0  # rows scrolled up from the bottom
        self.unseen = 0  # rows that arrived while scrolled up
        self.height = 1
        self._rows, self._width = [], None
        self._invalidate = invalidate

    def add(self, lines):
        """Append one item (its logical lines); a reader scrolled up stays where they are."""
        self.items.append(lines)
        if self._width is not None:
            added = self._wrap_item(lines, self._width)
            self._rows.extend(added)
            if self.offset:
                self.offset += len(added)
                self.unseen += len(added)

    def clear(self):
        """Forget every item (/clear, and before the burn)."""
        self.items, self._rows, self._width = [], [], None
        self.offset = self.unseen = 0

    def _wrap_item(self, lines, width):
        """The rows of one item at `width`."""
        rows = []
        for index, line in enumerate(lines):
            rows += wrap(line if index == 0 else [("", " " * INDENT), *line], width)
        return rows

    def rows(self, width):
        """Every row at `width` (re-wrapped only when the width changes)."""
        if width != self._width:
            self._width, self._rows = width, []
            for lines in self.items:
                self._rows += self._wrap_item(lines, width)
        return self._rows

    def create_content(self, width, height):
        """The rows that fit, bottom-aligned, `offset` rows up from the newest."""
        rows = self.rows(width)
        self.height = height
        self.offset = max(0, min(self.offset, len(rows) - height))
        if not self.offset:
            self.unseen = 0
        end = len(rows) - self.offset
        visible = rows[max(0, end - height):end]
        visible = [[]] * (height - len(visible)) + visible
        return UIContent(get_line=lambda index: visible[index], line_count=len(visible), show_cursor=False)

    def scroll(self, rows):
        """Scroll up (positive) or down (negative) by `rows`."""
        self.offset = max(0, self.offset + rows)
        self._invalidate()

    def page(self, direction):
        """PageUp (1) or PageDown (-1): a screenful less one row of overlap."""
        self.scroll(direction * max(1, self.height - 1))

    def mouse_handler(self, mouse_event):
        """The mouse wheel scrolls."""
        if mouse_event.event_type == MouseEventType.SCROLL_UP:
            self.scroll(WHEEL_ROWS)
        elif mouse_event.event_type == MouseEventType.SCROLL_DOWN:
            self.scroll(-WHEEL_ROWS)
        else:
            return NotImplemented
        return None

    def is_focusable(self):
        """The input line keeps the focus."""
        return False


def message_lines(name, member_id, text, me=False, own=False, at=None):
    """A message as logical lines: `HH:MM name: text` (or `HH:MM * name text`), hostile text neutralised."""
    name_style = f"bold fg:{name_colour(member_id)}"
    head = [("class:time", f"{clock(at)} ")]
    if me:
        head += [("class:me", "* "), (name_style, one_line(name))]
    else:
        head += [(name_style, one_line(name))]
    if own:
        head.append(("class:you", " (you)"))
    head.append(("", " " if me else ": "))
    body_style = "class:me" if me else ""
    lines = [[(("class:escaped" if escaped else body_style), piece) for escaped, piece in runs]
             for runs in neutralise(text)]
    return [head + lines[0], *lines[1:]]


def system_lines(text, tone="", at=None):
    """A system line: `HH:MM -- text`, coloured by tone."""
    style = f"class:sys.{tone}" if tone else "class:sys"
    return [[("class:time", f"{clock(at)} "), (style, f"-- {one_line(text)}")]]


class StatusBar:
    """What the bar shows, from a snapshot the chat thread publishes (the session stays on that thread)."""

    def __init__(self, pane, now=time.monotonic):
        """Read scrolling from `pane`; `now` for the countdown."""
        self.pane = pane
        self.now = now
        self.state = {"deadline": None, "locked": False, "count": 1, "code": None, "ready": False, "admin": False,
                      "offline": False}

    def update(self, state):
        """Take a new snapshot."""
        self.state = state

    def seconds_left(self):
        """Seconds until the burn, or None before the first countdown."""
        deadline = self.state["deadline"]
        return None if deadline is None else max(0.0, deadline - self.now())

    def parts(self):
        """(first row, safety-code row) as fragment lists."""
        state, sep = self.state, ("class:bar", " | ")
        row = []
        left = self.seconds_left()
        if left is not None:
            level = remaining_level(left)
            row.append((f"class:bar.{level}" if level else "class:bar", f" Burns in {remaining_text(left)} "))
            row.append(sep)
        row.append(("class:bar.locked", " locked ") if state["locked"] else ("class:bar", " open "))
        row.append(sep)
        count = state["count"]
        row.append(("class:bar", f"{count} {'person' if count == 1 else 'people'}"))
        if state["admin"]:
            row += [sep, ("class:bar.admin", "admin")]
        if self.pane.offset:
            more = f" {self.pane.unseen} new rows below" if self.pane.unseen else ""
            row += [sep, ("class:bar.scrolled", f" scrolled up:{more} (PageDown) ")]
        code = state["code"]
        if state.get("offline"):
            safety = [("class:bar.alert", " Reconnecting... (what you write waits) ")]
        elif code is None or not state["ready"]:
            safety = [("class:bar", " Securing... (waiting for the room key) ")]
        else:
            safety = [("class:bar", f" Safety code {code['digits']} (epoch {code['epoch']}) ")]
        return row, safety

    def fragments(self, width):
        """One row when everything fits in `width`, else two."""
        row, safety = self.parts()
        if sum(get_cwidth(text) for _style, text in row + safety) + 3 <= width:
            return row + [("class:bar", " | ")] + safety
        return row + [("", "\n")] + safety

    def height(self, width):
        """Rows the bar needs at `width`."""
        return self.fragments(width).count(("", "\n")) + 1


class FullScreenChat(TerminalChat):
    """TerminalChat with a full screen: the chat thread calls the hooks below, the screen draws."""

    def __init__(self, link, name, animation=True, output=None, **kwargs):
        """Build the screen; nothing is drawn until run()."""
        super().__init__(link, name, out=sys.stdout, err=sys.stderr, stdin_fd=None, **kwargs)
        self.animation = animation
        self.stream = output or sys.stdout
        self.ending = None  # a FAREWELLS key once the chat ended in a known way
        self.was_in_room = False
        self.last_status = None
        self.deadline = None
        self.announced = set()
        self.screen_loop = None
        self.exit_code = EXIT_ERROR
        self.pane = MessagePane(invalidate=lambda: self.app.invalidate())
        self.bar = StatusBar(self.pane)
        self.app = self.build_app()

    # --- the screen ------------------------------------------------------------

    def build_app(self):
        """The layout and keys: message pane, status bar, a multi-line input line with history."""
        self.input = TextArea(
            multiline=True, wrap_lines=True, history=InMemoryHistory(), prompt=[("class:prompt", "> ")],
            height=Dimension(min=1, max=6), dont_extend_height=True, focus_on_click=True,
        )
        bar = Window(
            FormattedTextControl(lambda: self.bar.fragments(self.columns())), style="class:bar",
            height=lambda: Dimension.exact(self.bar.height(self.columns())),
        )
        keys = KeyBindings()
        keys.add("enter", eager=True)(lambda _event: self.submit())
        keys.add("escape", "enter")(lambda event: event.current_buffer.insert_text("\n"))
        keys.add("c-j")(lambda event: event.current_buffer.insert_text("\n"))
        keys.add("pageup")(lambda _event: self.pane.page(1))
        keys.add("pagedown")(lambda _event: self.pane.page(-1))
        keys.add("c-c")(lambda _event: self.interrupt())
        keys.add("c-d", filter=Condition(lambda: not self.input.text))(lambda _event: self.interrupt())
        layout = Layout(HSplit([Window(self.pane, wrap_lines=False), bar, self.input]), focused_element=self.input)
        return Application(layout=layout, key_bindings=keys, style=STYLE, full_screen=True, mouse_support=True,
                           refresh_interval=0.5, erase_when_done=True)

    def columns(self):
        """The terminal's width."""
        try:
            return self.app.output.get_size().columns
        except Exception:  # noqa: BLE001 - no terminal yet
            return 80

    def submit(self):
        """Enter: hand the typed text to the chat thread, remember it, clear the line, follow the newest."""
        buffer = self.input.buffer
        text = buffer.text
        parsed = parse_line(text)
        if parsed is not None and parsed[0] == "say" and len(parsed[1].encode("utf-8", "surrogatepass")) > MAX_TEXT_BYTES:
            self.pane.add(system_lines(f"Too long: {len(parsed[1].encode('utf-8', 'surrogatepass'))} bytes, the limit "
                                       f"is {MAX_TEXT_BYTES}. Shorten it to send (nothing was sent).", "warn"))
            return  # the text stays in the input line
        if text.strip():
            buffer.append_to_history()
            self.events.put(("line", text))
        buffer.reset()
        self.pane.offset = 0

    def interrupt(self):
        """Ctrl-C: leave cleanly; a second Ctrl-C stops at once."""
        if self.ending == "left":
            self.exit_code = EXIT_INTERRUPTED
            self.app.exit()
            return
        self.ending = "left"
        self.events.put(("interrupt", None))

    def post(self, function, *args):
        """Run `function(*args)` on the screen's thread and redraw."""
        if self.screen_loop is not None:
            self.screen_loop.call_soon_threadsafe(self._run_and_draw, function, args)

    def _run_and_draw(self, function, args):
        """The screen-thread side of post()."""
        function(*args)
        self.app.invalidate()

    # --- TerminalChat's output hooks (called on the chat thread) ----------------

    def status(self, text, tone=""):
        """A system line in the pane."""
        self.last_status = text
        self.post(self.pane.add, system_lines(text, tone, time.time()))

    def show_text(self, result):
        """Someone's verified message."""
        self.post(self.pane.add, message_lines(result["name"], result["member_id"], result["text"],
                                               me=bool(result.get("me")), at=time.time()))

    def show_own(self, text, me):
        """Our message, once the server took it."""
        name = self.session.display_name(self.session.member_id) or self.session.name
        self.post(self.pane.add, message_lines(name, self.session.member_id, text, me=me, own=True, at=time.time()))

    def show_safety_code(self):
        """A new epoch's code, once, in the pane (the bar keeps showing it; /safety has the QR text)."""
        code = self.session.safety_code()
        if code is not None and code != self.shown_code:
            self.shown_code = code
            self.status(f"Safety code (epoch {code['epoch']}): {code['digits']} - compare it with everyone",
                        tone="key")

    def clear_screen(self):
        """/clear."""
        self.post(self.pane.clear)

    def show_countdown(self, expires_at, now, force=False):
        """Move the bar's countdown; the pane only hears of the 5 min and 1 min marks."""
        self.expires_at = expires_at
        self.deadline = self.now() + (expires_at - now) / 1000
        self.room_changed()

    def room_changed(self):
        """Publish the bar's snapshot."""
        code = self.session.safety_code()
        self.post(self.bar.update, {
            "deadline": self.deadline, "locked": bool(self.locked), "count": len(self.session.members()),
            "code": code, "ready": self.session.ready, "admin": self.commands.admin,
            "offline": self.reconnect.offline,
        })

    def check_deadlines(self):
        """TerminalChat's timed work, plus the countdown's 5 min / 1 min lines."""
        super().check_deadlines()
        if self.deadline is not None:
            left = self.deadline - self.now()
            for mark in ANNOUNCED_MARKS:
                if 0 < left <= mark and mark not in self.announced and left > mark - 30:
                    self.announced.add(mark)
                    self.status(f"The room burns in {mark // 60} min", tone="warn")

    # --- how it ends -------------------------------------------------------------

    def on_destroyed(self, data):
        """The room burned (or expired): the fire, then nothing."""
        self.ending = "burned"
        super().on_destroyed(data)

    def on_kicked(self, data):
        """The admin removed us."""
        self.ending = "kicked"
        super().on_kicked(data)

    def quit(self):
        """/quit."""
        self.ending = "left"
        super().quit()

    def join(self):
        """Join (again, after a seat was lost); from then on an ending wipes a screen that held the room."""
        super().join()
        self.was_in_room = True

    def start_input(self):
        """Typed lines come from the input line (submit), not stdin."""

    def chat_thread(self):
        """Run the chat; then close the screen."""
        try:
            self.exit_code = TerminalChat.run(self)
        except Exception:  # noqa: BLE001 - never leave the screen up over a crash
            self.ending = self.ending or "lost"
            self.exit_code = EXIT_ERROR
        self.post(self.app.exit)

    def run(self):
        """Draw the screen, chat on a worker thread, then wipe the screen and print one line."""

        def started():
            import asyncio

            self.screen_loop = asyncio.get_running_loop()
            for number in (signal.SIGTERM, signal.SIGHUP):  # a closed window or `kill`: leave cleanly too
                self.screen_loop.add_signal_handler(number, self.interrupt)
            threading.Thread(target=self.chat_thread, name="burnchat-chat", daemon=True).start()

        try:
            self.app.run(pre_run=started, handle_sigint=False)
        finally:
            size = shutil.get_terminal_size()
            self.pane.clear()
            self.input.buffer.reset()
            self.input.buffer.history = InMemoryHistory()
            fire = self.ending == "burned" and self.animation
            line = FAREWELLS.get(self.ending) or self.last_status or "Closed."
            if self.ending is None and self.was_in_room:
                line = f"{line.rstrip('.')}. {NOTHING_LEFT}"
            burn.farewell(self.stream, line, fire=fire, size=(size.columns, size.lines))
        return self.exit_code
