"""Background work that outlives a fault: catch, back off, retry, and say so in one line.

A Redis restart, a timeout or a Redis still loading its data must never end a
countdown, the heartbeat loop or a key watchdog: a task that died would leave a
room that never ticks, never burns or never gets its key. Pure Python: the
caller passes its `sleep` (Flask-SocketIO's, so the wait is cooperative).
"""

import logging

log = logging.getLogger("burnchat")

FIRST_BACKOFF_SECONDS = 0.05
MAX_BACKOFF_SECONDS = 1.0


def retrying(sleep, fn, *args, first=FIRST_BACKOFF_SECONDS, cap=MAX_BACKOFF_SECONDS):
    """Call `fn(*args)` until it returns, backing off (doubling up to `cap`) after each error.

    Logs one line per outage, naming the error type only: the error's text may
    hold a room ID or an address, and the server keeps no trace of either.
    """
    wait, failing = first, None
    while True:
        try:
            return fn(*args)
        except Exception as error:  # a task that dies here would leave a room silent forever
            if type(error) is not failing:
                failing = type(error)
                log.warning("background task retrying after %s", failing.__name__)
            sleep(wait)
            wait = min(cap, wait * 2)
