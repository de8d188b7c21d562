"""PINs: format, entropy alphabet, hashing, constant-time check, lockout with an injected clock."""

import re

import pytest

from burnchat import pins
from burnchat.rooms import Room, RoomError
from tests.unit.fakes import FakeClock


def test_pin_format_and_alphabet():
    made = {pins.new_pin() for _ in range(200)}
    assert len(made) == 200
    for pin in made:
        assert re.fullmatch(r"[23456789A-HJ-NP-Z]{4}-[23456789A-HJ-NP-Z]{4}", pin)
    assert len(pins.PIN_ALPHABET) == 32 and len(set(pins.PIN_ALPHABET)) == 32  # 40 bits


@pytest.mark.parametrize("typed", ["ABCD-EFGH", "abcdefgh", "abcd-efgh", " ABCD EFGH"])
def test_pin_accepted_without_dash_and_in_any_case(typed):
    salt, digest = pins.hash_pin("ABCD-EFGH")
    assert pins.pin_matches(typed, salt, digest)


def test_wrong_pin_and_stored_hash_only():
    salt, digest = pins.hash_pin("ABCD-EFGH")
    assert not pins.pin_matches("ABCD-EFGJ", salt, digest)
    assert b"ABCD" not in digest and len(salt) == 16


def make_room(clock):
    salt, digest = pins.hash_pin("ABCD-EFGH")
    return Room("r" * 22, salt, digest, clock(), clock() + 600)


def test_three_wrong_pins_lock_the_address_out_for_ten_minutes():
    clock = FakeClock()
    room = make_room(clock)
    with pytest.raises(RoomError) as first:
        room.check_pin("WRONG222", "1.1.1.1", clock)
    assert first.value.code == "bad_pin" and first.value.extra["attempts_left"] == 2
    with pytest.raises(RoomError):
        room.check_pin("WRONG222", "1.1.1.1", clock)
    with pytest.raises(RoomError) as third:
        room.check_pin("WRONG222", "1.1.1.1", clock)
    assert third.value.code == "pin_locked_out"
    # Even the right PIN is refused while locked out; another address is unaffected.
    with pytest.raises(RoomError) as locked:
        room.check_pin("ABCD-EFGH", "1.1.1.1", clock)
    assert locked.value.code == "pin_locked_out" and "10 minutes" in locked.value.message
    room.check_pin("ABCD-EFGH", "2.2.2.2", clock)
    clock.advance(599)
    with pytest.raises(RoomError):
        room.check_pin("ABCD-EFGH", "1.1.1.1", clock)
    clock.advance(2)
    room.check_pin("ABCD-EFGH", "1.1.1.1", clock)


def test_failures_spread_over_more_than_ten_minutes_do_not_lock():
    clock = FakeClock()
    room = make_room(clock)
    for _ in range(2):
        with pytest.raises(RoomError):
            room.check_pin("WRONG222", "1.1.1.1", clock)
    clock.advance(601)
    with pytest.raises(RoomError) as again:
        room.check_pin("WRONG222", "1.1.1.1", clock)
    assert again.value.code == "bad_pin"
    room.check_pin("ABCD-EFGH", "1.1.1.1", clock)
