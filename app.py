"""Entry point: `python app.py` serves Burn Chat on $HOST:$PORT (the Procfile binds 0.0.0.0).

The async library is monkey-patched before anything else is imported, as eventlet
and gevent require. BURNCHAT_ASYNC_MODE picks it: eventlet (default, deployed) or
gevent, kept working because eventlet is deprecated upstream.
"""

import os
import warnings

ASYNC_MODE = os.environ.get("BURNCHAT_ASYNC_MODE", "eventlet")
if ASYNC_MODE == "eventlet":
    # Eventlet warns on import that it is in maintenance mode; we know, see README.
    warnings.filterwarnings("ignore", message=r"[\s\S]*Eventlet is deprecated")
    import eventlet

    eventlet.monkey_patch()
elif ASYNC_MODE == "gevent":
    from gevent import monkey

    monkey.patch_all()

import logging  # noqa: E402
import resource  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

from burnchat import create_app, socketio  # noqa: E402
from burnchat.config import Config  # noqa: E402

SHUTDOWN_GRACE_SECONDS = 3.0


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


def install_shutdown(courier):
    """On SIGTERM (a dyno restart) burn every room, let clients hear it, then exit."""
    def shutdown():
        courier.burn_all("shutdown")
        deadline = courier.now() + SHUTDOWN_GRACE_SECONDS
        while courier.connections and courier.now() < deadline:
            socketio.sleep(0.05)
        os._exit(0)

    def on_sigterm(signum, frame):
        socketio.start_background_task(shutdown)

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.signal(signal.SIGINT, on_sigterm)


def main():
    """Build the app from the environment and serve it until SIGTERM."""
    quiet_logging()
    raise_open_file_limit()
    config = Config.from_env()
    app = create_app(config)
    install_shutdown(app.extensions["burnchat"])
    run_options = {"log_output": False}
    if config.async_mode == "eventlet":
        # eventlet.wsgi caps concurrent connections at 1024 unless told otherwise.
        run_options["max_size"] = config.max_connections + 100
    sys.stderr.write(f"Burn Chat listening on http://{config.host}:{config.port}\n")
    socketio.run(app, host=config.host, port=config.port, **run_options)


if __name__ == "__main__":
    main()
