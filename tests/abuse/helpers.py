"""Small builders shared by the abuse tests: valid payloads to start from, rooms with members."""

from tests.wire import Peer, announcement, b64u, envelope, key_delivery
from tests.pins import TEST_PIN, pin_auth

PROTOCOL_EVENTS = ("join", "resume", "key_held", "key_missing", "key_deliver", "message", "leave", "admin_auth",
                   "admin_kick", "admin_lock", "admin_extend", "admin_burn", "file_chunk", "file_cancel")

# Every code docs/PROTOCOL.md §7.3 lists; an ack with any other code is a bug.
KNOWN_CODES = {"invalid", "unknown_event", "no_room", "locked", "room_full", "member_id_taken",
               "not_member", "not_admin", "bad_pin", "pin_locked_out", "stale_epoch",
               "not_sender", "rate_limited", "busy", "already_joined", "max_ttl", "bad_version",
               "bad_resume", "file_busy", "too_big"}


def join_payload(room, member_id=None):
    """A valid `join` payload for `room`."""
    return {"v": 2, "room": room, **announcement(member_id)}


def valid_payloads(room, me, other, epoch=1):
    """One valid payload per client->server event (mutations of these must all be refused)."""
    return {
        "join": join_payload(room),
        "key_held": {"epoch": epoch},
        "resume": {"room": room, "member_id": other, "proof": b64u(16)},
        "key_missing": {"epoch": epoch},
        "key_deliver": key_delivery(epoch, me, [other]),
        "message": envelope(me, epoch, 1),
        "leave": {},
        "admin_auth": pin_auth(room, "ABCD-EFGH"),
        "admin_kick": {"member_id": other},
        "admin_lock": {"locked": True},
        "admin_extend": {"seconds": 300},
        "admin_burn": {},
        "file_chunk": {"transfer": b64u(16), "index": 0, "total": 1, "ct": b64u(1024 + 16)},
        "file_cancel": {"transfer": b64u(16)},
    }


def keyed_room(server, count, ttl=60, **peer_options):
    """Create a room and join `count` keyed Peers that all hold its key; returns (room, peers)."""
    room = server.create_room(ttl)
    peers = []
    for _ in range(count):
        peer = Peer(server.url, **peer_options)
        ack = peer.join(room["room"])
        assert ack["ok"], ack
        peers.append(peer)
    for peer in peers:
        peer.wait_keyed(epoch=ack["epoch"])  # every join starts an epoch: wait for the last one
    return room, peers


def assert_refusal(ack, code):
    """A refusal ack with `code` and a sentence for people."""
    assert ack["ok"] is False and ack["code"] == code, ack
    assert isinstance(ack["error"], str) and len(ack["error"]) > 10, ack


def exchange(sender, receiver, seq):
    """`sender` sends one message; `receiver` must get exactly that envelope."""
    ack, sent = sender.send(seq=seq)
    assert ack == {"ok": True}, ack
    assert receiver.wait_event("message", lambda env: env["seq"] == seq
                               and env["sender"] == sender.member_id) == sent


def burn(room, admin):
    """Burn `room` through `admin` (a Peer or RawSocket): members leave without a rekey race."""
    assert admin.call("admin_auth", pin_auth(room["room"], room.get("pin", TEST_PIN)))["ok"]
    assert admin.call("admin_burn", {})["ok"]
