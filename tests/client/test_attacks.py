"""Attacks by a malicious relay (or a colluding member) against RoomSession: issue #10's scenarios.

The relay is tests/client/roomsim.py driven selectively: it may hide or invent
announcements, ask two creators for one epoch, route blobs and envelopes to some
members only, drop or reorder messages. Every test asserts the exact code or
notice, so it fails if its check is removed.
"""

import pytest

from burnchat.client import crypto, envelope
from burnchat.client.crypto import P256_ORDER, ProtocolError
from burnchat.client.ratchet import Chain
from burnchat.client.session import DIGEST_GRACE_SECONDS, KICK_CONFIRM_SECONDS, RoomSession

from tests.client.roomsim import Clock, Room, announcement_of, room_key_events


def flip_bit(text, index=0):
    """The b64u text with one bit of its bytes flipped."""
    data = bytearray(crypto.b64u_decode(text))
    data[index] ^= 0x01
    return crypto.b64u_encode(bytes(data))


def resign(sealed, identity, room_id):
    """Re-sign an edited envelope with the sender's own key (an insider, or a check in isolation)."""
    e = sealed
    sig_input = envelope.message_sig_input(room_id, e["epoch"], e["sender"], e["seq"], e["prev"], e["iv"], e["ct"])
    return {**e, "sig": crypto.b64u_encode(crypto.sign(identity.sig, sig_input))}


def link_keys(room):
    """The link keys of a simulated room, as any holder of its link derives them."""
    return crypto.derive_link_keys(room.secret, room.room_id)


def code_of(action):
    """The ProtocolError `action` raises."""
    with pytest.raises(ProtocolError) as err:
        action()
    return err.value


def kinds(notices):
    """(kind, member_id, count, other_id) of each notice."""
    return [(n["kind"], n["member_id"], n["count"], n["other_id"]) for n in notices]


def rekey_all(room):
    """The relay announces a new epoch to everyone (rekey) without keying anyone yet."""
    room.epoch += 1
    for session in room.sessions.values():
        session.on_rekey({"epoch": room.epoch, "creator": None, "passed_over": None})


@pytest.fixture
def room():
    """Alice, Bob and Carol holding the current epoch, made by Alice."""
    room = Room(["Alice", "Bob", "Carol"])
    room.rekey("Alice")
    return room


# --- announcements -----------------------------------------------------------


def test_swapped_public_key_is_flagged(room):
    """A relay swapping Carol's ECDH key for its own is caught by the MAC."""
    forged = {**room.announcements["Carol"], "ecdh_pub": crypto.generate_identity().ecdh_pub}
    assert code_of(lambda: crypto.open_announcement(link_keys(room), room.room_id, forged)).code == "bad_mac"


def test_forged_mac_is_flagged(room):
    """Without S nobody can make a valid MAC."""
    forged = crypto.seal_announcement(crypto.derive_link_keys(crypto.random_id(), room.room_id), room.room_id,
                                      crypto.random_id(), crypto.generate_identity(), "Mallory")
    assert room["Bob"].add_member(forged) is None and room["Bob"].flagged_count == 1


def test_announcement_moved_to_another_member_id_is_flagged(room):
    """Re-attributing Carol's announcement to a new member ID breaks the MAC."""
    moved = {**room.announcements["Carol"], "member_id": crypto.random_id()}
    assert room["Bob"].add_member(moved) is None and room["Bob"].flagged_count == 1


def test_own_and_known_announcements_replayed_are_flagged(room):
    """Bob's own announcement, or Carol's again, cannot make a second 'Bob' or swap Carol's keys."""
    bob = room["Bob"]
    assert bob.add_member(room.announcements["Bob"]) is None
    assert bob.add_member(room.announcements["Carol"]) is None
    assert bob.flagged_count == 2
    assert code_of(lambda: bob.open(bob.seal("mine"))).code == "not_member"


# --- (2) phantom kick ----------------------------------------------------------


