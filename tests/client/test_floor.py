"""The security review's client rules (docs/PROTOCOL.md §5): epoch floor, key member sets,
removed IDs, hold-back and look-alike names. Each test fails when its check is removed."""

import pytest

from burnchat.client import crypto
from burnchat.client.crypto import ProtocolError
from burnchat.client.session import HOLD_BACK_SECONDS, MAX_HELD_MESSAGES

from burnchat.client.session import RoomSession
from tests.client.roomsim import Room, announcement_of


def rejected_with(code, action):
    """`action` raises ProtocolError with exactly `code`."""
    with pytest.raises(ProtocolError) as err:
        action()
    return err.value.code == code


class Clock:
    """A hand-moved monotonic clock for hold-back expiry."""

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_leave_without_rekey_refuses_the_old_key():
    """A server that drops a member but never rekeys cannot keep the others on the key it holds (review #2)."""
    room = Room(["Alice", "Bob", "Mallory"])
    room.rekey("Alice")
    alice, bob = room["Alice"], room["Bob"]
    from_bob = bob.seal("after the kick")
    alice.remove_member(room["Mallory"].member_id)  # member_left, and no rekey follows
    assert not alice.ready and alice.floor == alice.epoch + 1
    assert rejected_with("not_ready", lambda: alice.seal("after the kick"))
    assert rejected_with("bad_epoch", lambda: alice.open(from_bob))


def test_join_raises_the_floor_and_the_servers_next_key_is_accepted():
    """member_joined moves past the held key; the key the server then has made is fine."""
    room = Room(["Alice", "Bob"])
    room.rekey("Alice")
    old = room.epoch
    room.join("Carol")  # member_joined, then rekey to old + 1
    assert room["Alice"].floor == old + 1 and not room["Alice"].ready
    room.rekey("Bob")
    assert all(s.ready and s.epoch == old + 1 for s in room.sessions.values())


def test_newcomer_is_never_served_a_key_from_before_its_join():
    """Holders refuse to wrap the pre-join key for a newcomer, by serve or by a repeated create (review #1)."""
    room = Room(["Alice", "Bob"])
    room.rekey("Alice")
    before = room["Alice"].seal("before Carol joined")
    held = room.epoch
    # A server that skips the join rekey: Carol is told the old epoch, the others only hear member_joined.
    carol = RoomSession(room.room_id, room.secret)
    carol_ann = announcement_of(carol.start("Carol"))
    carol.joined({"epoch": held, "members": list(room.announcements.values())})
    for holder in ("Alice", "Bob"):
        assert room[holder].add_member(carol_ann) is not None
        assert not room[holder].ready
    assert rejected_with("not_ready", lambda: room["Alice"].seal("still the old key?"))
    for holder in ("Alice", "Bob"):
        assert rejected_with("bad_epoch", lambda h=holder: room[h].answer_key_request(
            {"epoch": held, "create": False, "for": [carol.member_id]}))
    assert rejected_with("bad_epoch", lambda: room["Alice"].answer_key_request(
        {"epoch": held, "create": True, "for": [carol.member_id]}))
    assert carol.open(before) is None  # it can only wait for a key nobody will give Carol
    assert not carol.ready


def test_holder_serves_only_the_members_the_key_was_made_for():
    """A key made for Bob only is not served to Carol later, whatever the server asks."""
    room = Room(["Alice", "Bob", "Carol"])
    alice, bob, carol = room["Alice"], room["Bob"], room["Carol"]
    made = alice.answer_key_request({"epoch": room.epoch, "create": True, "for": [bob.member_id]})
    bob.accept_room_key(made["blobs"][0])
    served = alice.answer_key_request({"epoch": room.epoch, "create": False, "for": [carol.member_id, bob.member_id]})
    assert [b["to"] for b in served["blobs"]] == [bob.member_id]
    # Bob accepted the key knowing Carol, so he may serve her.
    from_bob = bob.answer_key_request({"epoch": room.epoch, "create": False, "for": [carol.member_id]})
    assert [b["to"] for b in from_bob["blobs"]] == [carol.member_id]


