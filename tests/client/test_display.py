"""What the full-screen client draws, without a terminal: colours, neutralised text, wrapping, the bar, commands."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from burnchat.client import burn, crypto
from burnchat.client.commands import parse_line
from burnchat.client.display import hue_of, name_colour, neutralise, one_line, remaining_level, remaining_text
from burnchat.client.screen import MessagePane, StatusBar, message_lines, wrap

ROOT = Path(__file__).resolve().parents[2]
CHAT_VIEW = ROOT / "static" / "js" / "chat-view.js"


def text_of(row):
    """The characters of one row of fragments."""
    return "".join(piece for _style, piece in row)


def test_hue_is_the_browsers():
    """hue_of runs the same arithmetic as chat-view.js hueOf (read from the file, run by node)."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    source = re.search(r"function hueOf\(memberId\) \{.*?\n\}", CHAT_VIEW.read_text(encoding="utf-8"), re.S)
    assert source, "chat-view.js no longer has hueOf(memberId): the terminal's colours must follow it"
    ids = [crypto.random_id() for _ in range(50)] + ["", "a", "Zz-_", "\U0001F525x", "ü" * 40]
    script = f"{source.group(0)}\nconsole.log(JSON.stringify({json.dumps(ids)}.map(hueOf)));"
    result = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30, check=True)
    assert json.loads(result.stdout) == [hue_of(member_id) for member_id in ids]


def test_name_colour_is_the_css_hsl():
    """hsl(hue 85% 72%), as app.css colours .msg__name (hue 0: chroma 0.476 over 0.482 gray)."""
    assert hue_of("") == 0 and name_colour("") == "#f47b7b"
    assert re.fullmatch(r"#[0-9a-f]{6}", name_colour(crypto.random_id()))


def test_neutralise_keeps_breaks_and_shows_controls_and_bidi():
    """Real line breaks become lines; ESC, BEL, DEL and bidi overrides become visible stand-ins."""
    lines = neutralise("one\r\ntwo\x1b[2J\x07\u202eevil\x7f\u2028three\tend")
    assert [[piece for _escaped, piece in runs] for runs in lines] == [
        ["one"], ["two", "␛", "[2J", "␇", "<U+202E>", "evil", "␡"], ["three    end"]]
    assert [escaped for escaped, _piece in lines[1]] == [False, True, False, True, True, False, True]
    assert neutralise("Björn 🔥 \u200d") == [[(False, "Björn 🔥 \u200d")]]  # emoji joiners are not controls
    assert one_line("a\nb\u2067") == "a␊b<U+2067>"


def test_message_lines_mark_own_and_actions():
    """`HH:MM name: text`, `HH:MM * name text`, `(you)` on one's own, and a continuation line per break."""
    mine = message_lines("Bob", "id-b", "hi\nthere", own=True, at=0)
    assert re.fullmatch(r"\d\d:\d\d Bob \(you\): hi", text_of(mine[0]))
    assert text_of(mine[1]) == "there"
    action = message_lines("Ann", "id-a", "waves", me=True, at=0)
    assert text_of(action[0]).endswith("* Ann waves")
    assert ("bold fg:" + name_colour("id-a"), "Ann") in action[0]


def test_wrap_breaks_at_spaces_with_a_hanging_indent():
    """Long lines break after a space, continuation rows start under the text; a long word is cut."""
    rows = [text_of(row) for row in wrap([("", "12:00 " + "word " * 12)], 30)]
    assert rows[0] == "12:00 word word word word "
    assert all(row.startswith("      word") for row in rows[1:]) and all(len(row) <= 30 for row in rows)
    assert [len(text_of(row)) for row in wrap([("", "x" * 50)], 30)] == [30, 26]
    assert [text_of(row) for row in wrap([("", "🔥" * 4)], 5)] == ["🔥🔥", "🔥🔥"]  # wide characters count two


def test_pane_stays_put_while_scrolled_up():
    """New rows below a scrolled-up reader do not move what they read; at the bottom they follow."""
    pane = MessagePane()
    for index in range(10):
        pane.add([[("", f"line {index}")]])
    content = pane.create_content(20, 4)
    assert [text_of(content.get_line(i)) for i in range(4)] == ["line 6", "line 7", "line 8", "line 9"]
    pane.page(1)
    pane.add([[("", "line 10")]])
    content = pane.create_content(20, 4)
    assert text_of(content.get_line(0)) == "line 3" and pane.unseen == 1
    pane.scroll(-100)
    content = pane.create_content(20, 4)
    assert text_of(content.get_line(3)) == "line 10" and pane.unseen == 0


def test_status_bar_levels_and_layout():
    """Amber under 5 min, red in the last minute; the safety code gets its own row when narrow."""
    clock = [0.0]
    bar = StatusBar(MessagePane(), now=lambda: clock[0])
    code = {"epoch": 3, "digits": " ".join(["12345"] * 8), "qr": "x"}
    bar.update({"deadline": 301.0, "locked": True, "count": 2, "code": code, "ready": True, "admin": True})
    assert ("class:bar", " Burns in 6 min ") in bar.fragments(200) and bar.height(200) == 1
    clock[0] = 2.0
    assert ("class:bar.warn", " Burns in 5 min ") in bar.fragments(200)
    clock[0] = 242.5
    assert ("class:bar.alert", " Burns in 59 s ") in bar.fragments(200)
    row = text_of(bar.fragments(200))
    assert "locked" in row and "2 people" in row and "admin" in row and "(epoch 3)" in row
    assert bar.height(80) == 2


@pytest.mark.parametrize("seconds, text, level", [
    (7300, "2 h 01 min", ""), (301, "6 min", ""), (300, "5 min", "warn"), (61, "2 min", "warn"),
    (60, "60 s", "alert"), (0.2, "1 s", "alert"), (0, "0 s", "alert"),
])
def test_remaining(seconds, text, level):
    """The countdown's words and colour level."""
    assert (remaining_text(seconds), remaining_level(seconds)) == (text, level)


@pytest.mark.parametrize("line, parsed", [
    ("hello", ("say", "hello", False)),
    ("/me waves", ("say", "waves", True)),
    ("//etc/passwd", ("say", "/etc/passwd", False)),
    ("/KICK Bob (2)", ("command", "kick", "Bob (2)")),
    ("/quit", ("command", "quit", "")),
    ("/me", ("command", "me", "")),
    ("   ", None),
])
def test_parse_line(line, parsed):
    """Commands, actions, the // escape and blank lines."""
    assert parse_line(line) == parsed


def test_animation_is_skipped_when_asked():
    """--no-animation, NO_COLOR (even empty) and a dumb terminal skip the fire."""
    assert burn.animation_wanted(False, {"TERM": "xterm-256color"})
    assert not burn.animation_wanted(True, {"TERM": "xterm-256color"})
    assert not burn.animation_wanted(False, {"TERM": "xterm", "NO_COLOR": ""})
    assert not burn.animation_wanted(False, {"TERM": "dumb"})


def test_farewell_erases_the_screen_then_prints_one_line():
    """Without the fire: the alternate screen is erased and left, the cursor shown, and one line printed."""
    import io
    stream = io.StringIO()
    burn.farewell(stream, "Room burned. Nothing of it is left on this screen.")
    written = stream.getvalue()
    assert written.index("\x1b[2J") < written.index("\x1b[?1049l") < written.index("Room burned.")
    assert written.endswith("Room burned. Nothing of it is left on this screen.\n")
    frames = list(burn.fire_frames(20, 6, frames=5))
    assert len(frames) == 5 and all(len(frame) == 6 and len(frame[0]) == 20 for frame in frames)
