"""The server the Socket.IO protocol suite talks to: the real app plus the suite's echo handlers.

`python -m tests.conformance.echo_server PORT` builds Burn Chat with `create_app`, so every
Socket.IO and Engine.IO option (transports, serializer, origins, limits, ...) is the app's own,
serves it the way `app.py` does, and adds what the end of the suite's Readme.md asks for: an
`auth` echo on connect, `message` -> `message-back`, `message-with-ack` answered with its
arguments, and a `/custom` namespace. Three Engine.IO settings are the suite's, not ours:
see SUITE_SETTINGS and socket.io-protocol/README.md.
"""

from burnchat.patching import monkey_patch

monkey_patch()

import logging  # noqa: E402
import sys  # noqa: E402

from flask import request  # noqa: E402
from flask_socketio import emit  # noqa: E402

from burnchat import create_app, events, serving, socketio  # noqa: E402
from burnchat.config import Config  # noqa: E402

# The suite hard-codes these (its PING_INTERVAL / PING_TIMEOUT constants and the handshake's
# maxPayload); production runs 20 s / 20 s / MAX_FRAME_BYTES. Nothing else is changed.
SUITE_SETTINGS = {"ping_interval": 0.3, "ping_timeout": 0.2, "max_http_buffer_size": 1_000_000}


def build_app(port):
    """The app as `create_app` builds it for 127.0.0.1:`port`, with the suite's handlers added."""
    app = create_app(Config(host="127.0.0.1", port=port))
    eio = socketio.server.eio
    for name, value in SUITE_SETTINGS.items():
        setattr(eio, name, value)
    add_suite_handlers()
    return app


def add_suite_handlers():
    """Register the suite's handlers; `connect` on "/" still runs the app's own connect first."""

    @socketio.on("connect")
    def connect(auth=None):
        """The suite connects to "/": the app admits it (or refuses), then it hears `auth`."""
        events.on_connect(auth)  # the app's own: raises ConnectionRefusedError over a limit
        emit_after_connect("auth", auth or {})

    # Replaces the app's `message` (relay) handler in this process only: the names collide.
    @socketio.on("message")
    def message(*args):
        """The suite sends `message`; it hears `message-back` with the same arguments."""
        emit("message-back", args)  # a tuple: one Socket.IO argument per item

    @socketio.on("message-with-ack")
    def message_with_ack(*args):
        """The suite sends `message-with-ack`; its acknowledgement carries the same arguments."""
        return args

    @socketio.on("connect", namespace="/custom")
    def custom_connect(auth=None):
        """The suite connects to `/custom`; it hears `auth` there."""
        emit_after_connect("auth", auth or {}, namespace="/custom")


def emit_after_connect(event, data, namespace="/"):
    """Emit once the CONNECT packet is out, as a Node server's `connection` listener would.

    python-socketio runs the connect handler before it sends CONNECT (the handler may still
    refuse), so an `emit` inside it would reach the client first; the suite expects 40 then 42.
    """
    socketio.start_background_task(socketio.emit, event, data, to=request.sid, namespace=namespace)


def main():
    """Serve the suite's app on 127.0.0.1:PORT until killed."""
    logging.basicConfig(level=logging.WARNING)
    port = int(sys.argv[1])
    app = build_app(port)
    sys.stderr.write(f"conformance echo server on port {port}\n")
    serving.serve_with_eventlet(app, app.extensions["burnchat"].config)


if __name__ == "__main__":
    main()
