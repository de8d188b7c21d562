"""Resume (§7.4) and acknowledged sending (§6.6) in the Python session, mirroring tests/js/sending.test.mjs."""

import random

import pytest

from burnchat.client import crypto
from burnchat.client.crypto import ProtocolError
from burnchat.client.session import RoomSession

from .roomsim import Room, room_key_events


def flush(session, others):
    """Send what `session` has, the server accepting each, to `others`; their open() results."""
    results = []
    while out := session.take_resendable():
        for sealed in out:
            session.sent(sealed)
            results += [other.open(sealed) for other in others]
    return results


def texts(results):
    return [r["text"] for r in results if r and "text" in r]


def notices(results):
    return [n for r in results if r for n in r.get("notices", [])]


def rekey(room, creator):
    """An honest rekey: everyone moves to a new epoch, `creator` keys all."""
    room.epoch += 1
    for session in room.sessions.values():
        session.on_rekey({"epoch": room.epoch, "creator": None, "passed_over": None})
    room.rekey(creator)


def acked_room(keyed=True):
    """Alice, Bob and Carol with acks, holding the current epoch (made by Alice) when `keyed`."""
    room = Room()
    for name in ("Alice", "Bob", "Carol"):
        session = RoomSession(room.room_id, room.secret, acks=True)
        room.epoch += 1
        ann = {k: v for k, v in session.start(name).items() if k in ("member_id", "ecdh_pub", "sig_pub", "enc_name", "mac")}
        session.joined({"epoch": room.epoch, "members": list(room.announcements.values())})
        for other in room.sessions.values():
            other.add_member(ann)
            other.on_rekey({"epoch": room.epoch, "creator": None, "passed_over": None})
        room.sessions[name], room.announcements[name] = session, ann
    if keyed:
        room.rekey("Alice")
    return room


@pytest.fixture
def room():
    """Alice, Bob and Carol with acks, keyed."""
    return acked_room()


def others(room, key):
    return [s for k, s in room.sessions.items() if k != key]


def test_resume_hash_is_sha256_of_the_proof_and_wipe_forgets_it(room):
    session = RoomSession(room.room_id, room.secret, acks=True)
    join = session.start("Dee")
    payload = session.resume_payload()
    assert sorted(payload) == ["heads", "member_id", "proof", "room"]
    assert payload["heads"] == []  # nobody heard from yet
    assert (payload["room"], payload["member_id"]) == (room.room_id, join["member_id"])
    assert join["resume_hash"] == crypto.b64u_encode(crypto.sha256(crypto.b64u_decode(payload["proof"], 16)))
    session.wipe()
    with pytest.raises(ProtocolError):
        session.resume_payload()


def test_away_members_stay_listed_and_keyed(room):
    alice, bob = room["Alice"], room["Bob"]
    assert alice.mark_away(bob.member_id)
    assert [m["away"] for m in alice.members()] == [False, True, False]
    delivery = alice.answer_key_request({"epoch": room.epoch + 1, "for": []})
    assert bob.member_id in delivery["roster"]
    assert alice.mark_back(bob.member_id) and not alice.mark_back(bob.member_id)
    assert [m["away"] for m in alice.members()] == [False, False, False]


