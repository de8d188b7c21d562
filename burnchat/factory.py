"""The app factory: one Flask app, one Socket.IO server, one courier owning the rooms."""

import logging
import time
from pathlib import Path

from flask import Flask, render_template, request
from flask_socketio import SocketIO
from werkzeug.exceptions import HTTPException

from .config import MAX_FRAME_BYTES, Config
from .courier import Courier
from .security import is_https, security_headers
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
        logger=False,
        engineio_logger=False,
        ping_interval=20,
        ping_timeout=20,
    )
    app.extensions["burnchat"] = Courier(config, store or MemoryRoomStore(), socketio, now)
    from . import events  # noqa: F401  (registers the Socket.IO handlers)
    from .views import not_found, pages
    app.register_blueprint(pages)
    _harden(app, config)
    app.register_error_handler(404, lambda error: not_found())
    return app


def _harden(app, config):
    """Security headers on every response; errors answered without logging what was asked."""
    @app.after_request
    def add_headers(response):
        https = is_https(request.environ, config.trusted_proxies)
        response.headers.update(security_headers(request.host, https))
        return response

    @app.errorhandler(Exception)
    def internal_error(error):
        if isinstance(error, HTTPException):
            return error
        # The request path may hold a room ID: log the error's type only.
        log.error("internal error: %s", type(error).__name__)
        return render_template("busy.html"), 500