def test_phantom_kick_is_a_roster_mismatch_naming_the_kicked_member():
    """The relay tells only the admin that Mallory left and has Bob (who still sees her) key everyone."""
    clock = Clock()
    room = Room(["Alice", "Bob", "Mallory"], now=clock)
    room.rekey("Alice")
    alice, bob, mallory = room["Alice"], room["Bob"], room["Mallory"]
    alice.kick_started(mallory.member_id)
    alice.remove_member(mallory.member_id)  # member_left for the admin only
    rekey_all(room)
    events = room_key_events(room.request("Bob"), bob.member_id)
    mallory.accept_room_key(events[mallory.member_id])
    err = code_of(lambda: alice.accept_room_key(events[alice.member_id]))
    assert err.code == "roster_mismatch"
    assert err.detail == {"unseen": [mallory.member_id], "left_out": [], "differs": []}
    assert not alice.ready  # so Alice sends nothing Mallory could read
    assert alice.kick_status(mallory.member_id) == "removing"
    clock.advance(KICK_CONFIRM_SECONDS)
    assert alice.kick_status(mallory.member_id) == "unconfirmed"


# --- (3) keys bound to the roster -------------------------------------------


def test_ghost_keyed_by_one_member_is_unseen_by_the_others(room):
    """A link holder announced to Bob only: Bob's key includes it, Alice and Carol refuse naming it."""
    ghost_ann = announcement_of(RoomSession(room.room_id, room.secret).start("Ghost"))
    assert room["Bob"].add_member(ghost_ann) is not None
    rekey_all(room)
    events = room_key_events(room.request("Bob"), room["Bob"].member_id)
    for key in ("Alice", "Carol"):
        err = code_of(lambda key=key: room[key].accept_room_key(events[room[key].member_id]))
        assert err.code == "roster_mismatch"
        assert err.detail == {"unseen": [ghost_ann["member_id"]], "left_out": [], "differs": []}


def test_key_leaving_out_a_member_i_see_is_refused(room):
    """Told that Carol left, Bob keys only Alice; Alice, who sees Carol, refuses (left_out)."""
    room["Bob"].remove_member(room["Carol"].member_id)
    rekey_all(room)
    events = room_key_events(room.request("Bob"), room["Bob"].member_id)
    assert room["Carol"].member_id not in events
    err = code_of(lambda: room["Alice"].accept_room_key(events[room["Alice"].member_id]))
    assert err.code == "roster_mismatch"
    assert err.detail == {"unseen": [], "left_out": [room["Carol"].member_id], "differs": []}


def test_split_gives_two_codes_and_cross_half_messages_fail():
    """Two creators for one epoch, each half keyed by its own: codes differ, cross-half traffic is refused."""
    room = Room(["Alice", "Bob", "Carol", "Dave"])
    room.rekey("Alice")
    rekey_all(room)
    alice, bob, carol, dave = (room[k] for k in ("Alice", "Bob", "Carol", "Dave"))
    from_alice = room_key_events(room.request("Alice"), alice.member_id)
    from_carol = room_key_events(room.request("Carol"), carol.member_id)
    bob.accept_room_key(from_alice[bob.member_id])
    dave.accept_room_key(from_carol[dave.member_id])
    assert code_of(lambda: carol.accept_room_key(from_alice[carol.member_id])).code == "bad_epoch"  # one epoch, one key
    assert alice.epoch == carol.epoch == bob.epoch == dave.epoch
    assert alice.safety_code()["digits"] == bob.safety_code()["digits"]
    assert carol.safety_code()["digits"] == dave.safety_code()["digits"]
    assert alice.safety_code()["digits"] != carol.safety_code()["digits"]
    assert code_of(lambda: dave.open(bob.make_confirm())).code == "decrypt_failed"
    assert dave.rejected_count == 1


def test_name_swap_by_a_link_holder_differs(room):
    """A link holder re-seals Alice and Bob with swapped names for newcomer Dave: his key check names both."""
    alice, bob = room["Alice"], room["Bob"]
    keys = link_keys(room)
    swapped = {}
    for who, fake_name in (("Alice", "Bob"), ("Bob", "Alice")):
        ann = room.announcements[who]
        fake = crypto.seal_announcement(keys, room.room_id, ann["member_id"], room[who].identity, fake_name)
        swapped[who] = fake
    dave = RoomSession(room.room_id, room.secret)
    dave_ann = announcement_of(dave.start("Dave"))
    dave.joined({"epoch": room.epoch + 1, "members": [swapped["Alice"], swapped["Bob"], room.announcements["Carol"]]})
    for session in room.sessions.values():
        session.add_member(dave_ann)
    rekey_all(room)
    events = room_key_events(room.request("Alice"), alice.member_id)
    room["Bob"].accept_room_key(events[bob.member_id])
    err = code_of(lambda: dave.accept_room_key(events[dave.member_id]))
    assert err.code == "roster_mismatch"
    assert sorted(err.detail["differs"]) == sorted([alice.member_id, bob.member_id])
    assert err.detail["unseen"] == err.detail["left_out"] == []


