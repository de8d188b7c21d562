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
    """At most `limit` events per `window` seconds for each client address."""

    def __init__(self, now, limit, window=60.0, max_addresses=100_000):
        self._now = now
        self._limit = limit
        self._window = window
        self._max_addresses = max_addresses
        self._events = {}

    def allow(self, address):
        """Count one event for `address`; False when it is over its limit."""
        now = self._now()
        events = self._events.get(address)
        if events is None:
            if len(self._events) >= self._max_addresses:
                self._forget_idle(now)
            events = self._events[address] = deque()
        while events and events[0] <= now - self._window:
            events.popleft()
        if len(events) >= self._limit:
            return False
        events.append(now)
        return True

    def _forget_idle(self, now):
        """Drop addresses with no event inside the window, bounding memory."""
        cutoff = now - self._window
        for address in [a for a, ev in self._events.items() if not ev or ev[-1] <= cutoff]:
            del self._events[address]

    def forget(self, key):
        """Drop everything counted for `key` (e.g. a socket that closed)."""
        self._events.pop(key, None)


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
