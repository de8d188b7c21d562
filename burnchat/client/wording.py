"""What the terminal says (docs/PROTOCOL.md §5.3, §6.4-6.5): plain sentences, no I/O."""

import math
import unicodedata

FINAL_MINUTE_MARKS = (60, 30, 10, 5, 4, 3, 2, 1)
MISMATCH = "The members you see don't match what others see - someone may be in the middle"


def printable(text):
    """Text safe for one terminal line: control and line-separator characters shown escaped."""
    out = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def describe_remaining(seconds):
    """'2 h 05 min', '14 min' or '42 s' for the countdown lines."""
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds > 60:
        return f"{math.ceil(seconds / 60)} min"
    return f"{seconds} s"


def countdown_mark(seconds):
    """Which announcement a remaining time falls under: one per 15 min, per minute, then marks."""
    if seconds > 3600:
        return ("quarter", math.ceil(seconds / 900))
    if seconds > 60:
        return ("minute", math.ceil(seconds / 60))
    return ("final", min(mark for mark in FINAL_MINUTE_MARKS if seconds <= mark) if seconds > 0 else 0)


def notice_sentence(notice, name, other=None):
    """The chat line of a transcript notice; `name` is the member it is about, `other` the digest sender."""
    kind, count = notice["kind"], notice.get("count")
    if kind == "gap":
        return f"{count if count else 'Some'} message{'' if count == 1 else 's'} from {name} didn't reach you"
    if kind == "fork":
        return f"Messages from {name} were changed on the way"
    if kind == "equivocation":
        return f"You and {other} saw different messages from {name}"
    if kind == "forged_self":
        return f"{other} saw a message in your name you didn't send"
    if kind == "late":
        return f"The message from {name} above arrived late"
    if kind == "reorder":
        return f"The message from {name} above arrived after the replies to it"
    if kind == "unconfirmed":
        names = [printable(n) for n in notice.get("names") or [] if n]
        return f"Not heard from {', '.join(names) or 'someone'} under the new key - if this lasts, someone may be in the middle"
    if kind == "rekey_churn":
        return "The server keeps changing the room key for no reason"
    if kind == "two_keys":
        return (f"{name} and {other} handed out different keys for one epoch - the room is split, "
                "someone may be in the middle")
    return f"Something is off with the messages from {name} ({kind})"


def mismatch_sentence(detail, name_of):
    """The roster-mismatch warning with who differs; `name_of(member_id)` gives display names."""
    parts = []
    if detail.get("unseen"):
        parts.append(f"{len(detail['unseen'])} member(s) you don't see")
    if detail.get("left_out"):
        parts.append("left out: " + ", ".join(name_of(m) for m in detail["left_out"]))
    if detail.get("differs"):
        parts.append("keys or name differ: " + ", ".join(name_of(m) for m in detail["differs"]))
    return f"{MISMATCH} ({'; '.join(parts) or 'the commitment does not verify'})"
