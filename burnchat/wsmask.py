"""RFC 6455 unmasking as one big-integer XOR, installed on eventlet's WebSockets (transport.py).

eventlet's `RFC6455WebSocket._apply_mask` builds one `bytes` object per byte in
a Python generator: 77 us for a 480-byte frame against 10 us here, and 19% of
the server's CPU in the 20x5 relay profile (docs/BENCHMARKS.md). eventlet has
no knob for it and no upstream issue about it that we could find; the same fix
went into other Python WebSocket libraries (python-websockets PR #1034, the
int.from_bytes XOR used here; wsproto issue #127 / PR #133, a translate table).
wsproto already has it, so the gevent path (simple-websocket on wsproto) needs
nothing. tests/unit/test_wsmask.py checks this is byte-identical to eventlet's
original, including the `offset` a frame read in several pieces continues at.
"""


def unmask(data, mask, length=None, offset=0):
    """`data[:length]` XOR the 4-byte `mask`, the mask starting at byte `offset` (eventlet's signature)."""
    if length is None:
        length = len(data)
    key = bytes(mask[(offset + i) % 4] for i in range(4))
    stream = (key * (length // 4 + 1))[:length]
    return (int.from_bytes(data[:length], "big") ^ int.from_bytes(stream, "big")).to_bytes(length, "big")
