"""Abuse limits: each one is hit on a real server, and the client sees a clear refusal.

Per-address limits are tested on a server that trusts one proxy, so each test
speaks from its own made-up client address (the X-Forwarded-For entry our proxy
would append) and tests cannot use up each other's allowance.
"""

import json
import time

import pytest
import requests

from burnchat.config import (BODY_SIZE_CLASSES, MAX_CHUNK_FRAME_BYTES, MAX_FRAME_BYTES,
                             MAX_MEMBERS_PER_ROOM)
from tests.abuse.helpers import (assert_refusal, burn, exchange, join_payload, keyed_room,
                                 valid_payloads)
from tests.server import ServerProcess, wait_for
from tests.wire import b64u, envelope, key_delivery
from tests.pins import TEST_PIN, pin_auth, room_request

LOW_LIMITS = {
    "BURNCHAT_TRUSTED_PROXIES": "1",
    "BURNCHAT_ROOMS_PER_MINUTE": "3",
    "BURNCHAT_CONNECTIONS_PER_MINUTE": "5",
    "BURNCHAT_PIN_ATTEMPTS_PER_MINUTE": "5",
}


@pytest.fixture(scope="module")
def proxied_server():
    """A server behind one (simulated) proxy, with low per-address limits."""
    server = ServerProcess(LOW_LIMITS)
    yield server
    server.stop()


def forwarded(address):
    """Headers our proxy would add for a client at `address`."""
    return {"X-Forwarded-For": address}


def create_room(server, address, ttl=60):
    """POST /api/rooms as a client at `address`; returns the response."""
    return requests.post(server.url + "/api/rooms", json=room_request(ttl),
                         headers=forwarded(address), timeout=5)


# ---- sizes ------------------------------------------------------------------------------

def test_largest_size_class_passes_and_anything_else_is_refused(abuse_server, sockets):
    room, (alice, bob) = keyed_room(abuse_server, 2)
    largest = envelope(alice.member_id, alice.epoch_held, 1, padded_bytes=BODY_SIZE_CLASSES[-1])
    assert alice.call("message", largest) == {"ok": True}
    assert bob.wait_event("message") == largest
    for size in (BODY_SIZE_CLASSES[-1] + 1, BODY_SIZE_CLASSES[0] + 1):  # too big; not padded
        ack = alice.call("message", envelope(alice.member_id, alice.epoch_held, 2, padded_bytes=size))
        assert_refusal(ack, "invalid")
        assert "ct" in ack["error"]  # says which field is wrong, nothing is cut silently
    exchange(bob, alice, 1)
    burn(room, sockets.raw(abuse_server.url))


def largest_legal_frames():
    """The biggest frames a correct client sends: a key delivery to a full room, a message
    of the largest size class."""
    epoch = 2**31
    creator, *others = [b64u(16) for _ in range(MAX_MEMBERS_PER_ROOM)]
    message = envelope(b64u(16), epoch, 2**53 - 1, BODY_SIZE_CLASSES[-1])
    return ["4299999" + json.dumps(["key_deliver", key_delivery(epoch, creator, others)]),
            "4299999" + json.dumps(["message", message])]


def padded_frame(ack_id, size):
    """A junk `message` event frame of exactly `size` bytes."""
    head, tail = f'42{ack_id}["message",{{"pad":"', '"}]'
    return head + "A" * (size - len(head) - len(tail)) + tail


def test_engineio_buffer_fits_the_largest_legal_frame_and_refuses_more(abuse_server, sockets):
    room, (alice, bob) = keyed_room(abuse_server, 2)
    mallory = sockets.raw(abuse_server.url)
    # The WebSocket cap is one file chunk's frame; every other event stays under MAX_FRAME_BYTES.
    assert mallory.handshake["maxPayload"] == MAX_CHUNK_FRAME_BYTES < 1_000_000 // 10
    assert all(len(frame) < MAX_FRAME_BYTES for frame in largest_legal_frames())
    joined = mallory.call("join", join_payload(room["room"]))
    assert joined["ok"]
    before = joined["epoch"]  # mallory's join started a new epoch
    alice.wait_keyed(epoch=before)
    exact = mallory.next_id()
    mallory.send_text(padded_frame(exact, MAX_FRAME_BYTES))
    assert_refusal(mallory.read_ack(exact), "invalid")  # at the limit: parsed, refused, still open
    mallory.send_text(padded_frame(mallory.next_id(), MAX_FRAME_BYTES + 1))
    assert mallory.wait_closed(), "an oversize frame must close that connection"
    # Only mallory is gone: the others rekey and keep talking.
    alice.wait_event("member_left", lambda d: d["reason"] == "disconnected")
    alice.wait_keyed(epoch=before + 1), bob.wait_keyed(epoch=before + 1)
    exchange(alice, bob, 1)
    burn(room, sockets.raw(abuse_server.url))


