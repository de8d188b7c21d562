"""Shutdown: SIGTERM (a dyno restart) burns every room, every client hears it, the process exits."""

import signal
import time

import pytest

from tests.abuse.helpers import keyed_room
from tests.pins import pin_auth

EXIT_WITHIN_SECONDS = 3.5


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_sigterm_burns_every_room_tells_everyone_and_exits(fresh_server, sockets, async_mode):
    server = fresh_server({"BURNCHAT_ASYNC_MODE": async_mode})
    (first, first_peers), (second, second_peers) = keyed_room(server, 2), keyed_room(server, 3)
    watcher = sockets.peer(server.url)  # an admin page watching the first room
    assert watcher.call("admin_auth", pin_auth(first["room"], first["pin"]))["ok"]
    idle = sockets.raw(server.url)  # connected, in no room
    everyone = [*first_peers, *second_peers, watcher]

    sent_at = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    for peer in everyone:
        assert peer.wait_event("destroyed", timeout=EXIT_WITHIN_SECONDS) == {"reason": "shutdown"}
        assert peer.disconnected.wait(EXIT_WITHIN_SECONDS)
    assert idle.wait_closed(EXIT_WITHIN_SECONDS)
    assert server.process.wait(timeout=EXIT_WITHIN_SECONDS) == 0
    assert time.monotonic() - sent_at < EXIT_WITHIN_SECONDS
    for peer in everyone:
        peer.close()


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_sigterm_on_an_idle_server_exits_at_once(fresh_server, async_mode):
    # Nothing is scheduled (no room, no socket): the event loop sleeps for up to a
    # minute, and the signal alone must wake it.
    server = fresh_server({"BURNCHAT_ASYNC_MODE": async_mode})
    sent_at = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=10) == 0
    assert time.monotonic() - sent_at < 2.0  # not the minute the idle loop may sleep
