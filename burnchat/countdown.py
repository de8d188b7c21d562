"""The per-room countdown: when to wake, and the loop that ticks and burns.

The loop always recomputes the time left from `expires_at` (never decrements
a counter), so an extension, a clock hiccup or a late wake-up can never make
a room burn late or twice.
"""

from .supervise import retrying

COARSE_TICK_SECONDS = 10.0
FINE_TICK_SECONDS = 1.0
FINAL_MINUTE_SECONDS = 60.0


def next_wait(remaining):
    """Seconds to sleep before the next tick, given the seconds left.

    Coarse while more than a minute remains (but never sleeping past the start
    of the final minute), every second in the final minute, and exactly up to
    zero at the end.
    """
    if remaining > FINAL_MINUTE_SECONDS:
        return min(COARSE_TICK_SECONDS, remaining - FINAL_MINUTE_SECONDS)
    return max(0.0, min(FINE_TICK_SECONDS, remaining))


def run_countdown(courier, room_id, waker):
    """Background task for one room: tick, sleep, burn at zero; ends when the room is gone.

    A store error (Redis restarting, say) is retried, never fatal: a countdown
    that died would leave a room that never burns.
    """
    def nap(seconds):
        waker.clear()
        waker.wait(seconds)

    try:
        while True:
            wait = retrying(nap, _step, courier, room_id)
            if wait is None:
                return
            nap(wait)
    finally:
        courier.countdown_ended(room_id, waker)


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