def test_a_full_room_refuses_the_51st_member(abuse_server, sockets):
    room = abuse_server.create_room()
    members = [sockets.raw(abuse_server.url) for _ in range(MAX_MEMBERS_PER_ROOM + 1)]
    for member in members[:MAX_MEMBERS_PER_ROOM]:
        assert member.call("join", join_payload(room["room"]))["ok"]
    ack = members[-1].call("join", join_payload(room["room"]))
    assert_refusal(ack, "room_full")
    assert "full" in ack["error"] and "50" in ack["error"]
    members[0].call("leave", {})
    assert members[-1].call("join", join_payload(room["room"]))["ok"]  # a seat freed up
    burn(room, sockets.raw(abuse_server.url))


# ---- rates ------------------------------------------------------------------------------

def test_message_flood_is_throttled_with_slow_down_then_recovers(abuse_server, sockets):
    room, (alice, bob) = keyed_room(abuse_server, 2)
    acks = [alice.send(seq=seq)[0] for seq in range(1, 13)]
    assert acks[:10] == [{"ok": True}] * 10  # a burst of 10 passes
    assert_refusal(acks[10], "rate_limited")
    assert "slow down" in acks[10]["error"].lower()
    exchange(bob, alice, 1)  # bob has his own bucket
    # Tokens come back at 2 per second: alice can send again soon, but not in a burst.
    seqs = iter(range(13, 1000))
    wait_for(lambda: alice.send(seq=next(seqs))[0]["ok"], timeout=3, interval=0.1,
             message="a refilled token")
    refilled_at = time.monotonic()
    again = alice.send(seq=next(seqs))[0]
    if time.monotonic() - refilled_at < 0.4:  # less than one token's worth of time passed
        assert again["code"] == "rate_limited"
    burn(room, sockets.raw(abuse_server.url))


def test_room_creation_is_limited_per_address(proxied_server):
    address = "198.51.100.10"
    assert [create_room(proxied_server, address).status_code for _ in range(3)] == [201] * 3
    refused = create_room(proxied_server, address)
    assert refused.status_code == 429
    assert "slow down" in refused.json()["error"].lower()
    # Fake entries put in front by the client do not make a new address...
    spoofed = create_room(proxied_server, "203.0.113.1, 192.0.2.1, " + address)
    assert spoofed.status_code == 429
    # ...but a different real client is not affected.
    assert create_room(proxied_server, "198.51.100.11").status_code == 201


def test_without_trusted_proxies_x_forwarded_for_is_ignored(fresh_server):
    server = fresh_server({"BURNCHAT_ROOMS_PER_MINUTE": "2"})
    statuses = [create_room(server, f"203.0.113.{n}").status_code for n in range(1, 4)]
    assert statuses == [201, 201, 429]


def test_connections_are_limited_per_address(proxied_server, sockets):
    address = "198.51.100.20"
    for _ in range(5):
        sock = sockets.raw(proxied_server.url, headers=forwarded(address))
        assert sock.connect_reply[0] == "40"
    refused = sockets.raw(proxied_server.url, headers=forwarded(address))
    kind, error = refused.connect_reply
    assert kind == "44" and error["data"]["code"] == "rate_limited"
    assert "slow down" in error["message"].lower()
    other = sockets.raw(proxied_server.url, headers=forwarded("198.51.100.21"))
    assert other.connect_reply[0] == "40"


def test_connection_refusal_reaches_a_socketio_client_as_code_and_sentence(proxied_server):
    import socketio
    errors = []
    for _ in range(6):
        client = socketio.Client(reconnection=False)
        client.on("connect_error", errors.append)
        try:
            client.connect(proxied_server.url, transports=["websocket"],
                           headers=forwarded("198.51.100.30"), wait_timeout=5)
        except socketio.exceptions.ConnectionError:
            pass
        client.disconnect()
    # socket.io's browser client turns this into Error(message) with .data = {code, error}.
    sentence = "Too many connections from your address. Slow down."
    assert errors == [{"message": sentence, "data": {"code": "rate_limited", "error": sentence}}]


