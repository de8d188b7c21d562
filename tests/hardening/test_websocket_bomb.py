"""A fragmented-message bomb: one text frame with FIN=0, then continuation frames forever.

eventlet caps each frame but not the message they assemble; the server must close the
socket once the message outgrows the largest legal frame, and stay small meanwhile.
"""

import time

import pytest
import requests
import websocket

from tests.abuse.rawsocket import Closed
from tests.hardening.conftest import rss_kib

BOMB_BYTES = 16 * 1024 * 1024   # what we would stream if the server let us
CHUNK = 14 * 1024               # each frame is under the per-frame limit


def stream_continuations(sock, server):
    """Stream the bomb; returns (bytes sent before the server closed us or None, peak RSS growth KiB)."""
    before = peak = rss_kib(server)
    ws = sock.ws
    sent = 0
    try:
        ws.send_frame(websocket.ABNF.create_frame('42["message","', websocket.ABNF.OPCODE_TEXT, fin=0))
        while sent < BOMB_BYTES:
            ws.send_frame(websocket.ABNF.create_frame("x" * CHUNK, websocket.ABNF.OPCODE_CONT, fin=0))
            sent += CHUNK
            if sent % (1024 * 1024) < CHUNK:
                peak = max(peak, rss_kib(server))
    except (websocket.WebSocketException, OSError):
        return sent, max(peak, rss_kib(server)) - before
    return None, max(peak, rss_kib(server)) - before


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_the_assembled_message_is_capped_and_the_socket_closed(fresh_server, sockets, async_mode):
    server = fresh_server({"BURNCHAT_ASYNC_MODE": async_mode})
    requests.get(server.url + "/", timeout=5)  # warm: first-request allocations out of the way
    sockets.raw(server.url).close()
    time.sleep(0.2)  # let the warm-up's memory settle before the baseline reading
    bomber = sockets.raw(server.url)
    sent, growth_kib = stream_continuations(bomber, server)
    # The socket closes after MAX_FRAME_BYTES; what we managed to send is that plus the
    # kernel's socket buffers (a few MiB on loopback), never the whole bomb.
    assert sent is not None, "the server kept buffering continuation frames"
    assert growth_kib < 1024, f"RSS grew by {growth_kib} KiB"
    try:
        assert bomber.wait_closed(timeout=2)
    except Closed:
        pass
    # The process is fine for everyone else.
    started = time.monotonic()
    assert requests.get(server.url + "/", timeout=5).status_code == 200
    assert time.monotonic() - started < 1.0
    assert sockets.raw(server.url).connect_reply[0] == "40"
