"""Attacks by a malicious relay or member against RoomSession; each names the check that stops it.

Every test asserts the exact rejection code, so it fails if its check is removed
(a later check would reject with another code, or the forgery would be accepted).
"""

import pytest

from burnchat.client import crypto
from burnchat.client.crypto import ProtocolError

from tests.client.roomsim import Room


def flip_bit(text, index=0):
    """The b64u text with one bit of its bytes flipped."""
    data = bytearray(crypto.b64u_decode(text))
    data[index] ^= 0x01
    return crypto.b64u_encode(bytes(data))


def resign_message(envelope, identity, room_id):
    """Re-sign an edited envelope with the sender's own key (an insider, or a check in isolation)."""
    sig_input = crypto.message_sig_input(
        room_id, envelope["epoch"], envelope["sender"], envelope["seq"], envelope["iv"], envelope["ct"]
    )
    return {**envelope, "sig": crypto.b64u_encode(crypto.sign(identity.sig, sig_input))}


def link_keys(room):
    """The link keys of a simulated room, as any holder of its link derives them."""
    return crypto.derive_link_keys(room.secret, room.room_id)


def assert_rejected(code, action):
    """`action` raises ProtocolError with exactly `code`."""
    with pytest.raises(ProtocolError) as err:
        action()
    assert err.value.code == code


@pytest.fixture
def room():
    """Alice, Bob and Carol holding the current epoch's key, made by Alice."""
    room = Room(["Alice", "Bob", "Carol"])
    room.rekey("Alice")
    return room


# --- announcements ---------------------------------------------------------


def test_swapped_public_key_is_flagged(room):
    """A relay swapping Dave's ECDH key for its own is caught by the MAC."""
    dave = room.join("Dave")
    relay = crypto.generate_identity()
    forged = {**room.announcements["Dave"], "ecdh_pub": relay.ecdh_pub}
    bob = room["Bob"]
    bob.remove_member(dave.member_id)
    assert_rejected("bad_mac", lambda: crypto.open_announcement(link_keys(room), room.room_id, forged))
    assert bob.add_member(forged) is None
    assert bob.flagged_count == 1 and bob.member(dave.member_id) is None


def test_forged_mac_is_flagged(room):
    """Without S nobody can make a valid MAC."""
    fake = crypto.generate_identity()
    forged = crypto.seal_announcement(crypto.derive_link_keys(crypto.random_id(), room.room_id), room.room_id,
                                      crypto.random_id(), fake, "Mallory")
    assert_rejected("bad_mac", lambda: crypto.open_announcement(link_keys(room), room.room_id, forged))
    assert room["Bob"].add_member(forged) is None and room["Bob"].flagged_count == 1


def test_announcement_moved_to_another_member_id_is_flagged(room):
    """Re-attributing Carol's announcement to a new member ID breaks the MAC."""
    moved = {**room.announcements["Carol"], "member_id": crypto.random_id()}
    assert_rejected("bad_mac", lambda: crypto.open_announcement(link_keys(room), room.room_id, moved))
    assert room["Bob"].add_member(moved) is None and room["Bob"].flagged_count == 1


def test_announcement_from_another_room_is_flagged():
    """Even with the same secret, an announcement is bound to its room."""
    secret = crypto.random_id()
    here, there = Room(["Alice"], secret=secret), Room(["Zed"], secret=secret)
    stray = there.announcements["Zed"]
    assert_rejected("bad_mac", lambda: crypto.open_announcement(link_keys(here), here.room_id, stray))
    assert here["Alice"].add_member(stray) is None and here["Alice"].flagged_count == 1


def test_second_announcement_for_a_known_id_is_flagged(room):
    """A valid-looking re-announcement of Carol cannot replace her keys."""
    again = dict(room.announcements["Carol"])
    assert room["Bob"].add_member(again) is None and room["Bob"].flagged_count == 1


# --- key blobs -------------------------------------------------------------


def test_key_blob_from_a_non_member_is_refused(room):
    """A relay-injected member (announcement flagged) cannot hand out room keys."""
    bob = room["Bob"]
    mallory_id, mallory = crypto.random_id(), crypto.generate_identity()
    fake_ann = crypto.seal_announcement(crypto.derive_link_keys(crypto.random_id(), room.room_id), room.room_id,
                                        mallory_id, mallory, "Mallory")
    assert bob.add_member(fake_ann) is None
    to_bob = crypto.Member(bob.member_id, "Bob", bob.identity.ecdh_pub, bob.identity.sig_pub,
                           crypto.decode_public_key(bob.identity.ecdh_pub), None, "")
    bob.set_epoch(room.epoch + 1)
    blob = crypto.wrap_room_key(room.room_id, room.epoch + 1, crypto.new_room_key(), mallory, mallory_id, to_bob)
    assert_rejected("not_member", lambda: bob.accept_room_key(blob))
    assert not bob.ready


def test_key_blob_with_a_bad_signature_is_refused(room):
    """A correctly wrapped key whose signature is not Alice's is refused."""
    bob, epoch = room["Bob"], room.epoch + 1
    bob.set_epoch(epoch)
    delivery = room["Alice"].answer_key_request({"epoch": epoch, "create": True, "for": [bob.member_id]})
    blob = delivery["blobs"][0]
    carol = room["Carol"].identity
    other_sig = crypto.sign(carol.sig, crypto.key_sig_input(room.room_id, epoch, blob["from"], blob["to"], blob["wrapped"]))
    forged = {**blob, "sig": crypto.b64u_encode(other_sig)}
    assert_rejected("bad_sig", lambda: bob.accept_room_key(forged))
    assert not bob.ready
    assert bob.accept_room_key(blob) == epoch  # the genuine one still works


