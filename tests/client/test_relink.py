"""Kick and change the link (§5.6) in the Python session, mirroring tests/js/relink.test.mjs."""

import pytest

from burnchat.client import crypto
from burnchat.client.crypto import ProtocolError
from burnchat.client.session import RoomSession

from .roomsim import room_key_events
from .test_sending import acked_room


def relink_epoch(room, by_key, creator_key, named=None):
    """The server's kick-and-relink rekey: a new epoch naming `by_key` (or per-session `named`), made by `creator_key`."""
    room.epoch += 1
    by = room[by_key].member_id
    for key, session in room.sessions.items():
        session.on_rekey({"epoch": room.epoch, "creator": room[creator_key].member_id, "passed_over": None,
                          "relink": (named or {}).get(key, by)})
    room.rekey(creator_key, confirm=False)


def flush_all(room):
    """Everyone sends what it has; -> {key: (own sent() results, others' open() results)}."""
    out = {}
    for key, session in room.sessions.items():
        own, heard = [], []
        while batch := session.take_resendable():
            for sealed in batch:
                own.append(session.sent(sealed))
                heard += [other.open(sealed) for k, other in room.sessions.items() if k != key]
        out[key] = (own, heard)
    return out


def test_the_admins_secret_reaches_the_others_who_reannounce():
    room = acked_room()
    secret, join_key_hash = room["Alice"].prepare_relink()
    assert crypto.derive_join_key(secret)[1] == join_key_hash
    carol = room.remove("Carol")
    relink_epoch(room, "Alice", "Alice")
    results = flush_all(room)
    adopted = [r["relink"] for r in results["Alice"][0] if r and "relink" in r]
    assert [a["secret"] for a in adopted] == [secret]
    bob_heard = [r for r in results["Alice"][1] if r and "relink" in r]
    assert len(bob_heard) == 1 and bob_heard[0]["relink"]["secret"] == secret and bob_heard[0]["name"] == "Alice"
    bob_again = {**room.announcements["Bob"], **bob_heard[0]["relink"]["announce"]}
    assert room["Alice"].member_announced(bob_again).name == "Bob"
    newcomer = RoomSession(room.room_id, secret)
    newcomer.start("Dee")
    assert newcomer.add_member(bob_again).name == "Bob"
    assert newcomer.add_member(room.announcements["Alice"]) is None  # the old link's announcement
    old = RoomSession(room.room_id, room.secret)
    old_join = old.start("Carol")
    minted = {k: old_join[k] for k in ("member_id", "ecdh_pub", "sig_pub", "enc_name", "mac")}
    assert room["Bob"].add_member(minted) is None, "the banned member's link mints nothing any more"
    assert carol.member_id not in [m["member_id"] for m in room["Bob"].members()]


def test_a_link_message_from_anyone_not_named_is_ignored():
    room = acked_room()
    room["Bob"].prepare_relink()
    relink_epoch(room, "Alice", "Alice", named={"Bob": room["Bob"].member_id})
    results = flush_all(room)
    assert any(r and "relink" in r for r in results["Bob"][0]), "Bob sealed and adopted its own"
    assert not any(r and "relink" in r for r in results["Bob"][1])
    assert room["Carol"].flagged_count == 0


def test_a_reannouncement_changing_a_name_is_flagged():
    room = acked_room()
    impostor = RoomSession(room.room_id, room.secret)
    forged = {k: v for k, v in impostor.start("Mallory").items() if k in ("ecdh_pub", "sig_pub", "enc_name", "mac")}
    forged["member_id"] = room["Bob"].member_id
    assert room["Alice"].member_announced(forged) is None
    assert room["Alice"].flagged_count == 1


def test_prepare_relink_needs_acks():
    session = RoomSession(crypto.random_id(), crypto.random_id())
    session.start("Ann")
    with pytest.raises(ProtocolError):
        session.prepare_relink()


def test_a_banned_member_seated_again_before_the_new_link_goes_out_never_gets_it():
    room = acked_room()
    secret, _ = room["Alice"].prepare_relink()
    carol = room.remove("Carol")
    cy2 = RoomSession(room.room_id, room.secret, acks=True)
    cy2_ann = {k: v for k, v in cy2.start("Cy2").items() if k in ("member_id", "ecdh_pub", "sig_pub", "enc_name", "mac")}
    room.epoch += 1
    for session in room.sessions.values():
        session.on_rekey({"epoch": room.epoch, "creator": room["Alice"].member_id, "passed_over": None,
                          "relink": room["Alice"].member_id})
    assert room["Alice"].add_member(cy2_ann) is None and room["Bob"].add_member(cy2_ann) is None
    delivery = room["Alice"].answer_key_request({"epoch": room.epoch, "for": [room["Bob"].member_id, cy2.member_id]})
    assert [b["to"] for b in delivery["blobs"]] == [room["Bob"].member_id]
    for to_id, event in room_key_events(delivery, room["Alice"].member_id).items():
        room.by_id(to_id).accept_room_key(event)
    results = flush_all(room)
    bob_heard = [r for r in results["Alice"][1] if r and "relink" in r]
    assert bob_heard and bob_heard[0]["relink"]["secret"] == secret and bob_heard[0]["relink"]["joined"] == []
    assert cy2.member_id not in [m["member_id"] for m in room["Bob"].members()]
    assert room["Bob"].flagged_count == 1
    assert carol.member_id not in [m["member_id"] for m in room["Alice"].members()]


def test_one_link_change_at_a_time():
    room = acked_room()
    room["Alice"].prepare_relink()
    with pytest.raises(ProtocolError) as refused:
        room["Alice"].prepare_relink()
    assert refused.value.code == "busy"
