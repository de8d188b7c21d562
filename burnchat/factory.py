"""The app factory: one Flask app, one Socket.IO server, one courier owning the rooms."""

import logging
import time
from pathlib import Path

from flask import Flask, jsonify, render_template, request
from flask_socketio import SocketIO
from werkzeug.exceptions import HTTPException

from .config import MAX_FRAME_BYTES, Config
from .courier import Courier
from . import transport
from .frames import StrictPacket
from .gate import Gate
from .security import SecurityHeaders
from .store import MemoryRoomStore

ROOT = Path(__file__).resolve().parent.parent
socketio = SocketIO()
log = logging.getLogger("burnchat")


def create_app(config=None, now=time.time, store=None):
    """Build the app. `config`, the clock `now` and the `store` are injectable for tests."""
    config = config or Config.from_env()
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(ROOT / "static"), static_url_path="/static")
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024, JSON_SORT_KEYS=False)
    socketio.init_app(
        app,
        async_mode=config.async_mode,
        # None means same origin only; never "*" (cross-site WebSocket hijacking).
        cors_allowed_origins=list(config.allowed_origins) or None,
        max_http_buffer_size=MAX_FRAME_BYTES,
        transports=["websocket"],  # every client; polling is refused (gate.py)
        serializer=StrictPacket,  # malformed frames become refusable events, see frames.py
        logger=False,
        engineio_logger=False,
        ping_interval=20,
        ping_timeout=20,
        # Several processes: emits travel through Redis to every process's sockets.
        message_queue=config.redis_url or None,
    )
    transport.install(socketio, config)
    store = store if store is not None else _default_store(config)  # an empty store is falsy
    courier = app.extensions["burnchat"] = Courier(config, store, socketio, now)
    if store.shared:
        store.process_id = courier.process_id  # stamps our members (see RedisRoomStore)
        socketio.start_background_task(courier.run_leases)
    from . import events  # noqa: F401  (registers the Socket.IO handlers)
    if config.test_hooks:
        from . import introspect
        introspect.install(socketio)
    from .views import not_found, pages
    app.register_blueprint(pages)
    _harden(app, config)
    app.register_error_handler(404, lambda error: not_found())
    return app


def _default_store(config):
    """Rooms in this process's RAM, or in Redis when BURNCHAT_REDIS_URL is set."""
    if not config.redis_url:
        return MemoryRoomStore()
    from .redis_store import RedisRoomStore  # Redis is only needed, and imported, when asked for
    return RedisRoomStore(config.redis_url, socketio.sleep, config.redis_allow_persistence,
                          config.heartbeat_seconds, config.heartbeat_ttl_seconds)


def _harden(app, config):
    """Security headers on every response; errors answered without logging what was asked."""
    # Wraps Flask-SocketIO's middleware too, so Engine.IO's own answers carry the headers,
    # and so do the gate's refusals (wrong Host, polling, too many sessions).
    app.wsgi_app = SecurityHeaders(Gate(app.wsgi_app, config), config.trusted_proxies)

    @app.errorhandler(Exception)
    def internal_error(error):
        if isinstance(error, HTTPException):
            if request.path.startswith("/api/"):
                return jsonify(error=error.description), error.code
            return error
        # The request path may hold a room ID: log the error's type only.
        log.error("internal error: %s", type(error).__name__)
        return render_template("busy.html"), 500
