"""RoomSession behaviour between honest members (docs/PROTOCOL.md §4-§6, §10)."""

import pytest

from burnchat.client import crypto
from burnchat.client.crypto import ProtocolError
from burnchat.client.session import (
    DIGEST_INTERVAL_SECONDS,
    KEY_MISSING_SECONDS,
    KICK_CONFIRM_SECONDS,
    RoomSession,
)

from tests.client.roomsim import Clock, Room, room_key_events
from tests.client.helpers import code_of


def test_first_epoch_reaches_everyone_and_messages_flow():
    """The creator holds its new epoch, the others accept it, and a message is read by all."""
    room = Room(["Alice", "Bob", "Carol"])
    assert not any(s.ready for s in room.sessions.values())
    room.rekey("Alice")
    assert all(s.ready and s.epoch == room.epoch == 3 for s in room.sessions.values())
    _sealed, results = room.send("Alice", "hi all")
    for key in ("Bob", "Carol"):
        assert results[key] == {"member_id": room["Alice"].member_id, "name": "Alice", "text": "hi all",
                                "me": False, "late": False, "out_of_order": False, "notices": []}


def test_join_payload_is_version_2_with_the_join_key():
    """Every join says v: 2 and proves the link with the join key (§3, §7.1)."""
    session = RoomSession(crypto.random_id(), crypto.random_id())
    payload = session.start("Ann")
    assert payload["v"] == 2 and len(payload["enc_name"]) == 214


def test_safety_codes_agree_per_epoch_and_change_with_it():
    """Everyone holding an epoch shows one code; the next epoch shows another (§5.4)."""
    room = Room(["Alice", "Bob", "Carol"])
    assert room["Bob"].safety_code() is None
    room.rekey("Alice")
    codes = {s.safety_code()["digits"] for s in room.sessions.values()}
    qrs = {s.safety_code()["qr"] for s in room.sessions.values()}
    assert len(codes) == 1 == len(qrs)
    assert room["Bob"].safety_code()["epoch"] == room.epoch
    before = codes.pop()
    room.remove("Carol")
    room.rekey("Bob")
    after = {s.safety_code()["digits"] for s in room.sessions.values()}
    assert len(after) == 1 and before not in after


def test_me_actions_and_after_references():
    """/me travels as me: true; `after` names the last text shown, so order holds for everyone."""
    room = Room(["Alice", "Bob"])
    room.rekey("Alice")
    first, _ = room.send("Alice", "question?")
    sealed = room["Bob"].seal("nods", me=True)
    result = room["Alice"].open(sealed)
    assert result["me"] is True and result["out_of_order"] is False and result["text"] == "nods"


def test_seal_waits_for_the_key_and_refuses_bad_sizes():
    """Nothing is sealed while securing; empty and over-long texts are refused, not cut."""
    room = Room(["Alice", "Bob"])
    assert code_of(lambda: room["Alice"].seal("too early")) == "not_ready"
    room.rekey("Alice")
    for text, code in (("", "empty"), ("é" * 2049, "too_long")):
        assert code_of(lambda text=text: room["Alice"].seal(text)) == code
    assert room["Bob"].open(room["Alice"].seal("é" * 2048))["text"] == "é" * 2048


def test_rekey_stops_sending_until_the_new_key():
    """After `rekey` the old key is not used, and the new one drops the old chains."""
    room = Room(["Alice", "Bob"])
    room.rekey("Alice")
    old_chains = room["Bob"]._keys.chains
    room["Bob"].on_rekey({"epoch": room.epoch + 1, "creator": room["Alice"].member_id, "passed_over": None})
    assert not room["Bob"].ready
    assert code_of(lambda: room["Bob"].seal("under the old key?")) == "not_ready"
    room.rekey("Alice")
    assert room["Bob"].ready and room["Bob"].epoch == room.epoch
    assert old_chains == {}  # wiped, not just replaced


def test_epochs_never_go_back():
    """An older `rekey` does not move a session backwards."""
    session = RoomSession(crypto.random_id(), crypto.random_id())
    session.start("Ann")
    session.set_epoch(5)
    session.set_epoch(3)
    assert session.epoch == 5


def test_one_epoch_never_has_two_keys():
    """A second request for the epoch held, or a second key of it, is refused (bad_epoch)."""
    room = Room(["Alice", "Bob"])
    first = room.request("Alice")
    assert code_of(lambda: room.request("Alice")) == "bad_epoch"
    bob = room["Bob"]
    bob.accept_room_key(room_key_events(first, room["Alice"].member_id)[bob.member_id])
    assert code_of(lambda: room.request("Bob", epoch=room.epoch)) == "bad_epoch"


def test_key_request_wraps_for_every_accepted_member_whatever_the_list():
    """Blobs go to the creator's roster (§5.3), not to unknown IDs the server lists."""
    room = Room(["Alice", "Bob"])
    delivery = room["Alice"].answer_key_request(
        {"epoch": room.epoch, "for": [room["Bob"].member_id, crypto.random_id()]}
    )
    assert [blob["to"] for blob in delivery["blobs"]] == [room["Bob"].member_id]
    assert delivery["roster"] == sorted([room["Alice"].member_id, room["Bob"].member_id])


def test_fingerprints_match_across_members():
    """Alice's own fingerprint is what Bob shows for her."""
    room = Room(["Alice", "Bob"])
    mine = [m for m in room["Alice"].members() if m["is_self"]][0]["fingerprint"]
    theirs = [m for m in room["Bob"].members() if m["member_id"] == room["Alice"].member_id][0]["fingerprint"]
    assert mine == theirs and len(mine) == 19


