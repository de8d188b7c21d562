"""Malformed server events (a list or an object where an ID belongs) never raise TypeError: the
session refuses or ignores them, so the terminal's loop keeps running; and the join ack's version."""

import pytest

from burnchat.client.crypto import ProtocolError
from burnchat.client.session import RoomSession

from .roomsim import Room

ODD = ([], ["x"], {}, {"a": 1}, 7, None)


@pytest.fixture
def room():
    """Alice and Bob, keyed."""
    room = Room(["Alice", "Bob"])
    room.rekey("Alice")
    return room


@pytest.mark.parametrize("odd", ODD)
def test_odd_sender_or_from_is_refused_not_a_crash(room, odd):
    """open() and accept_room_key() raise ProtocolError for any odd `sender` / `from` / `to`."""
    bob = room["Bob"]
    sealed = room["Alice"].seal("hi")
    with pytest.raises(ProtocolError):
        bob.open({**sealed, "sender": odd})
    for field in ("from", "to"):
        with pytest.raises(ProtocolError):
            bob.accept_room_key({"epoch": 9, "from": room["Alice"].member_id, "to": bob.member_id, field: odd})


@pytest.mark.parametrize("odd", ODD)
def test_odd_member_ids_elsewhere_are_ignored(room, odd):
    """member_left, member_away/back, rekey.passed_over, lookups and a resume ack with odd IDs."""
    bob = room["Bob"]
    assert not bob.remove_member(odd)
    assert bob.mark_away(odd) is False and bob.mark_back(odd) is False
    assert bob.member(odd) is None and bob.display_name(odd) is None
    assert bob.on_rekey({"epoch": bob.epoch, "passed_over": odd}) == {"passed_over_twice": None}
    ack = {"ok": True, "epoch": bob.epoch, "members": [{"member_id": odd}, room.announcements["Alice"]],
           "missed": [["member_left", {"member_id": odd}], ["member_joined", {"member_id": odd}]]}
    assert bob.resumed(ack)["left"] == []


def test_join_ack_of_another_version_is_bad_version():
    """Like protocol.js: an ack whose v is not 2 is refused; no v is accepted (an older server)."""
    room = Room(["Alice"])
    for v, ok in ((1, False), (3, False), (2, True), (None, True)):
        session = RoomSession(room.room_id, room.secret)
        session.start("Bob")
        ack = {"epoch": 1, "members": [], **({} if v is None else {"v": v})}
        if ok:
            session.joined(ack)
        else:
            with pytest.raises(ProtocolError) as err:
                session.joined(ack)
            assert err.value.code == "bad_version"
