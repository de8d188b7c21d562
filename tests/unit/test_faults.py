"""Fault handling in pure code: retries that never die, absences confirmed twice, the stall guard."""

import logging

import pytest

from burnchat.heartbeat import Absences, Heartbeat
from burnchat.supervise import retrying
from tests.unit.test_countdown import countdown


class Flaky:
    """Raises `error` the first `failures` calls, then answers."""

    def __init__(self, failures, error=ConnectionError("redis://10.0.0.7 room abc")):
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "done"


def test_retrying_backs_off_and_logs_the_error_type_once(caplog):
    naps = []
    with caplog.at_level(logging.WARNING, logger="burnchat"):
        assert retrying(naps.append, Flaky(6)) == "done"
    assert naps == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0]
    assert [r.getMessage() for r in caplog.records] == [
        "background task retrying after ConnectionError"]  # no address, no room


def test_a_countdown_outlives_store_errors_and_still_burns_on_time(caplog):
    clock, room, courier, driver = countdown(ttl=3)
    get = courier.store.get
    flaky = Flaky(3)
    courier.store.get = lambda room_id: (flaky(), get(room_id))[1]
    with caplog.at_level(logging.WARNING, logger="burnchat"):
        driver.run()
    assert driver.waits[:3] == pytest.approx([0.05, 0.1, 0.2])  # backing off, as retrying() does
    assert [r.getMessage() for r in caplog.records] == [
        "background task retrying after ConnectionError"]  # once, no address, no room
    assert flaky.calls > 3
    assert len(courier.burns) == 1
    burned_at, reason = courier.burns[0]
    assert reason == "expired" and burned_at - room.expires_at < 0.5


def test_absent_twice_in_a_row_is_confirmed():
    absences = Absences()
    assert absences.confirm({"a", "b"}) == set() and absences.pending
    assert absences.confirm({"a"}) == {"a"}  # b came back (or left our sockets): forgotten
    assert not absences.pending
    assert absences.confirm({"b"}) == set()


class FakeStore:
    """Just enough of RedisRoomStore for one heartbeat round."""

    heartbeat_seconds = 0.2

    def __init__(self, steady):
        self.steady, self.asked = steady, []

    def heartbeat(self, process_id):
        return self.steady

    def dead_processes(self, process_id):
        self.asked.append(process_id)
        return []

    def missing_rooms(self, room_ids):
        return set()


class FakeCourier:
    process_id = "me"
    connections = {}

    def __init__(self, store):
        self.store = store


def test_no_process_is_judged_dead_in_a_round_where_our_own_heartbeat_had_lapsed():
    # After a Redis stall every heartbeat has lapsed at once; the others renew within a round.
    lapsed, steady = FakeStore(steady=False), FakeStore(steady=True)
    Heartbeat(FakeCourier(lapsed)).round()
    Heartbeat(FakeCourier(steady)).round()
    assert lapsed.asked == [] and steady.asked == ["me"]
