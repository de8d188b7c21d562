"""Entry point: `python app.py` serves Burn Chat on $HOST:$PORT (the Procfile binds 0.0.0.0).

The async library is monkey-patched before anything else is imported, as eventlet
and gevent require. BURNCHAT_ASYNC_MODE picks it: eventlet (default, deployed) or
gevent, kept working because eventlet is deprecated upstream.
"""

from burnchat.patching import monkey_patch

monkey_patch()

import gc  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402

from burnchat import create_app, gate, serving, socketio  # noqa: E402
from burnchat.config import Config  # noqa: E402

SHUTDOWN_GRACE_SECONDS = 3.0
# Young collections every 20,000 allocations instead of 700 (docs/BENCHMARKS.md, GC pauses).
GC_THRESHOLDS = (20_000, 20, 20)


def raise_open_file_limit():
    """Every socket is a file descriptor: allow as many as the system lets us."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def quiet_logging():
    """No access log and no library chatter: nothing about a room reaches a log."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("werkzeug", "socketio", "socketio.server", "engineio", "engineio.server",
                 "geventwebsocket"):
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def tune_gc(config):
    """Freeze everything start-up made (modules, the app, templates) out of the collector's
    walks, and collect the young generation less often: a full collection pauses every room."""
    if "gc" not in config.stack_tuning:
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def install_shutdown(courier):
    """On SIGTERM (a dyno restart) burn every room, let clients hear it, then exit."""
    # The event loop may sleep for a minute when idle, so a task spawned by the
    # signal handler could wait that long: the handler writes to a socket the
    # loop watches instead, which wakes it at once.
    wake_reader, wake_writer = socket.socketpair()
    wake_writer.setblocking(False)

    def shutdown():
        wake_reader.recv(1)
        if not courier.store.shared:
            courier.burn_all("shutdown")
        # With a shared store the rooms live on: the other processes adopt their
        # countdowns, and our members leave (and rekey) as their sockets close below.
        for sid in list(courier.connections):
            socketio.server.disconnect(sid, namespace="/")
        # A client closes its transport once it has read its goodbye; wait for that, briefly.
        deadline = courier.now() + SHUTDOWN_GRACE_SECONDS
        while socketio.server.eio.sockets and courier.now() < deadline:
            socketio.sleep(0.05)
        os._exit(0)

    def on_sigterm(signum, frame):
        try:
            wake_writer.send(b"\0")  # non-blocking: never waits inside the event loop
        except BlockingIOError:
            pass  # a wake-up byte is already waiting

    socketio.start_background_task(shutdown)
    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, on_sigterm)


def main():
    """Build the app from the environment and serve it until SIGTERM."""
    quiet_logging()
    raise_open_file_limit()
    config = Config.from_env()
    try:
        app = create_app(config)
    except RuntimeError as error:  # e.g. a Redis that persists to disk
        sys.stderr.write(f"{error}\n")
        sys.exit(2)
    install_shutdown(app.extensions["burnchat"])
    tune_gc(config)
    # Our own address, to click; no client's address ever reaches the output (no-trace tests).
    sys.stderr.write(f"Burn Chat on {serving.local_url(config)}\n")
    if gate.loopback_only(config):
        sys.stderr.write("Only loopback Host names are served: set BURNCHAT_ALLOWED_HOSTS "
                         "to the site's name (see README, Deploying)\n")
    if config.async_mode == "eventlet":
        serving.serve_with_eventlet(app, config)
    else:
        serving.serve_with_gevent(app, socketio, config)


if __name__ == "__main__":
    main()
