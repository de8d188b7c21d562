"""How the full-screen terminal shows things: member colours, hostile text made harmless, the clock.

Pure functions, no terminal I/O; screen.py turns their output into prompt_toolkit fragments.
"""

import colorsys
import math
import time
import unicodedata

# Bidirectional controls can reorder what follows them on screen ("Trojan Source"); they are shown, never obeyed.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_BREAKS = frozenset("\n\u2028\u2029\x85\x0b\x0c")
TAB_CELLS = 4
WARN_SECONDS = 300  # the countdown turns amber at 5 min
ALERT_SECONDS = 60  # and red, counting every second, in the final minute


def hue_of(member_id):
    """The member's hue, exactly as static/js/chat-view.js hueOf() computes it (so both show one colour).

    JS iterates code points and takes charCodeAt(0) of each: the high surrogate beyond U+FFFF.
    """
    value = 0
    for ch in member_id or "":
        code = ord(ch)
        if code > 0xFFFF:
            code = 0xD800 + ((code - 0x10000) >> 10)
        value = (value * 31 + code) & 0xFFFFFFFF
    return value % 360


def name_colour(member_id):
    """`#rrggbb` of the browser's name colour, hsl(hue 85% 72%) (static/css/app.css `.msg__name`)."""
    red, green, blue = colorsys.hls_to_rgb(hue_of(member_id) / 360, 0.72, 0.85)
    return "#" + "".join(f"{round(part * 255):02x}" for part in (red, green, blue))


def shown_char(ch):
    """A visible stand-in for a control, bidi or other invisible formatting character, or None for ordinary text."""
    code = ord(ch)
    if code < 0x20:
        return chr(0x2400 + code)  # Unicode control pictures: ␛ for ESC, ␇ for BEL
    if code == 0x7F:
        return "\u2421"  # ␡
    if ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn"):
        return f"<U+{code:04X}>"
    return None


def neutralise(text):
    """Split text into lines of (escaped, piece) runs: line breaks become lines, dangerous characters visible runs.

    `escaped` is True for a stand-in (shown dimmed). Tabs become spaces; CRLF is one break.
    """
    lines, runs, plain = [], [], []

    def flush():
        if plain:
            runs.append((False, "".join(plain)))
            plain.clear()

    text = text.replace("\r\n", "\n")
    for ch in text:
        if ch in LINE_BREAKS:
            flush()
            lines.append(runs)
            runs = []
        elif ch == "\t":
            plain.append(" " * TAB_CELLS)
        else:
            stand_in = shown_char(ch)
            if stand_in is None:
                plain.append(ch)
            else:
                flush()
                runs.append((True, stand_in))
    flush()
    lines.append(runs)
    return lines


def one_line(text):
    """Text for a single line (names, command arguments): every break and control shown as its stand-in."""
    return "".join(shown_char(ch) or ch for ch in text)


def clock(at=None):
    """The local wall time `HH:MM` of a message."""
    return time.strftime("%H:%M", time.localtime(at))


def remaining_text(seconds):
    """The status bar's countdown: '2 h 05 min', '14 min', then every second in the final minute."""
    seconds = max(0, math.ceil(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds > ALERT_SECONDS:
        return f"{math.ceil(seconds / 60)} min"
    return f"{seconds} s"


def remaining_level(seconds):
    """'' while there is time, 'warn' from 5 min, 'alert' in the final minute."""
    if seconds <= ALERT_SECONDS:
        return "alert"
    return "warn" if seconds <= WARN_SECONDS else ""