def test_resumed_feeds_missed_messages_once_in_order_without_notices(room):
    alice, bob, carol = room["Alice"], room["Bob"], room["Carol"]
    alice.mark_away(bob.member_id)
    missed = []
    for text in ("one", "two"):
        alice.queue(text)
    while out := alice.take_resendable():
        for sealed in out:
            alice.sent(sealed)
            carol.open(sealed)
            missed.append(["message", sealed])
    # Carol leaves while Bob is away: member_left, rekey and Bob's room_key are kept for him.
    alice.remove_member(carol.member_id)
    room.epoch += 1
    alice.on_rekey({"epoch": room.epoch, "creator": None, "passed_over": None})
    missed += [["member_left", {"member_id": carol.member_id, "reason": "left"}],
               ["rekey", {"epoch": room.epoch, "creator": alice.member_id, "passed_over": None}]]
    delivery = alice.answer_key_request({"epoch": room.epoch, "for": [bob.member_id]})
    missed.append(["room_key", room_key_events(delivery, alice.member_id)[bob.member_id]])
    confirm = alice.take_resendable()[0]  # her first envelope of the new epoch (§5.5)
    alice.sent(confirm)
    missed.append(["message", confirm])
    alice.queue("three")
    sealed = alice.take_resendable()[0]
    alice.sent(sealed)
    missed.append(["message", sealed])
    ack = {"ok": True, "epoch": room.epoch, "held": room.epoch - 1, "missed": missed,
           "members": [{**room.announcements["Alice"], "held": room.epoch, "away": False}]}
    result = bob.resumed(ack)
    assert (result["joined"], result["left"], len(result["missed"])) == ([], [], len(missed))
    results = []
    for name, data in result["missed"]:
        if name == "message":
            results.append(bob.open(data))
        elif name == "member_left":
            bob.remove_member(data["member_id"])
        elif name == "rekey":
            bob.on_rekey(data)
        elif name == "room_key":
            bob.accept_room_key(data)
    assert texts(results) == ["one", "two", "three"]
    assert notices(results) == [] and bob.rejected_count == 0


def test_resumed_reconciles_what_no_missed_event_explains(room):
    bob, carol = room["Bob"], room["Carol"]
    ack = {"ok": True, "epoch": room.epoch + 2, "held": 1, "missed": [],
           "members": [{**room.announcements["Alice"], "held": 1, "away": True}]}
    result = bob.resumed(ack)
    assert (result["left"], result["joined"]) == ([carol.member_id], [])
    assert result["missed"] == [["rekey", {"epoch": room.epoch + 2, "creator": None, "passed_over": None}]]
    assert [(m["name"], m["away"]) for m in bob.members()] == [("Alice", True), ("Bob", False)]


def test_stale_epoch_text_is_resealed_under_the_new_epoch_once_without_notice(room):
    alice = room["Alice"]
    alice.queue("before")
    results = flush(alice, others(room, "Alice"))
    alice.queue("during the rekey")
    doomed = alice.take_resendable()[0]
    with pytest.raises(ProtocolError):
        alice.seal("one pending at a time")
    assert alice.refused(doomed, "stale_epoch")["state"] == "queued"
    assert alice.take_resendable() == []  # never again under the old key
    rekey(room, "Bob")
    results += flush(alice, others(room, "Alice"))
    assert texts(results) == ["before", "before", "during the rekey", "during the rekey"]
    assert notices(results) == [] and alice.pending() == []


def test_rate_limited_envelope_is_resent_identically(room):
    alice = room["Alice"]
    alice.queue("slow")
    first = alice.take_resendable()[0]
    assert alice.refused(first, "rate_limited")["state"] == "retry"
    alice.queue("next")
    again = alice.take_resendable()
    assert again == [first]
    alice.sent(first)
    results = [s.open(first) for s in others(room, "Alice")] + flush(alice, others(room, "Alice"))
    assert texts(results) == ["slow", "slow", "next", "next"] and notices(results) == []


def test_a_copy_that_arrived_before_the_drop_is_ignored(room):
    alice, bob = room["Alice"], room["Bob"]
    alice.queue("maybe")
    sealed = alice.take_resendable()[0]
    assert bob.open(sealed)["text"] == "maybe"
    alice.resumed({"ok": True, "epoch": room.epoch, "held": room.epoch, "missed": [],
                   "members": [room.announcements["Bob"], room.announcements["Carol"]]})
    assert alice.take_resendable() == [sealed]
    assert bob.open(sealed) == {"unknown": True, "duplicate": True, "notices": []}
    assert bob.rejected_count == 0


def test_offline_queue_goes_out_in_order_once_keyed():
    room = acked_room(keyed=False)
    alice = room["Alice"]
    ids = [alice.queue(t) for t in ("a", "b", "c")]
    assert [(p["local_id"], p["state"]) for p in alice.pending()] == [(i, "queued") for i in ids]
    assert alice.take_resendable() == []  # securing
    room.rekey("Bob")
    results = flush(alice, others(room, "Alice"))
    assert texts(results) == ["a", "a", "b", "b", "c", "c"]  # each to Bob and Carol, in order
    assert [r["out_of_order"] for r in results] == [False] * 6 and notices(results) == []


