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

    def take(self):
        """Spend one token if there is one; False means the caller must slow down."""
        now = self._now()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if self._tokens >= 1:
            self._tokens -= 1
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