# --- key blobs -----------------------------------------------------------------


def test_key_from_a_non_member_is_refused(room):
    """A relay-invented member (announcement flagged) cannot hand out keys."""
    rekey_all(room)
    stranger = {"epoch": room.epoch, "from": crypto.random_id(), "to": room["Bob"].member_id}
    assert code_of(lambda: room["Bob"].accept_room_key(stranger)).code == "not_member"


def test_key_blob_for_someone_else_is_refused(room):
    """A blob addressed to Carol, delivered to Bob, is refused."""
    rekey_all(room)
    events = room_key_events(room.request("Alice"), room["Alice"].member_id)
    assert code_of(lambda: room["Bob"].accept_room_key(events[room["Carol"].member_id])).code == "wrong_recipient"


def test_key_blob_signed_by_another_member_is_refused(room):
    """A blob whose signature is Carol's, not the named creator Alice's, is refused."""
    rekey_all(room)
    event = room_key_events(room.request("Alice"), room["Alice"].member_id)[room["Bob"].member_id]
    sig_input = crypto.label("burnchat/v2/key", room.room_id, event["epoch"], event["from"], event["to"],
                             event["wrapped"], event["commit_sig"])
    forged = {**event, "sig": crypto.b64u_encode(crypto.sign(room["Carol"].identity.sig, sig_input))}
    assert code_of(lambda: room["Bob"].accept_room_key(forged)).code == "bad_sig"
    assert room["Bob"].accept_room_key(event) == room.epoch  # the genuine one still works


def test_high_s_twin_of_a_key_blob_is_refused(room):
    """The (r, n-s) form of Alice's blob signature is refused (scenario 7)."""
    rekey_all(room)
    event = room_key_events(room.request("Alice"), room["Alice"].member_id)[room["Bob"].member_id]
    raw = crypto.b64u_decode(event["sig"])
    twin = raw[:32] + (P256_ORDER - int.from_bytes(raw[32:], "big")).to_bytes(32, "big")
    assert code_of(lambda: room["Bob"].accept_room_key({**event, "sig": crypto.b64u_encode(twin)})).code == "bad_sig"


def test_key_for_an_old_epoch_is_refused(room):
    """After moving on two epochs, a key made for the first of them is stale."""
    rekey_all(room)
    event = room_key_events(room.request("Alice"), room["Alice"].member_id)[room["Bob"].member_id]
    rekey_all(room)
    assert code_of(lambda: room["Bob"].accept_room_key(event)).code == "bad_epoch"


# --- messages ----------------------------------------------------------------


def test_forged_sender_is_refused(room):
    """Carol holds the epoch but cannot sign as Alice."""
    forged = resign({**room["Carol"].seal("I am Alice"), "sender": room["Alice"].member_id}, room["Carol"].identity,
                    room.room_id)
    assert code_of(lambda: room["Bob"].open(forged)).code == "bad_sig"


def test_high_s_twin_of_a_message_is_refused(room):
    """A relay re-encoding a signature as (r, n-s) makes a different, refused, envelope (scenario 7)."""
    sealed = room["Alice"].seal("malleable?")
    raw = crypto.b64u_decode(sealed["sig"])
    twin = raw[:32] + (P256_ORDER - int.from_bytes(raw[32:], "big")).to_bytes(32, "big")
    assert code_of(lambda: room["Bob"].open({**sealed, "sig": crypto.b64u_encode(twin)})).code == "bad_sig"
    assert room["Bob"].open(sealed)["text"] == "malleable?"


def test_message_from_a_stranger_is_refused(room):
    """An envelope whose sender is not an accepted member is refused before any crypto."""
    assert code_of(lambda: room["Bob"].open({**room["Alice"].seal("hi"), "sender": crypto.random_id()})).code == "not_member"


def test_replayed_message_is_refused(room):
    """The same envelope twice is shown once (an exact copy is ignored, §6.6); another one at its seq is a replay."""
    sealed = room["Alice"].seal("once")
    assert room["Bob"].open(sealed)["text"] == "once"
    assert room["Bob"].open(sealed) == {"unknown": True, "duplicate": True, "notices": []}
    assert room["Bob"].rejected_count == 0
    altered = resign({**sealed, "ct": flip_bit(sealed["ct"], 3)}, room["Alice"].identity, room.room_id)
    assert code_of(lambda: room["Bob"].open(altered)).code == "replay"
    assert room["Bob"].rejected_count == 1