def test_key_below_the_floor_is_refused():
    """A key made before a removal that the receiver already knows of is refused."""
    room = Room(["Alice", "Bob", "Carol"])
    made = room["Alice"].answer_key_request(
        {"epoch": room.epoch, "create": True, "for": [room["Bob"].member_id, room["Carol"].member_id]}
    )
    room["Bob"].remove_member(room["Carol"].member_id)
    blob = next(b for b in made["blobs"] if b["to"] == room["Bob"].member_id)
    assert rejected_with("bad_epoch", lambda: room["Bob"].accept_room_key(blob))


def test_removed_member_announcement_is_flagged():
    """A replayed announcement of a member who left is flagged and never accepted (review #5)."""
    room = Room(["Alice", "Mallory"])
    alice = room["Alice"]
    alice.remove_member(room["Mallory"].member_id)
    assert alice.add_member(room.announcements["Mallory"]) is None
    assert alice.flagged_count == 1 and alice.member(room["Mallory"].member_id) is None


def test_message_before_its_key_is_held_then_shown():
    """A message that overtakes its key waits (uncounted) and is shown when the key arrives (review #6)."""
    room = Room(["Alice", "Bob", "Carol"])
    alice, bob, carol = room["Alice"], room["Bob"], room["Carol"]
    made = alice.answer_key_request({"epoch": room.epoch, "create": True, "for": [bob.member_id, carol.member_id]})
    blobs = {b["to"]: b for b in made["blobs"]}
    bob.accept_room_key(blobs[bob.member_id])
    assert carol.open(bob.seal("I was served first")) is None
    assert carol.held_count == 1 and carol.rejected_count == 0
    assert carol.release_held() == []
    carol.accept_room_key(blobs[carol.member_id])
    assert [m["text"] for m in carol.release_held()] == ["I was served first"]
    assert carol.held_count == 0 and carol.rejected_count == 0


def test_held_message_expires_after_ten_seconds():
    """A held message whose key does not come in time is rejected and counted."""
    clock = Clock()
    room = Room(["Alice"])
    bob = room.join("Bob", now=clock)
    alice = room["Alice"]
    made = alice.answer_key_request({"epoch": room.epoch, "create": True, "for": [bob.member_id]})
    assert bob.open(alice.seal("too early")) is None
    clock.now += HOLD_BACK_SECONDS - 0.001
    bob.release_held()
    assert bob.held_count == 1
    clock.now += 0.001
    bob.release_held()
    assert bob.held_count == 0 and bob.rejected_count == 1
    bob.accept_room_key(made["blobs"][0])
    assert bob.release_held() == []


def test_hold_back_is_bounded():
    """At most 64 messages wait; the next one is rejected."""
    room = Room(["Alice", "Bob"])
    alice, bob = room["Alice"], room["Bob"]
    alice.answer_key_request({"epoch": room.epoch, "create": True, "for": []})
    for i in range(MAX_HELD_MESSAGES):
        assert bob.open(alice.seal(f"m{i}")) is None
    assert rejected_with("not_ready", lambda: bob.open(alice.seal("one too many")))
    assert bob.held_count == MAX_HELD_MESSAGES and bob.rejected_count == 1


def test_look_alike_names_are_disambiguated():
    """Names equal after NFKC with format characters removed count as duplicates (review #7)."""
    room = Room(["Ada", "Ad\u200ba", "\uff21da", "Ada\u00ad"])
    assert [m["name"] for m in room["Ada"].members()] == ["Ada", "Ad\u200ba (2)", "\uff21da (3)", "Ada\u00ad (4)"]


def test_join_payload_carries_the_join_key():
    """Every join proves the link to the server with the join key (§3, §7.1)."""
    room = Room(["Alice"])
    session = room.join("Bob")
    assert session.start("Bob")["join_key"] == crypto.derive_join_key(room.secret)[0]
