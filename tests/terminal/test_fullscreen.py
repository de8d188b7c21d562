"""The full-screen client in a real terminal (tmux) against the real server, with a pipe-mode peer."""

import re
import secrets
import time

from tests.client.test_terminal_live import admin

NOTHING_LEFT = "Nothing of it is left on this screen."
SECURED = re.compile(r"-- Secured \(key epoch \d+\)")


def token(label):
    """A message text that appears nowhere else."""
    return f"{label}-{secrets.token_hex(4)}"


def pair(room, screens, chats, *args, height=30):
    """Alice on the full screen, Bob in pipe mode, both holding the same key: (alice, bob, pin)."""
    link, pin = room()
    alice = screens(link, "Alice", "--no-animation", *args, height=height)
    alice.wait(lambda screen: SECURED.search(screen))
    bob = chats(link, "Bob")
    bob.status("Secured")
    alice.wait("2 people")
    return alice, bob, pin


def assert_nothing_left(screen, *texts):
    """The whole scrollback holds none of `texts` (the talk, the names, the safety code)."""
    history = screen.capture(history=True)
    for text in texts:
        assert text not in history, f"{text!r} is still in the scrollback:\n{history}"
    return history


def test_half_typed_line_survives_incoming_messages(room, screens, chats):
    """Messages arrive above while a line is half typed; the line stays as it was, and Enter sends it whole."""
    alice, bob, _pin = pair(room, screens, chats)
    alice.type("half typed ü, still")
    first, second = token("first"), token("second " + "long " * 30)
    bob.say(first)
    bob.say(second)
    alice.wait(second.split()[-1])
    assert alice.input_row() == "> half typed ü, still"
    alice.type(" going")
    alice.keys("Enter")
    assert bob.wait_line("out", lambda line: True) == "Alice: half typed ü, still going"
    alice.wait("Alice (you): half typed ü, still going")
    assert alice.input_row() == ">"
    alice.type("x" * 4097)
    alice.keys("Enter")
    alice.wait("Too long: 4097 bytes, the limit is 4096")
    assert alice.input_row().endswith("xxxxxxxx")  # kept for shortening, not lost


def test_commands_are_handled_locally_and_never_sent(room, screens, chats):
    """/help, /who, /safety, unknown and admin-only commands stay on this screen; // sends one slash."""
    alice, bob, _pin = pair(room, screens, chats, height=60)
    for command in ("/help", "/who", "/safety", "/bogus thing", "/send ./file", "/lock", "/quit-not"):
        alice.line(command)
    screen = alice.wait("Unknown command /quit-not")
    assert "Commands (a line starting with / is never sent" in screen
    assert "2 in the room:" in screen and "Alice (you)  [" in screen and "Bob  [" in screen
    assert "Safety QR text:" in screen and "burnchat-safety:2:" in screen
    assert "Unknown command /bogus" in screen
    assert "Can't read ./file" in screen  # /send with no such file: nothing sent
    assert "Only the room's admin can do that" in screen
    slash = token("/slash")
    alice.line("/" + slash)
    # Lines go out in order: the first Bob receives is the slashed one, so no command went before it.
    assert bob.wait_line("out", lambda line: True) == f"Alice: {slash}"
    alice.line("/me waves")
    assert bob.wait_line("out", lambda line: True) == "Alice: /me waves"


def test_colours_timestamps_own_marks_and_hostile_text(room, screens, chats):
    """Names in colour, HH:MM on every line, own lines marked, line breaks kept, control and bidi shown safely."""
    alice, bob, _pin = pair(room, screens, chats)
    hostile = token("evil") + "\x1b[2J\x07 \u202egnp.exe"
    bob.say(hostile)
    alice.wait("<U+202E>gnp.exe")
    alice.type("top line")
    alice.keys("M-Enter")
    alice.type("bottom line")
    alice.keys("Enter")
    assert bob.wait_line("out", lambda line: True) == "Alice: top line\\x0abottom line"  # one message, a real newline
    screen = alice.wait("bottom line")
    rows = screen.splitlines()
    top = next(i for i, row in enumerate(rows) if "Alice (you): top line" in row)
    assert rows[top + 1].strip() == "bottom line"
    bob_row = next(row for row in rows if "Bob: evil-" in row)
    assert "␛[2J␇ <U+202E>gnp.exe" in bob_row  # the escape never reached the terminal
    now = time.strftime("%H:%M")
    assert re.match(r"\d\d:\d\d Bob: ", bob_row) and bob_row[:5] <= now
    coloured = alice.capture(escapes=True)
    name_colour = r"\x1b\[1m\x1b\[38;(?:5;\d+|2;\d+;\d+;\d+)m"
    assert re.search(name_colour + "Bob\x1b", coloured), coloured
    assert re.search(name_colour + "Alice\x1b", coloured)
    assert re.search(r"\x1b\[38;(?:5;\d+|2;\d+;\d+;\d+)m\d\d:\d\d ", coloured)  # the dimmed timestamp


