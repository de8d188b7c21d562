"""AddressLimiter holds a key only while its window has events, and allows exactly what it did.

The reference is the limiter as it was: a deque per key for the key's life.
"""

import random
import tracemalloc
from collections import deque

import pytest

from burnchat.limits import AddressLimiter
from tests.unit.fakes import FakeClock


class DequeLimiter:
    """The limiter before idle windows were dropped (burnchat/limits.py until perf2)."""

    def __init__(self, now, limit, window=60.0, max_addresses=100_000):
        self._now, self._limit, self._window, self._max = now, limit, window, max_addresses
        self._events = {}

    def allow(self, address):
        now = self._now()
        events = self._events.get(address)
        if events is None:
            if len(self._events) >= self._max:
                cutoff = now - self._window
                for key in [a for a, ev in self._events.items() if not ev or ev[-1] <= cutoff]:
                    del self._events[key]
            events = self._events[address] = deque()
        while events and events[0] <= now - self._window:
            events.popleft()
        if len(events) >= self._limit:
            return False
        events.append(now)
        return True

    def forget(self, key):
        self._events.pop(key, None)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("limit", [0, 1, 2, 3, 6, 100])
def test_it_allows_exactly_what_the_deque_limiter_allowed(seed, limit):
    rng = random.Random(seed)
    clock = FakeClock()
    max_addresses = rng.choice((5, 100_000))  # a small cap exercises the forget-idle path
    ours = AddressLimiter(clock, limit, window=60, max_addresses=max_addresses)
    reference = DequeLimiter(clock, limit, window=60, max_addresses=max_addresses)
    keys = [f"k{i}" for i in range(rng.choice((3, 12, 40)))]
    for step in range(3000):
        step_size = rng.choice((0, 0, 0.5, 1, 7, 30, 59.99, 60, 60.01, 200))
        # Whole seconds half the time, so that events fall exactly one window apart.
        clock.advance(step_size * rng.random() if rng.random() < 0.5 else float(int(step_size)))
        key = rng.choice(keys)
        if rng.random() < 0.05:
            ours.forget(key)
            reference.forget(key)
        else:
            assert ours.allow(key) == reference.allow(key), (seed, step, key)


def test_a_window_exactly_passed_no_longer_counts():
    clock = FakeClock()
    limiter = AddressLimiter(clock, limit=2, window=60)
    assert limiter.allow("a") and limiter.allow("a") and not limiter.allow("a")
    clock.advance(59.5)
    assert not limiter.allow("a")
    clock.advance(0.5)  # the first two are now exactly one window old
    assert limiter.allow("a") and limiter.allow("a") and not limiter.allow("a")


def test_an_older_event_leaves_the_window_while_a_newer_one_counts():
    clock = FakeClock()
    limiter = AddressLimiter(clock, limit=2, window=60)
    assert limiter.allow("a")
    clock.advance(30)
    assert limiter.allow("a") and not limiter.allow("a")
    clock.advance(30)  # the first is exactly one window old, the second half of one
    assert limiter.allow("a") and not limiter.allow("a")


def test_idle_keys_are_dropped_while_the_limiter_is_used():
    clock = FakeClock()
    limiter = AddressLimiter(clock, limit=6, window=60)
    for sid in range(500):
        assert limiter.allow(f"socket-{sid}")  # 500 members joined once, then idle
    assert len(limiter) == 500
    clock.advance(30)
    for _ in range(500):
        limiter.allow("busy")  # inside their window: nobody is dropped
    assert len(limiter) == 501
    clock.advance(30)  # now every idle socket's one join is a window old
    for calls in range(1, 1000):
        limiter.allow("busy")
        if len(limiter) == 1:
            break
    assert len(limiter) == 1 and calls <= 501 // 2 + 1  # two keys looked at per call
    assert not limiter.allow("busy")  # the busy key kept its own count throughout
    assert limiter.allow("socket-3")  # a dropped socket starts afresh, as it would have


def test_a_forgotten_key_is_gone_at_once():
    clock = FakeClock()
    limiter = AddressLimiter(clock, limit=1, window=60)
    assert limiter.allow("sid") and not limiter.allow("sid")
    limiter.forget("sid")
    assert len(limiter) == 0
    assert limiter.allow("sid")


def test_an_idle_socket_costs_a_tenth_of_a_deque():
    # tests/unit/test_idle_memory.py style: what the per-socket join limiter keeps per member
    # after one join (the deque was ~786 B per member in `python -m bench.memory`).
    clock = FakeClock()
    sids = [f"sid-{i:020d}" for i in range(2000)]  # the keys live anyway (the connection's)
    for limiter_class, budget in ((DequeLimiter, None), (AddressLimiter, 100)):
        limiter = limiter_class(clock, 6, window=60)
        tracemalloc.start()
        for sid in sids:
            clock.advance(0.001)
            limiter.allow(sid)
        per_socket = tracemalloc.get_traced_memory()[0] / len(sids)
        tracemalloc.stop()
        if budget is None:
            assert per_socket > 600  # the measurement sees the deque
        else:
            assert per_socket < budget, per_socket
