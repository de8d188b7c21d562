"""Engine.IO sessions: one that never connects to the namespace is closed; one address holds few."""

import time

import pytest
import websocket

from tests.abuse.rawsocket import RawSocket
from tests.server import wait_for


def test_a_session_that_never_sends_40_is_closed_after_the_deadline(fresh_server, sockets):
    server = fresh_server({"BURNCHAT_CONNECT_TIMEOUT_SECONDS": "1"})
    idle = [sockets.raw(server.url, connect=False) for _ in range(5)]  # they answer pings
    member = sockets.raw(server.url)  # sent 40 at once: it stays
    started = time.monotonic()
    assert all(sock.wait_closed(timeout=4) for sock in idle)
    assert 0.9 < time.monotonic() - started < 3.0
    assert member.call("no_such_event", {})["code"] == "unknown_event"


def test_one_address_holds_at_most_its_sessions(fresh_server, sockets):
    server = fresh_server({"BURNCHAT_SESSIONS_PER_ADDRESS": "4"})
    held = [sockets.raw(server.url) for _ in range(4)]
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        RawSocket(server.url)
    assert refused.value.status_code == 429
    held.pop().close()

    def admitted():
        try:
            held.append(sockets.raw(server.url))
            return True
        except websocket.WebSocketBadStatusException:
            return False
    wait_for(admitted, timeout=5, message="a session slot freed by a close")
    assert held[-1].connect_reply[0] == "40"
