"""Slow, GIL-free work (PIN hashing) on a real OS thread, so the event loop keeps relaying.

`hashlib.scrypt` releases the GIL, but called on the event loop it still stops
every green thread for its ~10 ms: about 100 PIN guesses a second took relay
latency from 1.4 to 18.7 ms. Here it runs on eventlet's or gevent's own thread
pool (the one place Burn Chat touches them directly: Flask-SocketIO has no
thread-pool call), on one thread, so hashing can take at most one core of the
machine, and with a bounded queue, so a flood of guesses is refused as "busy"
rather than queued without end.
"""

from .rooms import RoomError

THREADS = 1
MAX_WAITING = 64


class Offloader:
    """Runs a blocking function on a worker thread while the calling green thread waits."""

    def __init__(self, async_mode, threads=THREADS, max_waiting=MAX_WAITING):
        self._max_waiting = max_waiting
        self._waiting = 0
        self._execute = _executor(async_mode, threads)

    def run(self, fn, *args):
        """`fn(*args)` on the worker thread; raises RoomError("busy") when too many already wait."""
        if self._waiting >= self._max_waiting:
            raise RoomError("busy", "Burn Chat is busy. Try again in a minute.")
        self._waiting += 1
        try:
            return self._execute(fn, *args)
        finally:
            self._waiting -= 1


def _executor(async_mode, threads):
    """`execute(fn, *args)` for the async mode: its thread pool, or a plain call without one."""
    if async_mode == "eventlet":
        from eventlet import tpool

        tpool.set_num_threads(threads)  # takes effect when the pool first starts
        return tpool.execute
    if async_mode == "gevent":
        from gevent.threadpool import ThreadPool

        pool = ThreadPool(threads)
        return lambda fn, *args: pool.apply(fn, args)
    return lambda fn, *args: fn(*args)  # threading mode: the caller is already a real thread
