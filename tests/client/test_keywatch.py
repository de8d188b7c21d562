"""A relay that plays with keys (PROTOCOL.md §5.5), mirroring tests/js/keywatch.test.mjs: confirm,
a split hidden behind a rekey every few seconds, rekeys for no reason, two keys for one epoch."""

from burnchat.client.keywatch import CHURN_REKEYS, CONFIRM_SECONDS

from .roomsim import Clock, Room, room_key_events
from tests.client.helpers import code_of


def rekey_all(room):
    """Everyone moves to a new epoch with `rekey` (no membership change, nobody passed over)."""
    room.epoch += 1
    for session in room.sessions.values():
        session.on_rekey({"epoch": room.epoch, "creator": None, "passed_over": None})
    return room.epoch


def kinds(notices, kind):
    """The notices of one kind."""
    return [n for n in notices if n["kind"] == kind]


def test_confirm_is_the_first_message_of_each_epoch_and_texts_wait_for_it():
    """make_confirm once per epoch; seal is not_ready before it; the receiver hears the confirm."""
    room = Room(["A", "B"])
    room.rekey("A", confirm=False)
    a, b = room["A"], room["B"]
    assert code_of(lambda: a.seal("too soon")) == "not_ready"
    confirm = a.make_confirm()
    assert a.make_confirm() is None
    assert b.open(confirm) == {"confirm": True, "notices": []}
    assert confirm["seq"] == 1 and b.open(a.seal("now"))["text"] == "now"


def split_epoch(room):
    """One split epoch: A keys B, C keys D, each half confirms and chats inside itself only."""
    epoch = rekey_all(room)
    for creator, other in (("A", "B"), ("C", "D")):
        events = room_key_events(room[creator].answer_key_request({"epoch": epoch, "for": []}), room[creator].member_id)
        room[other].accept_room_key(events[room[other].member_id])
    for sender, receiver in (("A", "B"), ("B", "A"), ("C", "D"), ("D", "C")):
        room[receiver].open(room[sender].make_confirm())
    room["B"].open(room["A"].seal("a"))
    room["D"].open(room["C"].seal("c"))


def test_split_treadmill_is_still_seen():
    """A relay that re-splits every 4 s: 'not heard from' survives new epochs, said once, with names."""
    clock = Clock()
    room = Room(["A", "B", "C", "D"], now=clock)
    room.rekey("A")
    notices = []
    for _round in range(4):
        split_epoch(room)
        clock.advance(4)
        notices += room["A"].pending_notices()
    unconfirmed = kinds(notices, "unconfirmed")
    assert len(unconfirmed) == 1
    assert set(unconfirmed[0]["member_ids"]) == {room["C"].member_id, room["D"].member_id}
    assert sorted(unconfirmed[0]["names"]) == ["C", "D"]
    assert room["C"].member_id in room["A"].unconfirmed()


def test_quiet_members_who_confirm_each_key_are_never_flagged():
    """An honest room rekeyed now and then, nobody chatting: nobody is 'not heard from'."""
    clock = Clock()
    room = Room(["A", "B", "C"], now=clock)
    for creator in ("A", "B", "C", "A"):
        rekey_all(room)
        room.rekey(creator)
        clock.advance(CONFIRM_SECONDS * 2)
        for session in room.sessions.values():
            assert session.unconfirmed() == [] and kinds(session.pending_notices(), "unconfirmed") == []


def test_rekeys_for_no_reason_are_named_once():
    """CHURN_REKEYS rekeys within 30 s with no membership change and nobody passed over: one notice."""
    clock = Clock()
    room = Room(["A", "B"], now=clock)
    room.rekey("A")
    a = room["A"]
    room.epoch += 1
    a.on_rekey({"epoch": room.epoch, "creator": None, "passed_over": room["B"].member_id})  # a reason
    for _ in range(CHURN_REKEYS - 1):
        rekey_all(room)
        clock.advance(4)
    assert kinds(a.pending_notices(), "rekey_churn") == []
    rekey_all(room)
    assert len(kinds(a.pending_notices(), "rekey_churn")) == 1
    rekey_all(room)
    assert kinds(a.pending_notices(), "rekey_churn") == []


def test_a_second_valid_key_for_the_epoch_held_is_two_keys():
    """Another creator's valid key for the epoch held: refused (we keep ours) with a two_keys notice."""
    room = Room(["A", "B", "C"])
    a, b, c = room["A"], room["B"], room["C"]
    first = room_key_events(room.request("A"), a.member_id)
    b.accept_room_key(first[b.member_id])
    assert code_of(lambda: b.accept_room_key(first[b.member_id])) == "bad_epoch"
    assert kinds(b.pending_notices(), "two_keys") == [], "a copy of the key held is no split"
    code = b.safety_code()
    second = room_key_events(c.answer_key_request({"epoch": room.epoch, "for": []}), c.member_id)
    assert code_of(lambda: b.accept_room_key(second[b.member_id])) == "bad_epoch"
    [notice] = kinds(b.pending_notices(), "two_keys")
    assert (notice["member_id"], notice["other_id"]) == (c.member_id, a.member_id)
    assert b.safety_code() == code


def test_not_ready_while_the_held_roster_has_someone_gone():
    """A key held whose roster names a member no longer accepted is never used to send."""
    room = Room(["A", "B", "X"])
    room.rekey("A")
    b = room["B"]
    assert b.ready
    b.remove_member(room["X"].member_id)
    b.floor = b.held_epoch  # even if the floor were not raised
    assert not b.ready