def test_key_blob_for_someone_else_is_refused(room):
    """A blob addressed to Carol, delivered to Bob, is refused."""
    room["Bob"].set_epoch(room.epoch + 1)
    delivery = room["Alice"].answer_key_request({"epoch": room.epoch + 1, "create": True, "for": [room["Carol"].member_id]})
    assert_rejected("wrong_recipient", lambda: room["Bob"].accept_room_key(delivery["blobs"][0]))


def test_key_blob_for_an_old_epoch_is_refused(room):
    """After moving to epoch e+2, an epoch-(e+1) key (that a removed member may know) is refused."""
    bob = room["Bob"]
    delivery = room["Alice"].answer_key_request({"epoch": room.epoch + 1, "create": True, "for": [bob.member_id]})
    bob.set_epoch(room.epoch + 2)
    assert_rejected("bad_epoch", lambda: bob.accept_room_key(delivery["blobs"][0]))
    assert not bob.ready


# --- messages --------------------------------------------------------------


def test_forged_sender_is_refused(room):
    """Carol holds the room key but cannot sign as Alice."""
    carol = room["Carol"]
    own = carol.seal("I am Alice, honest")
    forged = {**own, "sender": room["Alice"].member_id, "seq": 99}
    forged = resign_message(forged, carol.identity, room.room_id)
    assert_rejected("bad_sig", lambda: room["Bob"].open(forged))
    assert room["Bob"].rejected_count == 1


def test_message_from_a_stranger_is_refused(room):
    """An envelope whose sender is not an accepted member is refused before any crypto."""
    envelope = {**room["Alice"].seal("hi"), "sender": crypto.random_id()}
    assert_rejected("not_member", lambda: room["Bob"].open(envelope))


def test_own_announcement_and_messages_echoed_back_are_refused(room):
    """A relay replaying Bob's own announcement, then his messages, cannot make a second 'Bob'."""
    bob = room["Bob"]
    assert bob.add_member(room.announcements["Bob"]) is None and bob.flagged_count == 1
    assert_rejected("not_member", lambda: bob.open(bob.seal("mine")))


def test_replayed_message_is_refused(room):
    """The same envelope twice is shown once."""
    envelope = room["Alice"].seal("once")
    assert room["Bob"].open(envelope)["text"] == "once"
    assert_rejected("replay", lambda: room["Bob"].open(envelope))
    assert room["Bob"].rejected_count == 1


def test_reordered_message_is_refused(room):
    """Once seq 2 is shown, seq 1 arriving late is refused."""
    first, second = room["Alice"].seal("one"), room["Alice"].seal("two")
    assert room["Bob"].open(second)["text"] == "two"
    assert_rejected("replay", lambda: room["Bob"].open(first))


def test_reinjected_member_is_flagged_and_cannot_replay(room):
    """A relay re-announcing Carol after she left cannot bring her back or replay her old messages (review #5)."""
    bob = room["Bob"]
    envelope = room["Carol"].seal("bye")
    assert bob.open(envelope)["text"] == "bye"
    assert bob.remove_member(room["Carol"].member_id)
    assert bob.add_member(room.announcements["Carol"]) is None  # her MAC is genuine, her ID is gone
    assert bob.flagged_count == 1 and bob.member(room["Carol"].member_id) is None
    assert_rejected("not_member", lambda: bob.open(envelope))


def test_flipped_ciphertext_bit_is_refused(room):
    """A flipped bit breaks the signature; re-signed by the sender, it still fails AES-GCM."""
    envelope = room["Alice"].seal("intact")
    tampered = {**envelope, "ct": flip_bit(envelope["ct"], 3)}
    assert_rejected("bad_sig", lambda: room["Bob"].open(tampered))
    resigned = resign_message(tampered, room["Alice"].identity, room.room_id)
    assert_rejected("decrypt_failed", lambda: room["Bob"].open(resigned))
    assert room["Bob"].rejected_count == 2


def test_stale_epoch_message_after_a_removal_is_refused(room):
    """After Carol is removed and the room rekeys, a message under the old key is refused."""
    old = room["Alice"].seal("sent under the old epoch")
    room.remove("Carol")
    room.rekey("Alice")
    assert room["Bob"].epoch == room.epoch == old["epoch"] + 1
    assert_rejected("bad_epoch", lambda: room["Bob"].open(old))
    assert room["Bob"].open(room["Alice"].seal("under epoch 2"))["text"] == "under epoch 2"


def test_message_under_a_key_not_yet_held_is_held_back_not_shown(room):
    """While securing, a message of the new epoch cannot be opened: it waits, uncounted, for its key."""
    room["Alice"].set_epoch(room.epoch + 1)
    room["Bob"].set_epoch(room.epoch + 1)
    room["Alice"].answer_key_request({"epoch": room.epoch + 1, "create": True, "for": []})
    envelope = room["Alice"].seal("new key")
    assert room["Bob"].open(envelope) is None
    assert room["Bob"].held_count == 1 and room["Bob"].rejected_count == 0
    assert room["Bob"].release_held() == []


@pytest.mark.parametrize(
    "field, value",
    [("v", 2), ("v", True), ("epoch", "1"), ("seq", 0), ("seq", 1.5), ("iv", "AAAA"), ("ct", "not b64u!"), ("sig", "")],
)
def test_malformed_envelopes_are_refused(room, field, value):
    """Shapes are checked before anything else looks at them."""
    envelope = {**room["Alice"].seal("shape"), field: value}
    with pytest.raises(ProtocolError):
        room["Bob"].open(envelope)
    assert room["Bob"].rejected_count == 1
