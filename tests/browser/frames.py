"""Reading recorded Socket.IO frames: parse them, and look for text that must never be there."""

import json
import re

SOCKETIO_FRAME = re.compile(r"^4([23])(\d*)(\[.*\])$", re.DOTALL)  # 42[...] events, 43N[...] acks
LONG_ENOUGH = 16  # characters: a text this long never turns up in random base64 by chance


def parse_frame(text):
    """A Socket.IO frame as (kind, ack_id, payload list), kind "event" or "ack"; None for others."""
    if not isinstance(text, str):
        return None
    match = SOCKETIO_FRAME.match(text)
    if not match:
        return None
    kind = "event" if match.group(1) == "2" else "ack"
    return kind, match.group(2), json.loads(match.group(3))


def leaks(wire, texts):
    """The `texts` found in `wire`, as typed or JSON-escaped (ASCII-only JSON escapes non-ASCII).

    A short text (a name like "Ana") could turn up inside base64 by chance, so it
    counts only where no base64url character touches it on either side.
    """
    found = []
    for text in texts:
        for form in {text, json.dumps(text)[1:-1]}:
            if len(form) >= LONG_ENOUGH:
                hit = form in wire
            else:
                hit = re.search(rf"(?<![A-Za-z0-9_-]){re.escape(form)}(?![A-Za-z0-9_-])", wire)
            if hit:
                found.append(text)
                break
    return found