def test_status_bar_counts_down_every_second_in_red(room, screens):
    """Amber under 5 min, red and per second in the final minute."""
    link, _pin = room(ttl_seconds=62)
    alice = screens(link, "Alice", "--no-animation")
    amber = alice.wait(lambda screen: re.search(r"\x1b\[[0-9;]*48;5;172[0-9;]*m Burns in 2 min", screen),
                       escapes=True)
    assert amber
    red = r"\x1b\[[0-9;]*48;5;160[0-9;]*m Burns in (\d+) s"
    first = int(re.search(red, alice.wait(lambda screen: re.search(red, screen), escapes=True)).group(1))
    later = alice.wait(lambda screen: (m := re.search(red, screen)) and int(m.group(1)) < first, escapes=True)
    assert int(re.search(red, later).group(1)) == first - 1 or int(re.search(red, later).group(1)) < first
    assert "1 person" in alice.capture() and " open " in alice.capture()


def test_burn_plays_the_fire_and_leaves_nothing_in_the_scrollback(room, screens, chats):
    """The admin burns with /burn and yes; afterwards the whole scrollback holds one line and no talk."""
    link, pin = room()
    alice = screens(link, "Alice")  # with the fire
    alice.wait(lambda screen: SECURED.search(screen))
    bob = chats(link, "Bob")
    bob.status("Secured")
    said, heard = token("said"), token("heard")
    alice.line(said)
    bob.wait_line("out", lambda line: said in line)
    bob.say(heard)
    alice.wait(heard)
    code = re.search(r"Safety code ([\d ]{47})", alice.capture()).group(1)
    alice.line(f"/admin {pin}")
    alice.wait("You hold the admin controls")
    alice.line("/burn")
    alice.wait("Type yes to burn")
    alice.line("no")
    alice.wait("-- Not burned")
    alice.line("/burn")
    alice.wait(lambda screen: screen.count("Type yes to burn") == 2)
    alice.line("yes")
    assert alice.exit_status() == 0
    assert bob.exit_code() == 0
    history = assert_nothing_left(alice, said, heard, code, "Bob", "Secured", "admin controls")
    assert f"Room burned. {NOTHING_LEFT}" in history


def test_quit_leaves_cleanly_and_wipes_the_screen(room, screens, chats):
    """/quit: the others see "left" (not a lost connection); the scrollback keeps only the goodbye."""
    alice, bob, _pin = pair(room, screens, chats)
    heard = token("heard")
    bob.say(heard)
    alice.wait(heard)
    alice.line("/quit")
    assert alice.exit_status() == 0
    bob.status("Alice left")
    history = assert_nothing_left(alice, heard, "Bob")
    assert f"You left the room. {NOTHING_LEFT}" in history


def test_ctrl_c_leaves_cleanly_and_wipes_the_screen(room, screens, chats):
    """Ctrl-C is a clean leave too (exit 130); nothing of the talk or the half-typed line stays."""
    alice, bob, _pin = pair(room, screens, chats)
    heard, draft = token("heard"), token("draft")
    bob.say(heard)
    alice.wait(heard)
    alice.type(draft)
    alice.keys("C-c")
    assert alice.exit_status() == 130
    bob.status("Alice left")
    history = assert_nothing_left(alice, heard, draft, "Bob")
    assert f"You left the room. {NOTHING_LEFT}" in history


def test_admin_kick_with_proof_and_the_kicked_screen_wiped(room, screens, chats, live_server):
    """/kick says Removing..., then Removed once our key shows it; a kicked full screen ends blank but one line."""
    link, pin = room()
    alice = screens(link, "Alice", "--no-animation")
    alice.wait(lambda screen: SECURED.search(screen))
    bob = chats(link, "Bob")
    bob.status("Secured")
    carol = screens(link, "Carol", "--no-animation")
    carol.wait("3 people")
    heard = token("heard")
    bob.say(heard)
    carol.wait(heard)
    alice.line(f"/admin {pin}")
    alice.wait("You hold the admin controls")
    alice.line("/kick bob")
    alice.wait("Removing Bob...")
    alice.wait("Removed Bob. The room switched to a new key without them.")
    assert bob.exit_code() == 3
    alice.line("/kick Carol")
    assert carol.exit_status() == 3
    alice.wait("Removed Carol.")
    history = assert_nothing_left(carol, heard, "Alice", "Bob")
    assert f"You were removed from the room by its admin. {NOTHING_LEFT}" in history


def test_scrollback_with_page_keys_and_the_mouse_wheel(room, screens, chats):
    """PageUp shows older lines and the bar says so; new lines don't pull the reader down; PageDown returns."""
    alice, bob, _pin = pair(room, screens, chats, height=10)  # 7 rows of messages
    oldest = token("oldest")
    bob.say(oldest)
    for index in range(7):  # within the server's burst of 10 messages
        bob.say(f"filler {index:02d}")
    alice.wait("filler 06")
    assert oldest not in alice.capture()
    alice.keys("PageUp")
    alice.wait(oldest)
    bob.say("while scrolled")
    alice.wait("new rows below")
    assert oldest in alice.capture() and "while scrolled" not in alice.capture()
    alice.keys("PageDown", "PageDown", "PageDown")
    alice.wait(lambda screen: "while scrolled" in screen and "scrolled up" not in screen)
    alice.type("\x1b[<64;5;5M")  # an SGR mouse wheel-up event, as the terminal reports it
    alice.wait("scrolled up")
    alice.type("\x1b[<65;5;5M\x1b[<65;5;5M")
    alice.wait(lambda screen: "scrolled up" not in screen)
    assert alice.input_row() == ">"
