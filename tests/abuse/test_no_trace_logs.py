"""No trace in logs: a whole session leaves nothing about any room in the server's output.

ServerProcess captures the real server's stdout and stderr together; app.py's
Python logging writes to stderr, so log records are in the same capture. The
start-up line prints the server's own URL, never a client's address.
"""

import logging
import re
import socket

import pytest
import requests

from burnchat.config import MAX_FRAME_BYTES
from tests.abuse.helpers import join_payload
from tests.abuse.session import run_session
from tests.wire import Peer, b64u
from tests.pins import pin_auth


def hostile_extras(server, sockets):
    """Error paths: a locked-out PIN, malformed and oversize frames, frames that make the
    Engine.IO layer raise, a malformed HTTP request naming the room, a room that expires."""
    room = server.create_room(ttl_seconds=1)
    guesser = sockets.raw(server.url)
    answers = [guesser.call("admin_auth", pin_auth(room["room"], "2222-2222"))["code"]
               for _ in range(4)]
    assert answers[2:] == ["pin_locked_out"] * 2
    member = Peer(server.url)
    assert member.join(room["room"])["ok"]
    cut_short = guesser.next_id()
    guesser.send_text(f'42{cut_short}["join",{{"v":1,"room":"{room["room"]}"')
    assert guesser.read_ack(cut_short)["code"] == "invalid"
    guesser.send_text('42["join","' + room["room"] * (MAX_FRAME_BYTES // 22 + 1) + '"]')
    assert guesser.wait_closed()
    for not_a_packet in ("", "x" + room["room"]):  # Engine.IO raises on these, drops the socket
        crasher = sockets.raw(server.url)
        crasher.send_text(not_a_packet)
        assert crasher.wait_closed()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
        raw.sendall(f"BREW /r/{room['room']} HTTP/9\r\n\r\n".encode())
        raw.recv(1024)
    assert requests.get(f"{server.url}/r/{room['room']}/nope", timeout=5).status_code == 404
    assert member.wait_event("destroyed", timeout=5) == {"reason": "expired"}
    member.close()
    return [room["room"], room["pin"], room["pin"].replace("-", ""), member.member_id]


@pytest.mark.parametrize("async_mode", ["eventlet", "gevent"])
def test_a_full_session_leaves_nothing_in_the_output(fresh_server, sockets, async_mode):
    server = fresh_server({"BURNCHAT_ASYNC_MODE": async_mode})
    session, peers, admin = run_session(server)
    extra_secrets = hostile_extras(server, sockets)
    for peer in (*peers, admin):
        peer.close()
    server.stop()  # flush everything the process ever printed
    output = server.output()
    for secret in session.secrets() + extra_secrets:
        assert secret not in output
    # The start-up line names the server's own address, to click; after it no address at
    # all (every client here is 127.0.0.1), and errors are logged by their type alone.
    first, *rest = output.splitlines()
    assert first == f"Burn Chat on http://127.0.0.1:{server.port}"
    assert "127.0.0.1" not in "\n".join(rest) and "localhost" not in output
    assert all(re.fullmatch(r"ERROR [\w.]+: [\w.]+", line) for line in rest), output


def test_an_internal_error_is_logged_by_type_only(caplog):
    """A handler that blows up logs one line without the room, the member or the message."""
    from burnchat import create_app, socketio
    from burnchat.config import Config
    from burnchat.store import MemoryRoomStore

    class ExplodingStore(MemoryRoomStore):
        """A store that fails with the room ID in its error message."""

        def get(self, room_id):
            raise RuntimeError(f"storage failed for {room_id}")

        def edit(self, room_id):
            raise RuntimeError(f"storage failed for {room_id}")

    app = create_app(Config(async_mode="threading"), store=ExplodingStore())
    room_id = b64u(16)
    payload = join_payload(room_id)
    caplog.set_level(logging.DEBUG)
    client = socketio.test_client(app)
    ack = client.emit("join", payload, callback=True)
    assert ack == {"ok": False, "code": "internal", "error": "Something went wrong on the server."}
    page = app.test_client().get(f"/r/{room_id}")
    assert page.status_code == 500 and b"busy" in page.data.lower()
    assert client.emit("no_such_event", callback=True)["code"] == "unknown_event"  # still alive
    client.disconnect()
    logged = caplog.text
    assert "internal error in join handler: RuntimeError" in logged
    assert "internal error: RuntimeError" in logged
    for secret in (room_id, payload["member_id"], payload["enc_name"], "storage failed"):
        assert secret not in logged
