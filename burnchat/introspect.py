"""Test-only introspection: is anything of a burned room still reachable in this process?

Off unless BURNCHAT_TEST_HOOKS=1 (tests/abuse/test_no_trace_memory.py turns it
on); a deployed server never registers it. When on, the Socket.IO event
`__introspect` takes `{"reversed": [text, ...]}`: the strings to look for
(a room ID, member IDs, ciphertexts...), each sent reversed so that the question
itself never holds the text it asks about. The hook runs the garbage collector
and answers how many live objects still reference a string or bytes containing
one of them, by type name, and how many green threads still hold one in a
frame (a countdown or key watchdog that has not ended). It answers counts and
type names only, and writes nothing to disk or to any log.

`__census` (bench/scenarios/leak.py) runs the garbage collector and answers how
many rooms the store holds and how many other sockets are connected: counts only.
"""

import gc
import sys
from collections import Counter

import greenlet
from flask import current_app, request

EVENT = "__introspect"
CENSUS_EVENT = "__census"


def install(socketio):
    """Register the `__introspect` and `__census` events (only ever called when test hooks are on)."""
    socketio.on_event(EVENT, _answer)
    socketio.on_event(CENSUS_EVENT, _census)


def _census(payload=None):
    """Ack with the live rooms and the other connected sockets, after a full collection
    (so the RSS read right after it holds no garbage)."""
    courier = current_app.extensions["burnchat"]
    gc.collect()
    others = len(courier.connections) - (request.sid in courier.connections)
    return {"ok": True, "rooms": len(courier.store), "connections": others}


def _answer(payload=None):
    """Ack with what still holds any of the (reversed) texts in `payload`."""
    texts = payload.get("reversed") if isinstance(payload, dict) else None
    if not isinstance(texts, list) or not all(isinstance(t, str) and len(t) >= 8 for t in texts):
        return {"ok": False, "code": "invalid", "error": "Send {\"reversed\": [text, ...]}."}
    needles = _Needles([t[::-1] for t in texts])
    gc.collect()
    holders = _holders(needles)
    return {"ok": True, "objects": sum(holders.values()), "holders": dict(holders),
            "tasks": _tasks(needles)}


class _Needles:
    """The texts searched for, as str and as UTF-8 bytes, kept out of the search itself."""

    def __init__(self, texts):
        self.texts = tuple(texts)
        self.raw = tuple(t.encode() for t in texts)
        self.own = {id(self), id(self.texts), id(self.raw), id(self.__dict__)}

    def found_in(self, value, depth=0):
        """True when `value` is, or is an untracked container of, text holding a needle.

        The garbage collector stops tracking tuples and dicts of plain values, so
        gc.get_objects() never lists them: their items are searched here instead.
        """
        if isinstance(value, str):
            return not any(value is t for t in self.texts) and any(t in value for t in self.texts)
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
            return not any(value is r for r in self.raw) and any(r in data for r in self.raw)
        if isinstance(value, (tuple, list, dict, set, frozenset)) and depth < 8 \
                and not gc.is_tracked(value) and id(value) not in self.own:
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            return any(self.found_in(item, depth + 1) for item in items)
        return False


def _holders(needles):
    """Type names of gc-tracked objects that reference a string holding a needle."""
    this_module = _answer.__code__.co_filename
    holders = Counter()
    for obj in gc.get_objects():
        if id(obj) in needles.own:
            continue
        if type(obj).__name__ == "frame" and obj.f_code.co_filename == this_module:
            continue
        if any(needles.found_in(ref) for ref in gc.get_referents(obj)):
            holders[type(obj).__name__] += 1
    return holders


def _tasks(needles):
    """Green threads (other than this one) whose frames still hold a needle."""
    me = greenlet.getcurrent()
    count = 0
    for obj in gc.get_objects():
        if isinstance(obj, greenlet.greenlet) and obj is not me and not obj.dead:
            if _frames_hold(obj.gr_frame, needles):
                count += 1
    return count


def _frames_hold(frame, needles):
    """True when any frame of a green thread's stack has a local holding a needle."""
    depth = 0
    while frame is not None and depth < sys.getrecursionlimit():
        if any(needles.found_in(value) for value in frame.f_locals.values()):
            return True
        frame, depth = frame.f_back, depth + 1
    return False
