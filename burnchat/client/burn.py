"""The end of a full-screen chat: the fire (for a burn), then a clean terminal and one line.

The chat ran on the alternate screen, so the terminal's scrollback never held it; this
draws the fire there too, erases it, leaves, and prints one line on the ordinary screen.
Terminals without an alternate screen (the Linux console) are cleared by the same erase.
"""

import os
import random
import time

ENTER_ALT, LEAVE_ALT = "\x1b[?1049h", "\x1b[?1049l"
HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"
HOME_AND_ERASE = "\x1b[H\x1b[2J"
RESET = "\x1b[0m"
FRAMES = 24
FRAME_SECONDS = 0.05  # about 1.2 s of fire
HEAT_CHARS = " .:*sS#$@"
HEAT_COLOURS = (16, 52, 88, 124, 160, 196, 202, 208, 214, 220, 226, 229, 231)  # black, reds, orange, yellow, white
CAPTION = " Burning... "


def animation_wanted(no_animation=False, environ=os.environ):
    """False with --no-animation, NO_COLOR (any value) or a dumb terminal."""
    return not (no_animation or "NO_COLOR" in environ or environ.get("TERM", "dumb") in ("dumb", ""))


def fire_frames(width, height, frames=FRAMES, rng=None):
    """Frames of a rising fire (a heat grid cooled as it climbs), each a list of rows of (heat 0..1, char)."""
    rng = rng or random.Random()
    heat = [[0.0] * width for _ in range(height)]
    for frame in range(frames):
        fuel = min(1.0, 0.4 + frame / (frames * 0.4))
        heat[-1] = [fuel * rng.uniform(0.7, 1.0) for _ in range(width)]
        cooling = 0.75 / max(1, height) * (1.3 - frame / frames)  # cools less as it goes on: the flames climb
        for row in range(height - 1):
            below = heat[row + 1]
            heat[row] = [
                max(0.0, (below[max(0, col - 1)] + below[col] * 2 + below[min(width - 1, col + 1)]) / 4
                    - rng.uniform(0, cooling * 2))
                for col in range(width)
            ]
        yield [[(value, HEAT_CHARS[min(len(HEAT_CHARS) - 1, int(value * len(HEAT_CHARS)))]) for value in row]
               for row in heat]


def render_frame(rows):
    """One frame as terminal text: 256-colour characters, the caption in the middle row."""
    out = [HOME_AND_ERASE]
    middle = len(rows) // 2
    for index, row in enumerate(rows):
        line = []
        for value, char in row:
            colour = HEAT_COLOURS[min(len(HEAT_COLOURS) - 1, int(value * len(HEAT_COLOURS)))]
            line.append(f"\x1b[38;5;{colour}m{char}")
        if index == middle and len(row) > len(CAPTION):
            start = (len(row) - len(CAPTION)) // 2
            line[start:start + len(CAPTION)] = [f"\x1b[1;38;5;231;48;5;88m{CAPTION}{RESET}"]
        out.append("".join(line) + RESET + ("\r\n" if index < len(rows) - 1 else ""))
    return "".join(out)


def play_fire(stream, columns, lines, sleep=time.sleep):
    """Draw the fire on the alternate screen, then erase it."""
    stream.write(ENTER_ALT + HIDE_CURSOR)
    for rows in fire_frames(columns, lines):
        stream.write(render_frame(rows))
        stream.flush()
        sleep(FRAME_SECONDS)
    stream.write(RESET + HOME_AND_ERASE)
    stream.flush()


def farewell(stream, line, fire=False, size=(80, 24)):
    """Leave nothing but `line`: the fire if asked, the alternate screen erased and left, then the line."""
    if fire:
        play_fire(stream, *size)
    # Erase before leaving: where the alternate screen is missing, this clears what the chat drew.
    stream.write(ENTER_ALT + RESET + HOME_AND_ERASE + LEAVE_ALT + SHOW_CURSOR)
    stream.write(line + "\n")
    stream.flush()
