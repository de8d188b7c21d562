"""The countdowns: coarse then fine ticks, recomputed from expires_at, burns once at zero, one task."""

import pytest

from burnchat.countdown import GRID_SECONDS, YIELD_EVERY, Countdowns, next_wait
from burnchat.rooms import Room
from burnchat.store import MemoryRoomStore
from tests.unit.fakes import FakeClock


@pytest.mark.parametrize("remaining, expected", [
    (3600, 10), (70, 10), (65, 5), (60.5, 0.5), (60, 1), (30, 1), (0.4, 0.4), (0, 0), (-3, 0)])
def test_next_wait(remaining, expected):
    assert next_wait(remaining) == pytest.approx(expected)


class FakeEvent:
    """Stands in for the engine's Event: the tests drive `run_due` themselves."""

    def __init__(self):
        self.sets = 0

    def set(self):
        self.sets += 1

    def clear(self):
        pass


class FakeCourier:
    """Records ticks and burns; lets a test change the room mid-countdown."""

    def __init__(self, clock, room):
        self.now, self.store = clock, MemoryRoomStore()
        self.store.add(room)
        self.ticks, self.burns = [], []

    def owns(self, room):
        return room.owner in (None, "me")

    def tick(self, room):
        self.ticks.append(room.expires_at - self.now())

    def burn(self, room_id, reason):
        self.burns.append((self.now(), reason))
        self.store.pop(room_id)


class Driver:
    """Runs Countdowns on the fake clock: run what is due, then jump to the next due time.

    `during_wait(clock)` runs in each wait, as an extension or a burn from a handler would.
    """

    def __init__(self, clock, courier):
        self.clock, self.courier, self.waits = clock, courier, []
        self.event, self.tasks, self.yields = FakeEvent(), [], 0
        self.countdowns = Countdowns(courier, self.event, self.tasks.append, self._yield)
        self.during_wait = lambda clock: None

    def _yield(self, seconds):
        self.yields += 1

    def run(self, limit=10_000):
        """Until no countdown is left (or `limit` wake-ups): the waits between wake-ups."""
        for _ in range(limit):
            wait = self.countdowns.run_due()
            if not len(self.countdowns):
                return self.waits
            self.waits.append(wait)
            self.during_wait(self.clock)
            self.clock.advance(wait)
        raise AssertionError("the countdown never ended")


def countdown(ttl):
    clock = FakeClock()
    room = Room("r" * 22, b"", b"", clock(), clock() + ttl)
    courier = FakeCourier(clock, room)
    driver = Driver(clock, courier)
    driver.countdowns.start(room.room_id)
    return clock, room, courier, driver


def test_burns_at_expiry_with_fine_ticks_in_the_last_minute():
    clock, room, courier, driver = countdown(125)
    waits = driver.run()
    assert len(courier.burns) == 1 and courier.burns[0][1] == "expired"
    assert 0 <= courier.burns[0][0] - room.expires_at <= GRID_SECONDS  # never early, at most a grid late
    assert [round(w) for w in waits[:7]] == [10] * 6 + [5]
    assert all(w <= 1 + GRID_SECONDS for w in waits[7:]) and 60 <= len(waits) - 7 <= 61


def test_one_task_serves_every_room_and_rooms_due_together_share_a_wake_up():
    clock = FakeClock(start=1_000_000.001)
    rooms = [Room(f"{i:022d}", b"", b"", clock(), clock() + 3600 + i * 0.003) for i in range(5)]
    courier = FakeCourier(clock, rooms[0])
    for room in rooms[1:]:
        courier.store.add(room)
    driver = Driver(clock, courier)
    for room in rooms:
        driver.countdowns.start(room.room_id)
    assert len(driver.tasks) == 1
    driver.countdowns.run_due()  # the first ticks, at once
    assert len(courier.ticks) == 5
    wait = driver.countdowns.run_due()
    clock.advance(wait)
    driver.countdowns.run_due()
    assert len(courier.ticks) == 10  # all five next ticks (within 12 ms of each other) in one wake-up


def test_extension_wakes_the_countdown_at_once_and_moves_the_burn():
    clock, room, courier, driver = countdown(100)
    extended = []

    def extend_once(clock):
        if not extended:
            room.expires_at += 300
            extended.append(room.expires_at)
            driver.countdowns.wake(room.room_id)
    driver.during_wait = extend_once
    sets = driver.event.sets
    driver.countdowns.run_due()
    extend_once(clock)
    assert driver.event.sets == sets + 1
    ticks = len(courier.ticks)
    assert driver.countdowns.run_due() == pytest.approx(10)  # woken: ticked again without waiting
    assert len(courier.ticks) == ticks + 1
    driver.run()
    assert len(courier.burns) == 1
    assert 0 <= courier.burns[0][0] - extended[0] <= GRID_SECONDS


def test_burned_room_ends_its_countdown_without_a_second_burn():
    clock, room, courier, driver = countdown(100)
    driver.during_wait = lambda clock: courier.store.pop(room.room_id)
    driver.run()
    assert courier.burns == [] and len(driver.waits) == 1
    assert room.room_id not in driver.countdowns


def test_a_cancelled_countdown_leaves_nothing_of_the_room_in_the_heap():
    clock, room, courier, driver = countdown(100)
    driver.countdowns.run_due()
    driver.countdowns.wake(room.room_id)
    driver.countdowns.cancel(room.room_id)
    assert room.room_id not in driver.countdowns
    assert all(entry[2] is None for entry in driver.countdowns._heap)


def test_countdown_stops_when_another_process_took_the_room_over():
    clock, room, courier, driver = countdown(100)
    room.owner = "me"
    driver.during_wait = lambda clock: setattr(room, "owner", "someone-else")
    driver.run()
    assert courier.burns == [] and len(driver.waits) == 1
    assert room.room_id not in driver.countdowns


def test_many_rooms_due_at_once_let_the_relay_run_in_between():
    clock = FakeClock()
    rooms = [Room(f"{i:022d}", b"", b"", clock(), clock() + 3600) for i in range(250)]
    courier = FakeCourier(clock, rooms[0])
    for room in rooms[1:]:
        courier.store.add(room)
    driver = Driver(clock, courier)
    for room in rooms:
        driver.countdowns.start(room.room_id)
    driver.countdowns.run_due()
    assert len(courier.ticks) == 250 and driver.yields == 250 // YIELD_EVERY