def test_pending_at_burn_and_refused_for_good_are_failed(room):
    alice = room["Alice"]
    alice.queue("doomed")
    sealed = alice.take_resendable()[0]
    assert alice.refused(sealed, "not_member") == {"local_id": "p1", "text": "doomed", "me": False,
                                                   "state": "failed", "code": "not_member"}
    alice.queue("in flight", me=True)
    alice.take_resendable()
    alice.queue("queued")
    assert alice.wipe() == [{"local_id": "p2", "text": "in flight", "me": True},
                            {"local_id": "p3", "text": "queued", "me": False}]
    assert alice.pending() == []


@pytest.mark.parametrize("seed", range(1, 9))
def test_property_random_acks_refusals_drops_and_rekeys(room, seed):
    """Every text reaches every honest receiver exactly once, in order, with zero notices."""
    rnd = random.Random(seed)
    keys = list(room.sessions)
    wrote = {k: [] for k in keys}
    got = {k: [] for k in keys}
    wire = {}
    results = []
    keyed = True

    def relay(sender_key, sealed):
        for k in keys:
            if k != sender_key:
                r = room[k].open(sealed)
                results.append(r)
                if r and "text" in r:
                    got[k].append((r["member_id"], r["text"]))

    def handle(k, sealed, fate):
        session = room[k]
        if sealed["epoch"] != room.epoch:
            session.refused(sealed, "stale_epoch")
        elif fate < 0.15:
            session.refused(sealed, "rate_limited")
        elif fate < 0.25:
            session.refused(sealed, "offline")
        elif fate < 0.35:
            relay(k, sealed)  # relayed, then the ack was lost: resume, send again
            session.resumed({"ok": True, "epoch": room.epoch, "held": room.epoch, "missed": [],
                             "members": [room.announcements[o] for o in keys if o != k]})
            again = session.take_resendable()
            assert again == [sealed]
            session.sent(sealed)
            relay(k, sealed)
        else:
            session.sent(sealed)
            relay(k, sealed)

    for step in range(40):
        k = rnd.choice(keys)
        roll = rnd.random()
        if roll < 0.3:
            room[k].queue(f"{seed}.{step}")
            wrote[k].append((room[k].member_id, f"{seed}.{step}"))
        elif roll < 0.55:
            if k not in wire:
                out = room[k].take_resendable()
                if out:
                    wire[k] = out[0]
        elif roll < 0.85:
            if k in wire:
                handle(k, wire.pop(k), rnd.random())
        elif roll < 0.93 and keyed:
            room.epoch += 1
            for session in room.sessions.values():
                session.on_rekey({"epoch": room.epoch, "creator": None, "passed_over": None})
            keyed = False
        elif not keyed:
            room.rekey(k)
            keyed = True
    for k, sealed in list(wire.items()):
        handle(k, sealed, 1.0)
    if not keyed:
        room.rekey(keys[0])
    for _ in range(3):
        for k in keys:
            while out := room[k].take_resendable():
                for sealed in out:
                    handle(k, sealed, 1.0)
    for k in keys:
        expected = [t for o in keys if o != k for t in wrote[o]]
        for o in keys:
            if o != k:
                sender = room[o].member_id
                assert [t for t in got[k] if t[0] == sender] == [t for t in expected if t[0] == sender]
        assert len(got[k]) == len(expected)
        assert room[k].pending() == [] and room[k].rejected_count == 0
    assert notices(results) == []


def test_resume_heads_name_the_last_envelope_accepted_from_each_other_member(room):
    """heads: [sender, epoch, seq] per other member heard from; never ourselves; sorted, at most 50."""
    alice, bob = room["Alice"], room["Bob"]
    bob.queue("hi")
    sealed = bob.take_resendable()[0]
    bob.sent(sealed)
    alice.open(sealed)
    heads = alice.resume_payload()["heads"]
    assert [bob.member_id, sealed["epoch"], sealed["seq"]] in heads
    assert all(head[0] != alice.member_id for head in heads)
    assert [h[0] for h in heads] == sorted(h[0] for h in heads) and len(heads) <= 50
