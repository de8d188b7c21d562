"""The countdown: coarse then fine ticks, recomputed from expires_at, burns once at zero."""

import pytest

from burnchat.countdown import next_wait, run_countdown
from burnchat.rooms import Room
from burnchat.store import MemoryRoomStore
from tests.unit.fakes import FakeClock


@pytest.mark.parametrize("remaining, expected", [
    (3600, 10), (70, 10), (65, 5), (60.5, 0.5), (60, 1), (30, 1), (0.4, 0.4), (0, 0), (-3, 0)])
def test_next_wait(remaining, expected):
    assert next_wait(remaining) == pytest.approx(expected)


class FakeWaker:
    """Stands in for the engine's Event: `wait` moves the fake clock instead of sleeping."""

    def __init__(self, clock, courier):
        self.clock, self.courier, self.waits = clock, courier, []

    def clear(self):
        pass

    def wait(self, timeout):
        self.waits.append(timeout)
        self.courier.during_wait(self.clock)
        self.clock.advance(timeout)


class FakeCourier:
    """Records ticks and burns; lets a test change the room mid-countdown."""

    def __init__(self, clock, room):
        self.now, self.store = clock, MemoryRoomStore()
        self.store.add(room)
        self.ticks, self.burns = [], []
        self.during_wait = lambda clock: None

    def countdown_ended(self, room_id, waker):
        self.ended = (room_id, waker)

    def owns(self, room):
        return room.owner in (None, "me")

    def tick(self, room):
        self.ticks.append(room.expires_at - self.now())

    def burn(self, room_id, reason):
        self.burns.append((self.now(), reason))
        self.store.pop(room_id)


def countdown(ttl):
    clock = FakeClock()
    room = Room("r" * 22, b"", b"", clock(), clock() + ttl)
    courier = FakeCourier(clock, room)
    return clock, room, courier, FakeWaker(clock, courier)


def test_burns_exactly_at_expiry_with_fine_ticks_in_the_last_minute():
    clock, room, courier, waker = countdown(125)
    run_countdown(courier, room.room_id, waker)
    assert courier.burns == [(room.expires_at, "expired")]
    assert waker.waits[:7] == [10] * 6 + [5]
    assert all(w <= 1 for w in waker.waits[7:]) and len(waker.waits) == 7 + 60


def test_extension_during_a_coarse_sleep_moves_the_burn():
    clock, room, courier, waker = countdown(100)

    extended = []

    def extend_once(clock):
        if not extended:
            room.expires_at += 300
            extended.append(room.expires_at)
    courier.during_wait = extend_once
    run_countdown(courier, room.room_id, waker)
    assert courier.burns == [(extended[0], "expired")]


def test_burned_room_ends_its_task_without_a_second_burn():
    clock, room, courier, waker = countdown(100)
    courier.during_wait = lambda clock: courier.store.pop(room.room_id)
    run_countdown(courier, room.room_id, waker)
    assert courier.burns == [] and len(waker.waits) == 1
    assert courier.ended == (room.room_id, waker)


def test_countdown_stops_when_another_process_took_the_room_over():
    clock, room, courier, waker = countdown(100)
    room.owner = "me"
    courier.during_wait = lambda clock: setattr(room, "owner", "someone-else")
    run_countdown(courier, room.room_id, waker)
    assert courier.burns == [] and len(waker.waits) == 1
    assert courier.ended == (room.room_id, waker)
