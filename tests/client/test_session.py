"""RoomSession behaviour between honest members (docs/PROTOCOL.md §4-§6, §10)."""

import pytest

from burnchat.client import crypto
from burnchat.client.crypto import ProtocolError
from burnchat.client.session import RoomSession

from tests.client.roomsim import Room


def test_first_key_reaches_everyone_and_messages_flow():
    """The creator holds its new key, the others accept it, and a message is read by all."""
    room = Room(["Alice", "Bob", "Carol"])
    assert not any(s.ready for s in room.sessions.values())
    room.rekey("Alice")
    assert all(s.ready and s.epoch == room.epoch == 3 for s in room.sessions.values())
    envelope = room["Alice"].seal("hi all")
    for key in ("Bob", "Carol"):
        assert room[key].open(envelope) == {"member_id": room["Alice"].member_id, "name": "Alice", "text": "hi all"}


def test_holder_serves_a_member_that_missed_its_blob():
    """A holder serves its key (create: false) to a member it was made for that missed the delivery."""
    room = Room(["Alice", "Bob", "Carol"])
    epoch = room.epoch
    made = room["Alice"].answer_key_request(
        {"epoch": epoch, "create": True, "for": [room["Bob"].member_id, room["Carol"].member_id]}
    )
    room["Bob"].accept_room_key(next(b for b in made["blobs"] if b["to"] == room["Bob"].member_id))
    carol = room["Carol"]
    delivery = room["Bob"].answer_key_request({"epoch": epoch, "create": False, "for": [carol.member_id]})
    assert [blob["to"] for blob in delivery["blobs"]] == [carol.member_id]
    assert carol.accept_room_key(delivery["blobs"][0]) == epoch
    assert room["Bob"].open(carol.seal("hello"))["text"] == "hello"


def test_serving_an_epoch_not_held_is_refused():
    """A member cannot serve a key it does not hold."""
    room = Room(["Alice", "Bob"])
    with pytest.raises(ProtocolError) as err:
        room["Alice"].answer_key_request({"epoch": room.epoch, "create": False, "for": [room["Bob"].member_id]})
    assert err.value.code == "not_ready"


def test_seal_waits_for_the_key_and_refuses_bad_sizes():
    """Nothing is sealed while securing; empty and over-long texts are refused, not cut."""
    room = Room(["Alice", "Bob"])
    with pytest.raises(ProtocolError) as err:
        room["Alice"].seal("too early")
    assert err.value.code == "not_ready"
    room.rekey("Alice")
    for text, code in (("", "empty"), ("é" * 2049, "too_long")):
        with pytest.raises(ProtocolError) as err:
            room["Alice"].seal(text)
        assert err.value.code == code
    assert room["Bob"].open(room["Alice"].seal("é" * 2048))["text"] == "é" * 2048


def test_rekey_stops_sending_until_the_new_key():
    """After `rekey` the old key is not used, and the new one drops the old."""
    room = Room(["Alice", "Bob"])
    room.rekey("Alice")
    room["Bob"].set_epoch(room.epoch + 1)
    assert not room["Bob"].ready
    with pytest.raises(ProtocolError):
        room["Bob"].seal("under the old key?")
    room.rekey("Alice")
    assert room["Bob"].ready and room["Bob"].epoch == room.epoch


def test_epochs_never_go_back():
    """An older `rekey` does not move a session backwards."""
    session = RoomSession(crypto.random_id(), crypto.random_id())
    session.start("Ann")
    session.set_epoch(5)
    session.set_epoch(3)
    assert session.epoch == 5


def test_safety_codes_agree_and_change_with_membership():
    """Every member computes the same code; a leave changes it."""
    room = Room(["Alice", "Bob", "Carol"])
    codes = {s.safety_code() for s in room.sessions.values()}
    assert len(codes) == 1
    before = codes.pop()
    room.remove("Carol")
    after = {s.safety_code() for s in room.sessions.values()}
    assert len(after) == 1 and before not in after


def test_fingerprints_match_across_members():
    """Alice's own fingerprint is what Bob shows for her."""
    room = Room(["Alice", "Bob"])
    mine = [m for m in room["Alice"].members() if m["is_self"]][0]["fingerprint"]
    theirs = [m for m in room["Bob"].members() if m["member_id"] == room["Alice"].member_id][0]["fingerprint"]
    assert mine == theirs
    assert len(mine) == 19 and mine.count(" ") == 3


def test_duplicate_names_are_numbered_in_join_order():
    """The first 'Sam' shows plain, later ones '(2)', '(3)', for every viewer."""
    room = Room()
    for key in ("s1", "s2", "x", "s3"):
        room.join("Sam" if key != "x" else "Max", key=key)
    for session in room.sessions.values():
        assert [m["name"] for m in session.members()] == ["Sam", "Sam (2)", "Max", "Sam (3)"]
    room.rekey("s1")
    assert room["x"].open(room["s3"].seal("me"))["name"] == "Sam (3)"


def test_members_lists_self_in_join_order():
    """Self sits after everyone in the join ack and before later joiners."""
    room = Room(["Alice", "Bob"])
    room.join("Carol")
    assert [(m["name"], m["is_self"]) for m in room["Bob"].members()] == [
        ("Alice", False), ("Bob", True), ("Carol", False)
    ]


def test_key_request_skips_unknown_and_flagged_members():
    """Blobs go only to accepted members among those asked for."""
    room = Room(["Alice", "Bob"])
    delivery = room["Alice"].answer_key_request(
        {"epoch": room.epoch, "create": True, "for": [room["Bob"].member_id, crypto.random_id(), room["Alice"].member_id]}
    )
    assert [blob["to"] for blob in delivery["blobs"]] == [room["Bob"].member_id]


def test_repeated_create_is_refused():
    """A second create request for the epoch held never makes a second key nor re-wraps the first."""
    room = Room(["Alice", "Bob"])
    room["Alice"].answer_key_request({"epoch": room.epoch, "create": True, "for": [room["Bob"].member_id]})
    with pytest.raises(ProtocolError) as err:
        room["Alice"].answer_key_request({"epoch": room.epoch, "create": True, "for": [room["Bob"].member_id]})
    assert err.value.code == "bad_epoch"


def test_wipe_forgets_everything():
    """After wipe no key, member or counter is left."""
    room = Room(["Alice", "Bob"])
    room.rekey("Alice")
    session = room["Bob"]
    session.rejected_count = 3
    session.wipe()
    assert session.members() == [] and not session.ready and session.epoch == 0
    assert session.member_id is None and session.identity is None and session.rejected_count == 0
    for late_call in (lambda: session.seal("after wipe"), session.safety_code,
                      lambda: session.add_member(room.announcements["Alice"])):
        with pytest.raises(ProtocolError) as err:
            late_call()
        assert err.value.code == "not_ready"


def test_bad_link_parts_are_refused():
    """A session needs a 16-byte room ID and secret."""
    with pytest.raises(ProtocolError):
        RoomSession("short", crypto.random_id())
    with pytest.raises(ProtocolError):
        RoomSession(crypto.random_id(), "AAAA")