def test_duplicate_names_are_numbered_by_member_id():
    """The 'Sam' with the lowest member ID shows plain, the others '(2)', '(3)' by ID, for every viewer."""
    room = Room()
    for key in ("s1", "s2", "x", "s3"):
        room.join("Sam" if key != "x" else "Max", key=key)
    sams = sorted(("s1", "s2", "s3"), key=lambda k: room[k].member_id)
    expected = {room[k].member_id: name for k, name in zip(sams, ("Sam", "Sam (2)", "Sam (3)"))}
    for session in room.sessions.values():
        assert {m["member_id"]: m["name"] for m in session.members() if m["duplicate"]} == expected
        assert [m["duplicate"] for m in session.members()] == [True, True, False, True]
    room.rekey("s1")  # every roster line says "Sam", so the commitments agree
    assert room["x"].open(room["s3"].seal("me"))["name"] == expected[room["s3"].member_id]


def test_members_lists_self_in_join_order():
    """Self sits after everyone in the join ack and before later joiners."""
    room = Room(["Alice", "Bob"])
    room.join("Carol")
    assert [(m["name"], m["is_self"]) for m in room["Bob"].members()] == [
        ("Alice", False), ("Bob", True), ("Carol", False)
    ]


def test_key_missing_after_three_seconds_once_per_epoch():
    """Without a key for 3 s the session reports the epoch once; a new epoch restarts the wait (scenario 6)."""
    clock = Clock()
    room = Room(["Alice"], now=clock)
    bob = room.join("Bob")
    clock.advance(KEY_MISSING_SECONDS - 0.01)
    assert bob.key_missing() is None
    clock.advance(0.01)
    assert bob.key_missing() == room.epoch
    assert bob.key_missing() is None
    bob.on_rekey({"epoch": room.epoch + 1, "creator": room["Alice"].member_id, "passed_over": None})
    clock.advance(KEY_MISSING_SECONDS - 0.01)
    assert bob.key_missing() is None
    clock.advance(0.01)
    assert bob.key_missing() == room.epoch + 1
    room.epoch += 1
    room.rekey("Alice")
    clock.advance(60)
    assert bob.key_missing() is None  # keyed: nothing to report


def test_passed_over_twice_names_the_member():
    """The first pass-over is quiet; from the second the session names who did not hand out the key (§5.5)."""
    room = Room(["Alice", "Bob", "Carol"])
    alice_id = room["Alice"].member_id
    bob = room["Bob"]
    event = {"creator": room["Carol"].member_id, "passed_over": alice_id}
    assert bob.on_rekey({**event, "epoch": 4}) == {"passed_over_twice": None}
    assert bob.on_rekey({**event, "epoch": 5})["passed_over_twice"].member_id == alice_id
    assert bob.on_rekey({**event, "epoch": 6})["passed_over_twice"].member_id == alice_id
    assert bob.on_rekey({"epoch": 7, "creator": None, "passed_over": crypto.random_id()}) == {"passed_over_twice": None}


def test_digests_are_due_after_texts_and_at_most_every_five_seconds():
    """A digest follows a text shown or sent, at most every 5 s; a digest does not cause one (§6.5)."""
    clock = Clock()
    room = Room(["Alice", "Bob"], now=clock)
    room.rekey("Alice")
    alice, bob = room["Alice"], room["Bob"]
    assert alice.make_digest() is None  # nothing shown or sent yet
    bob.open(alice.seal("one"))
    digest = alice.make_digest()
    assert digest is not None
    assert bob.open(digest) == {"digest": True, "notices": []}
    assert bob.make_digest() is not None  # Bob showed "one"
    assert alice.make_digest() is None
    bob.open(alice.seal("two"))
    assert alice.make_digest() is None  # too soon
    clock.advance(DIGEST_INTERVAL_SECONDS)
    later = alice.make_digest()
    assert later is not None and bob.open(later)["notices"] == []
    assert bob.open(alice.seal("three"))["notices"] == []  # digests are links in Alice's chain too


def test_kick_shows_removed_only_with_a_key_that_excludes_them():
    """The admin's client says removing, then removed once it holds a key without the member (§5.5)."""
    clock = Clock()
    room = Room(["Alice", "Bob", "Mallory"], now=clock)
    room.rekey("Alice")
    alice, mallory_id = room["Alice"], room["Mallory"].member_id
    alice.kick_started(mallory_id)
    assert alice.kick_status(mallory_id) == "removing"
    room.remove("Mallory")
    room.rekey("Alice")  # the kicking admin makes the next epoch itself
    assert alice.kick_status(mallory_id) == "removed"
    clock.advance(KICK_CONFIRM_SECONDS)
    assert alice.kick_status(mallory_id) == "removed"


def test_wipe_forgets_everything():
    """After wipe no key, member or counter is left."""
    room = Room(["Alice", "Bob"])
    room.rekey("Alice")
    session = room["Bob"]
    chains = session._keys.chains
    session.rejected_count = 3
    session.wipe()
    assert session.members() == [] and not session.ready and session.epoch == 0 and chains == {}
    assert session.member_id is None and session.identity is None and session.rejected_count == 0
    assert session.safety_code() is None
    for late_call in (lambda: session.seal("after wipe"), lambda: session.add_member(room.announcements["Alice"])):
        assert code_of(late_call) == "not_ready"


def test_bad_link_parts_are_refused():
    """A session needs a 16-byte room ID and secret."""
    with pytest.raises(ProtocolError):
        RoomSession("short", crypto.random_id())
    with pytest.raises(ProtocolError):
        RoomSession(crypto.random_id(), "AAAA")
