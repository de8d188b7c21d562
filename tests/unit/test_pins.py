"""The server's side of the PIN (PROTOCOL.md §8.1): a verifier only its proof matches, compared
in constant time, and the lockout on an injected clock. Making PINs is the clients' (tests/client)."""

import hashlib

import pytest

from burnchat import pins
from burnchat.config import PIN_ROOM_MAX_FAILURES
from burnchat.rooms import Room, RoomError, b64u_bytes
from tests.pins import TEST_SALT, proof
from tests.unit.fakes import FakeClock

PIN = "ABCD-EFGH"


def raw_proof(pin):
    """The bytes an `admin_auth` proof of `pin` decodes to."""
    return b64u_bytes(proof(pin))


def make_room(clock):
    return Room("r" * 22, b64u_bytes(TEST_SALT), hashlib.sha256(raw_proof(PIN)).digest(),
                clock(), clock() + 600)


def test_only_the_pins_proof_matches_its_verifier():
    verifier = hashlib.sha256(raw_proof(PIN)).digest()
    assert pins.proof_matches(raw_proof(PIN), verifier)
    assert pins.proof_matches(raw_proof("abcd efgh"), verifier)  # the client normalizes
    assert not pins.proof_matches(raw_proof("ABCD-EFGJ"), verifier)
    assert not pins.proof_matches(verifier, verifier)  # what a memory dump holds is no proof
    assert not pins.proof_matches(b"", verifier)


def test_the_salt_is_served_as_the_creator_sent_it():
    assert make_room(FakeClock()).pin_salt_text == TEST_SALT


def test_three_wrong_pins_lock_the_address_out_for_ten_minutes():
    clock = FakeClock()
    room = make_room(clock)
    wrong = raw_proof("WRNG-2222")
    with pytest.raises(RoomError) as first:
        room.check_pin(wrong, "1.1.1.1", clock)
    assert first.value.code == "bad_pin" and first.value.extra["attempts_left"] == 2
    with pytest.raises(RoomError):
        room.check_pin(wrong, "1.1.1.1", clock)
    with pytest.raises(RoomError) as third:
        room.check_pin(wrong, "1.1.1.1", clock)
    assert third.value.code == "pin_locked_out"
    # Even the right PIN is refused while locked out; another address is unaffected.
    with pytest.raises(RoomError) as locked:
        room.check_pin(raw_proof(PIN), "1.1.1.1", clock)
    assert locked.value.code == "pin_locked_out" and "10 minutes" in locked.value.message
    room.check_pin(raw_proof(PIN), "2.2.2.2", clock)
    clock.advance(599)
    with pytest.raises(RoomError):
        room.check_pin(raw_proof(PIN), "1.1.1.1", clock)
    clock.advance(2)
    room.check_pin(raw_proof(PIN), "1.1.1.1", clock)


def test_failures_spread_over_more_than_ten_minutes_do_not_lock():
    clock = FakeClock()
    room = make_room(clock)
    wrong = raw_proof("WRNG-2222")
    for _ in range(2):
        with pytest.raises(RoomError):
            room.check_pin(wrong, "1.1.1.1", clock)
    clock.advance(601)
    with pytest.raises(RoomError) as again:
        room.check_pin(wrong, "1.1.1.1", clock)
    assert again.value.code == "bad_pin"
    room.check_pin(raw_proof(PIN), "1.1.1.1", clock)


def test_thirty_wrong_pins_from_any_addresses_lock_the_room_for_ten_minutes():
    """Checks are cheap now (§8.1): many addresses together get 30 wrong PINs per 10 minutes."""
    clock = FakeClock()
    room = make_room(clock)
    wrong = raw_proof("WRNG-2222")
    for n in range(PIN_ROOM_MAX_FAILURES):
        with pytest.raises(RoomError) as answer:
            room.check_pin(wrong, f"10.0.{n}.1", clock)
        assert answer.value.code == ("bad_pin" if n < PIN_ROOM_MAX_FAILURES - 1 else "pin_locked_out")
    with pytest.raises(RoomError) as locked:
        room.check_pin(raw_proof(PIN), "10.9.9.9", clock)  # even the right PIN, from a fresh address
    assert locked.value.code == "pin_locked_out" and locked.value.extra["retry_after"] == 600
    assert room.pin_retry_after("10.9.9.9", clock) == 600
    clock.advance(601)
    room.check_pin(raw_proof(PIN), "10.9.9.9", clock)


def test_the_last_attempts_before_the_room_wide_lock_are_said():
    clock = FakeClock()
    room = make_room(clock)
    wrong = raw_proof("WRNG-2222")
    for n in range(PIN_ROOM_MAX_FAILURES - 2):
        with pytest.raises(RoomError):
            room.check_pin(wrong, f"10.0.{n}.1", clock)
    with pytest.raises(RoomError) as answer:
        room.check_pin(wrong, "10.8.8.8", clock)
    assert answer.value.code == "bad_pin" and answer.value.extra["attempts_left"] == 1