def test_flipped_ciphertext_bit_is_refused(room):
    """A flipped bit breaks the signature; re-signed by the sender, it still fails AES-GCM."""
    sealed = room["Alice"].seal("intact")
    tampered = {**sealed, "ct": flip_bit(sealed["ct"], 3)}
    assert code_of(lambda: room["Bob"].open(tampered)).code == "bad_sig"
    resigned = resign(tampered, room["Alice"].identity, room.room_id)
    assert code_of(lambda: room["Bob"].open(resigned)).code == "decrypt_failed"
    assert room["Bob"].open(sealed)["text"] == "intact"  # the failures did not move the chain


def test_stale_epoch_message_after_a_removal_is_refused(room):
    """After Carol is removed and the room rekeys, a message of the old epoch is refused."""
    old = room["Alice"].seal("sent under the old epoch")
    room.remove("Carol")
    room.rekey("Alice")
    assert code_of(lambda: room["Bob"].open(old)).code == "bad_epoch"
    assert room["Bob"].open(room["Alice"].seal("new epoch"))["text"] == "new epoch"


def test_version_1_envelope_is_refused(room):
    """No downgrade: v 1 is bad_version."""
    assert code_of(lambda: room["Bob"].open({**room["Alice"].seal("v1?"), "v": 1})).code == "bad_version"


@pytest.mark.parametrize(
    "field, value",
    [("v", True), ("epoch", "1"), ("seq", 0), ("seq", 1.5), ("prev", "AAAA"), ("iv", "AAAA"),
     ("ct", "not b64u!"), ("ct", crypto.b64u_encode(bytes(300))), ("sig", "")],
)
def test_malformed_envelopes_are_refused(room, field, value):
    """Shapes (and the size classes) are checked before anything else looks at them."""
    with pytest.raises(ProtocolError):
        room["Bob"].open({**room["Alice"].seal("shape"), field: value})
    assert room["Bob"].rejected_count == 1


def test_ciphertexts_and_names_hide_lengths(room):
    """A one-letter and a 150-letter message, or two names, look alike on the wire (scenario 7)."""
    short, long = room["Alice"].seal("y"), room["Alice"].seal("n" * 150)
    assert len(short["ct"]) == len(long["ct"])
    assert len(room.announcements["Bob"]["enc_name"]) == len(room.announcements["Carol"]["enc_name"]) == 214


# --- (4) transcript integrity --------------------------------------------------


def test_dropped_messages_show_a_gap_with_the_count(room):
    """The relay drops Alice's 2nd and 3rd message to Bob: the 4th says 2 didn't reach him; a late one opens once."""
    alice, bob = room["Alice"], room["Bob"]
    sealed = [alice.seal(f"m{i}") for i in range(1, 5)]
    assert bob.open(sealed[0])["notices"] == []
    result = bob.open(sealed[3])
    assert kinds(result["notices"]) == [("gap", alice.member_id, 2, None)]
    late = bob.open(sealed[1])
    assert late["late"] is True and kinds(late["notices"]) == [("late", alice.member_id, None, None)]
    assert bob.open(sealed[1])["duplicate"] is True  # shown once


def test_gap_across_an_epoch(room):
    """Alice's last message of an epoch is dropped: her first of the next says some didn't arrive."""
    alice, bob = room["Alice"], room["Bob"]
    bob.open(alice.seal("seen"))
    alice.seal("dropped at the end of the epoch")
    rekey_all(room)
    room.epoch -= 1
    room.rekey("Alice", confirm=False)
    assert kinds(bob.open(alice.make_confirm())["notices"]) == [("gap", alice.member_id, None, None)]


def test_fork_when_a_sender_rewrites_its_history(room):
    """Alice (colluding) signs message 2 with a prev that is not her message 1: a fork."""
    alice, bob = room["Alice"], room["Bob"]
    bob.open(alice.seal("one"))
    chain = alice._keys.chains[alice.member_id]
    forked, _ = envelope.seal_message(room.room_id, room.epoch, chain, alice.identity, alice.member_id,
                                      crypto.b64u_encode(bytes(range(32))), envelope.text_body("two"))
    assert kinds(bob.open(forked)["notices"]) == [("fork", alice.member_id, None, None)]


