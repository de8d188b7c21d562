"""Rate limits: token buckets per member and sliding-window counters per client address.

Pure code with an injected clock.
"""

from collections import deque


class TokenBucket:
    """Allows `rate` events per second on average with bursts up to `burst`."""

    __slots__ = ("_rate", "_burst", "_tokens", "_stamp", "_now")

    def __init__(self, now, rate, burst):
        self._now = now
        self._rate = rate
        self._burst = burst
        self._tokens = float(burst)
        self._stamp = now()

    def take(self, cost=1):
        """Spend `cost` tokens if there are that many; False means the caller must slow down."""
        now = self._now()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if self._tokens >= cost:
            self._tokens -= cost
            return True
        return False


class AddressLimiter:
    """At most `limit` events per `window` seconds for each key (a client address, a socket).

    A key holds only the times of its events still inside the window, and is held only
    while it has one: the per-socket join limit would otherwise keep a `deque` (~0.8 KiB)
    for every idle member. One time is kept as the bare number (the usual case), more in a
    deque (a busy address's window stays O(1) per event); each call also looks at the two
    keys longest unchecked and drops those whose window has passed, so idle keys go while
    the limiter is in use.
    """

    SWEEP_PER_CALL = 2

    def __init__(self, now, limit, window=60.0, max_addresses=100_000):
        self._now = now
        self._limit = limit
        self._window = window
        self._max_addresses = max_addresses
        self._times = {}  # key -> the time of its one event, or a deque of them, oldest first
        self._sweep_order = deque()  # the keys of _times (and some gone since), next to check first

    def __len__(self):
        """How many keys are held."""
        return len(self._times)

    def allow(self, key):
        """Count one event for `key`; False when it is over its limit."""
        now = self._now()
        cutoff = now - self._window
        self._sweep(cutoff)
        held = self._times.get(key)
        if held is None:
            if self._limit < 1:
                return False
            if len(self._times) >= self._max_addresses:
                self._forget_idle(cutoff)
            self._times[key] = now
            self._sweep_order.append(key)
            return True
        if isinstance(held, deque):
            while held and held[0] <= cutoff:
                held.popleft()
            if len(held) >= self._limit:
                return False
            if held:
                held.append(now)
                return True
        elif held > cutoff:  # its one event still counts
            if self._limit < 2:
                return False
            self._times[key] = deque((held, now))
            return True
        self._times[key] = now  # nothing left in its window: it starts afresh
        return True

    def _sweep(self, cutoff):
        """Drop the next few keys whose events are all at or before `cutoff`; requeue the rest."""
        order, held = self._sweep_order, self._times
        for _ in range(min(self.SWEEP_PER_CALL, len(order))):
            key = order.popleft()
            times = held.get(key)
            if times is None:
                continue  # forgotten meanwhile
            if _newest(times) <= cutoff:
                del held[key]
            else:
                order.append(key)

    def _forget_idle(self, cutoff):
        """Drop every key with no event after `cutoff`, bounding memory."""
        self._times = {key: times for key, times in self._times.items()
                       if _newest(times) > cutoff}
        self._sweep_order = deque(self._times)

    def forget(self, key):
        """Drop everything counted for `key` (e.g. a socket that closed)."""
        self._times.pop(key, None)


def _newest(times):
    """The latest time a key holds."""
    return times[-1] if isinstance(times, deque) else times


class OpenCounter:
    """At most `limit` things open at once per key (sockets, sessions of one client address)."""

    def __init__(self, limit):
        self._limit = limit
        self._open = {}

    def acquire(self, key):
        """Count one more open for `key`; False (and nothing counted) when it is at its limit."""
        count = self._open.get(key, 0)
        if count >= self._limit:
            return False
        self._open[key] = count + 1
        return True

    def release(self, key):
        """One of `key`'s closed."""
        count = self._open.get(key, 0) - 1
        if count > 0:
            self._open[key] = count
        else:
            self._open.pop(key, None)


class LiveRooms:
    """Which client address made which live room, so one address holds at most `limit` at once.

    In memory only, and a room leaves it when it burns. `full()` asks the store before refusing, so
    a room burned by another process (shared stores) stops counting then.
    """

    def __init__(self, limit):
        self._limit = limit
        self._by_address = {}
        self._address_of = {}

    def full(self, address, is_live):
        """True when `address` already has `limit` rooms for which `is_live(room_id)` holds."""
        rooms = self._by_address.get(address, ())
        if len(rooms) < self._limit:
            return False
        for room_id in [r for r in rooms if not is_live(r)]:
            self.release(room_id)
        return len(self._by_address.get(address, ())) >= self._limit

    def add(self, address, room_id):
        """`address` made `room_id`."""
        self._by_address.setdefault(address, set()).add(room_id)
        self._address_of[room_id] = address

    def release(self, room_id):
        """`room_id` burned."""
        address = self._address_of.pop(room_id, None)
        rooms = self._by_address.get(address)
        if rooms is not None:
            rooms.discard(room_id)
            if not rooms:
                del self._by_address[address]