def admin(server, sockets, address):
    """A raw socket from `address` (through the simulated proxy)."""
    sock = sockets.raw(server.url, headers=forwarded(address))
    assert sock.connect_reply[0] == "40"
    return sock


def test_three_wrong_pins_lock_that_address_out_of_that_room(proxied_server, sockets):
    address = "198.51.100.40"
    room = create_room(proxied_server, "198.51.100.41").json()
    other_room = create_room(proxied_server, "198.51.100.41").json()
    guesser = admin(proxied_server, sockets, address)
    wrong = pin_auth(room["room"], "2222-2222")
    first, second, third = (guesser.call("admin_auth", wrong) for _ in range(3))
    assert first["code"] == second["code"] == "bad_pin"
    assert "2 attempts left" in first["error"] and "1 attempt left" in second["error"]
    assert_refusal(third, "pin_locked_out")
    assert "10 minutes" in third["error"]
    # The lock is for that room only.
    assert guesser.call("admin_auth", pin_auth(other_room["room"], TEST_PIN))["ok"]
    # Even the right PIN is refused, and prepending fake X-Forwarded-For entries
    # (a new connection, same real address) does not dodge the lock...
    right = pin_auth(room["room"], TEST_PIN)
    dodger = admin(proxied_server, sockets, "203.0.113.5, " + address)
    assert dodger.call("admin_auth", right)["code"] == "pin_locked_out"
    # ...while another address is not affected.
    assert admin(proxied_server, sockets, "198.51.100.42").call("admin_auth", right)["ok"]


def test_pin_lockout_ignores_x_forwarded_for_without_trusted_proxies(fresh_server, sockets):
    server = fresh_server()
    room = server.create_room()
    wrong = pin_auth(room["room"], "2222-2222")
    for n in range(3):
        sock = sockets.raw(server.url, headers=forwarded(f"203.0.113.{n}"))
        sock.call("admin_auth", wrong)
    fresh_face = sockets.raw(server.url, headers=forwarded("203.0.113.99"))
    assert fresh_face.call("admin_auth", pin_auth(room["room"], TEST_PIN))["code"] \
        == "pin_locked_out"


def test_pin_attempts_are_rate_limited_per_address_across_rooms(proxied_server, sockets):
    address = "198.51.100.50"
    rooms = [create_room(proxied_server, "198.51.100.51").json() for _ in range(2)]
    guesser = admin(proxied_server, sockets, address)
    answers = [guesser.call("admin_auth", pin_auth(room["room"], "2222-2222"))["code"]
               for room in (rooms[0], rooms[0], rooms[0], rooms[1], rooms[1])]
    assert answers == ["bad_pin", "bad_pin", "pin_locked_out", "bad_pin", "bad_pin"]
    limited = guesser.call("admin_auth", pin_auth(rooms[1]["room"], TEST_PIN))
    assert_refusal(limited, "rate_limited")
    assert "slow down" in limited["error"].lower()


# ---- global caps ------------------------------------------------------------------------

def test_room_cap_answers_busy_and_the_home_page_says_so(fresh_server, sockets):
    server = fresh_server({"BURNCHAT_MAX_ROOMS": "2"})
    rooms = [server.create_room() for _ in range(2)]
    refused = requests.post(server.url + "/api/rooms", json=room_request(60), timeout=5)
    assert refused.status_code == 503 and "busy" in refused.json()["error"].lower()
    home = requests.get(server.url + "/", timeout=5)
    assert home.status_code == 503 and "busy" in home.text.lower()
    assert "Cache-Control" in home.headers and "<form" not in home.text
    burn(rooms[0], sockets.raw(server.url))
    assert requests.get(server.url + "/", timeout=5).status_code == 200
    assert server.create_room()["room"]


def test_connection_cap_answers_busy(fresh_server, sockets):
    server = fresh_server({"BURNCHAT_MAX_CONNECTIONS": "2"})
    first, second = sockets.raw(server.url), sockets.raw(server.url)
    refused = sockets.raw(server.url)
    kind, error = refused.connect_reply
    assert kind == "44" and error["data"]["code"] == "busy"
    assert "busy" in error["message"].lower()
    assert second.call("no_such_event")["code"] == "unknown_event"  # the admitted ones work
    first.close()
    wait_for(lambda: sockets.raw(server.url).connect_reply[0] == "40", message="a free slot")
    valid = valid_payloads(b64u(16), b64u(16), b64u(16))["join"]
    assert second.call("join", valid)["code"] == "no_room"