def test_reorder_across_senders_is_shown(room):
    """Bob's reply reaches Carol before Alice's question: out of order, then 'arrived after the replies'."""
    alice, bob, carol = room["Alice"], room["Bob"], room["Carol"]
    question = alice.seal("Lunch?")
    bob.open(question)
    reply = bob.seal("Yes!")
    first = carol.open(reply)
    assert first["out_of_order"] is True and first["notices"] == []
    second = carol.open(question)
    assert second["out_of_order"] is False
    assert kinds(second["notices"]) == [("reorder", alice.member_id, None, None)]
    assert alice.open(reply)["out_of_order"] is False  # in order for Alice


def copy_chain(chain):
    """A colluding sender's second copy of its own chain, to sign two messages under one seq."""
    twin = Chain(chain.held_keys()[0])
    twin._next = chain.next_seq
    return twin


def test_equivocation_is_seen_by_both_sides_through_digests():
    """Alice (colluding) tells Bob YES and Carol NO under one seq; each learns it from the other's digest."""
    clock = Clock()
    room = Room(["Alice", "Bob", "Carol"], now=clock)
    room.rekey("Alice")
    alice, bob, carol = room["Alice"], room["Bob"], room["Carol"]
    chain = alice._keys.chains[alice.member_id]
    twin, prev = copy_chain(chain), alice._transcript.prev(alice.member_id)
    yes, _ = envelope.seal_message(room.room_id, room.epoch, chain, alice.identity, alice.member_id, prev,
                                   envelope.text_body("YES"))
    no, _ = envelope.seal_message(room.room_id, room.epoch, twin, alice.identity, alice.member_id, prev,
                                  envelope.text_body("NO"))
    assert yes["seq"] == no["seq"] and bob.open(yes)["text"] == "YES" and carol.open(no)["text"] == "NO"
    from_bob, from_carol = bob.make_digest(), carol.make_digest()
    assert kinds(carol.open(from_bob)["notices"]) == [("equivocation", alice.member_id, None, bob.member_id)]
    assert kinds(bob.open(from_carol)["notices"]) == [("equivocation", alice.member_id, None, carol.member_id)]
    clock.advance(10)
    carol.open(bob.seal("hm?"))
    again = bob.make_digest()  # repeats Alice's head: the warning is shown once
    assert again is not None and carol.open(again)["notices"] == []


def test_forged_self_when_a_digest_claims_a_message_i_did_not_send(room):
    """Bob's digest says Alice sent something she never did: Alice is told."""
    alice, bob = room["Alice"], room["Bob"]
    bob.open(alice.seal("real"))
    epoch, seq = alice._transcript.last(alice.member_id)
    fake_heads = [[alice.member_id, epoch, seq, crypto.b64u_encode(bytes(32))]]
    digest = bob._seal(envelope.digest_body(fake_heads))
    assert kinds(alice.open(digest)["notices"]) == [("forged_self", alice.member_id, None, bob.member_id)]


def test_digest_head_never_delivered_becomes_a_gap_after_the_grace():
    """Carol's digest shows Alice's 3rd message; the relay kept 2 and 3 from Bob: after 3 s he is told."""
    clock = Clock()
    room = Room(["Alice", "Bob", "Carol"], now=clock)
    room.rekey("Alice")
    alice, bob, carol = room["Alice"], room["Bob"], room["Carol"]
    sealed = [alice.seal(f"m{i}") for i in range(1, 4)]
    for s in sealed:
        carol.open(s)
    bob.open(sealed[0])
    assert bob.open(carol.make_digest())["notices"] == []
    clock.advance(DIGEST_GRACE_SECONDS - 0.01)
    assert bob.pending_notices() == []
    clock.advance(0.01)
    assert kinds(bob.pending_notices()) == [("gap", alice.member_id, 2, carol.member_id)]  # who said so
    assert bob.pending_notices() == []


def test_digest_head_that_arrives_in_time_is_quiet():
    """The same, but the messages reach Bob within the grace period: no notice."""
    clock = Clock()
    room = Room(["Alice", "Bob", "Carol"], now=clock)
    room.rekey("Alice")
    alice, bob, carol = room["Alice"], room["Bob"], room["Carol"]
    sealed = [alice.seal(f"m{i}") for i in range(1, 3)]
    for s in sealed:
        carol.open(s)
    bob.open(carol.make_digest())
    for s in sealed:
        bob.open(s)
    clock.advance(DIGEST_GRACE_SECONDS)
    assert bob.pending_notices() == []
