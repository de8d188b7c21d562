"""The client rules of docs/PROTOCOL.md §5.5 that v2 keeps from v1: epoch floor, removed IDs,
hold-back of early messages and look-alike names. Each test fails when its check is removed."""


from burnchat.client import crypto
from burnchat.client.session import HOLD_BACK_SECONDS, MAX_HELD_MESSAGES, RoomSession

from tests.client.roomsim import Clock, Room, announcement_of, room_key_events
from tests.client.helpers import code_of


def test_leave_without_rekey_refuses_the_old_key():
    """A server that drops a member but never rekeys cannot keep the others on the key it holds."""
    room = Room(["Alice", "Bob", "Mallory"])
    room.rekey("Alice")
    alice, bob = room["Alice"], room["Bob"]
    from_bob = bob.seal("after the kick")
    alice.remove_member(room["Mallory"].member_id)  # member_left, and no rekey follows
    assert not alice.ready and alice.floor == alice.epoch + 1
    assert code_of(lambda: alice.seal("after the kick")) == "not_ready"
    assert code_of(lambda: alice.open(from_bob)) == "bad_epoch"


def test_join_raises_the_floor_and_the_next_epoch_is_accepted():
    """member_joined moves past the held key; the epoch the server then has made is fine."""
    room = Room(["Alice", "Bob"])
    room.rekey("Alice")
    old = room.epoch
    room.join("Carol")
    assert room["Alice"].floor == old + 1 and not room["Alice"].ready
    room.rekey("Bob")
    assert all(s.ready and s.epoch == old + 1 for s in room.sessions.values())


def test_newcomer_never_gets_a_key_from_before_its_join():
    """With the join rekey skipped, nobody makes the held epoch again for the newcomer."""
    room = Room(["Alice", "Bob"])
    room.rekey("Alice")
    before = room["Alice"].seal("before Carol joined")
    held = room.epoch
    carol = RoomSession(room.room_id, room.secret)
    carol_ann = announcement_of(carol.start("Carol"))
    carol.joined({"epoch": held, "members": list(room.announcements.values())})
    for holder in ("Alice", "Bob"):
        assert room[holder].add_member(carol_ann) is not None
        assert not room[holder].ready
        assert code_of(lambda h=holder: room[h].answer_key_request({"epoch": held, "for": [carol.member_id]})) == "bad_epoch"
    assert carol.open(before) is None and carol.held_count == 1  # it can only wait, for a key nobody gives it
    assert not carol.ready


def test_key_below_the_floor_is_refused_quietly():
    """A key made before a removal the receiver already knows of is stale (bad_epoch)."""
    room = Room(["Alice", "Bob", "Carol"])
    made = room.request("Alice")
    bob = room["Bob"]
    bob.remove_member(room["Carol"].member_id)
    event = room_key_events(made, room["Alice"].member_id)[bob.member_id]
    assert code_of(lambda: bob.accept_room_key(event)) == "bad_epoch"


def test_removed_member_announcement_is_flagged():
    """A replayed announcement of a member who left is flagged and never accepted."""
    room = Room(["Alice", "Mallory"])
    alice = room["Alice"]
    alice.remove_member(room["Mallory"].member_id)
    assert alice.add_member(room.announcements["Mallory"]) is None
    assert alice.flagged_count == 1 and alice.member(room["Mallory"].member_id) is None


def test_message_before_its_key_is_held_then_shown():
    """A message that overtakes its key waits (uncounted) and is shown when the key arrives."""
    room = Room(["Alice", "Bob", "Carol"])
    alice, bob, carol = room["Alice"], room["Bob"], room["Carol"]
    events = room_key_events(room.request("Alice"), alice.member_id)
    bob.accept_room_key(events[bob.member_id])
    assert carol.open(bob.make_confirm()) is None
    assert carol.open(bob.seal("I was keyed first")) is None
    assert carol.held_count == 2 and carol.rejected_count == 0
    assert carol.release_held() == []
    carol.accept_room_key(events[carol.member_id])
    assert [m.get("text") for m in carol.release_held()] == [None, "I was keyed first"]
    assert carol.held_count == 0 and carol.rejected_count == 0


def test_held_message_expires_after_ten_seconds():
    """A held message whose key does not come in time is rejected and counted."""
    clock = Clock()
    room = Room(["Alice"], now=clock)
    bob = room.join("Bob")
    alice = room["Alice"]
    events = room_key_events(room.request("Alice"), alice.member_id)
    alice.make_confirm()  # lost
    assert bob.open(alice.seal("too early")) is None
    clock.advance(HOLD_BACK_SECONDS - 0.001)
    bob.release_held()
    assert bob.held_count == 1
    clock.advance(0.001)
    bob.release_held()
    assert bob.held_count == 0 and bob.rejected_count == 1
    bob.accept_room_key(events[bob.member_id])
    assert bob.release_held() == []


def test_hold_back_is_bounded():
    """At most 64 messages wait; the next one is rejected."""
    room = Room(["Alice", "Bob"])
    alice, bob = room["Alice"], room["Bob"]
    room.request("Alice")
    alice.make_confirm()  # lost
    for i in range(MAX_HELD_MESSAGES):
        assert bob.open(alice.seal(f"m{i}")) is None
    assert code_of(lambda: bob.open(alice.seal("one too many"))) == "not_ready"
    assert bob.held_count == MAX_HELD_MESSAGES and bob.rejected_count == 1


def test_look_alike_names_are_disambiguated():
    """Names equal after NFKC with format characters removed count as duplicates."""
    room = Room(["Ada", "Ad\u200ba", "\uff21da", "Ada\u00ad"])
    listed = room["Ada"].members()
    by_id = sorted(listed, key=lambda m: m["member_id"])
    assert [m["name"].split(" (")[0] == m["name"] for m in by_id] == [True, False, False, False]
    assert [m["name"][-3:] for m in by_id[1:]] == ["(2)", "(3)", "(4)"]
    assert all(m["duplicate"] for m in listed)


def test_join_payload_carries_the_join_key():
    """Every join proves the link to the server with the join key (§3, §7.1)."""
    room = Room(["Alice"])
    session = room.join("Bob")
    assert session.start("Bob")["join_key"] == crypto.derive_join_key(room.secret)[0]
