"""Every room's countdown: when to wake, and one timer task that ticks and burns them all.

Each countdown always recomputes the time left from `expires_at` (never
decrements a counter), so an extension, a clock hiccup or a late wake-up can
never make a room burn late or twice.

One background task runs all of a process's countdowns from a heap of due
times, instead of one task per room waiting on its own Event: 10,000 idle
rooms cost one task's wake-ups, and due times are rounded up to a 20 ms grid
so rooms due together tick in one wake-up (never early; at most 20 ms late).
An extension wakes the task at once (`wake`); a burned room's entry is
dropped (`cancel`). The clock (`courier.now`), the task's wait (an Event) and
its yield (`sleep`) are injected, so tests run it on a fake clock.
"""

import heapq
import itertools
import logging
import math

from .supervise import FIRST_BACKOFF_SECONDS, MAX_BACKOFF_SECONDS

log = logging.getLogger("burnchat")

COARSE_TICK_SECONDS = 10.0
FINE_TICK_SECONDS = 1.0
FINAL_MINUTE_SECONDS = 60.0
GRID_SECONDS = 0.02         # due times round up to this: rooms due together share a wake-up
IDLE_WAIT_SECONDS = 60.0    # with no countdown at all, look again this often anyway
YIELD_EVERY = 20            # let the relay run between this many countdown steps


def next_wait(remaining):
    """Seconds to sleep before the next tick, given the seconds left.

    Coarse while more than a minute remains (but never sleeping past the start
    of the final minute), every second in the final minute, and exactly up to
    zero at the end.
    """
    if remaining > FINAL_MINUTE_SECONDS:
        return min(COARSE_TICK_SECONDS, remaining - FINAL_MINUTE_SECONDS)
    return max(0.0, min(FINE_TICK_SECONDS, remaining))


def _step(courier, room_id):
    """One tick (or the burn); the seconds to sleep next, or None when the countdown is over."""
    room = courier.store.get(room_id)
    if room is None or not courier.owns(room):
        return None
    remaining = room.expires_at - courier.now()
    if remaining <= 0:
        courier.burn(room_id, "expired")
        return None
    courier.tick(room)
    return next_wait(remaining)


class Countdowns:
    """The countdowns this process runs: a heap of [due, order, room] and the task that serves it.

    A room has at most one live entry; rescheduling or cancelling it blanks the
    old entry's room (the heap then holds nothing of a burned room) and the
    blank is skipped when it comes up.
    """

    def __init__(self, courier, event, start_task, sleep):
        self._courier = courier
        self._event = event            # set to wake the task early (a new or extended room)
        self._start_task = start_task
        self._sleep = sleep
        self._heap = []
        self._entries = {}             # room ID -> its live heap entry
        self._failures = {}            # room ID -> store errors in a row (its backoff)
        self._failing = None           # the error type of the current outage, logged once
        self._order = itertools.count()   # ties of due time break by scheduling order
        self._running = False

    def __contains__(self, room_id):
        return room_id in self._entries

    def __len__(self):
        return len(self._entries)

    def start(self, room_id):
        """Run a room's countdown here, its first tick at once."""
        self._at(room_id, self._courier.now())
        if not self._running:
            self._running = True
            self._start_task(self.run)
        self._event.set()

    def wake(self, room_id):
        """Make the room's countdown look at its expiry again at once (extend)."""
        if room_id in self._entries:
            self._at(room_id, self._courier.now())
            self._event.set()

    def cancel(self, room_id):
        """Forget a room's countdown (it burned, or was lost)."""
        entry = self._entries.pop(room_id, None)
        if entry is not None:
            entry[2] = None
        self._failures.pop(room_id, None)

    def run(self):
        """The task: run what is due, wait for the next due time or a wake-up, for ever."""
        while True:
            self._event.clear()   # before the work: a wake-up during it is not lost
            try:
                wait = self.run_due()
            except Exception as error:  # a dead task would leave every room silent forever
                log.warning("countdowns retrying after %s", type(error).__name__)
                wait = FIRST_BACKOFF_SECONDS
            self._event.wait(wait)

    def run_due(self):
        """Step every countdown due by now; the seconds until the next one is due."""
        now = self._courier.now()
        steps = 0
        while self._heap and self._heap[0][0] <= now:
            room_id = heapq.heappop(self._heap)[2]
            if room_id is None:
                continue  # rescheduled or cancelled since
            del self._entries[room_id]
            self._run_one(room_id, now)
            steps += 1
            if steps % YIELD_EVERY == 0:
                self._sleep(0)
        if not self._heap:
            return IDLE_WAIT_SECONDS
        return max(0.0, self._heap[0][0] - self._courier.now())

    def _run_one(self, room_id, now):
        """One room's step; a store error (Redis restarting, say) retries it after a backoff."""
        try:
            wait = _step(self._courier, room_id)
        except Exception as error:  # noqa: BLE001 - only the type is logged: no room ID, no address
            failures = self._failures.get(room_id, 0)
            self._failures[room_id] = failures + 1
            if type(error) is not self._failing:
                self._failing = type(error)
                log.warning("background task retrying after %s", self._failing.__name__)
            self._at(room_id, now + min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** failures),
                     exact=True)
            return
        self._failures.pop(room_id, None)
        self._failing = None
        if wait is not None:
            self._at(room_id, self._courier.now() + wait, exact=wait == 0)

    def _at(self, room_id, due, exact=True):
        """(Re)schedule a room; unless `exact`, rounded up to the grid."""
        if not exact:
            due = math.ceil(due / GRID_SECONDS) * GRID_SECONDS
        old = self._entries.get(room_id)
        if old is not None:
            old[2] = None
        entry = self._entries[room_id] = [due, next(self._order), room_id]
        heapq.heappush(self._heap, entry)
