"""The app factory: one Flask app, one Socket.IO server, one courier owning the rooms."""

import gzip
import logging
import time
from pathlib import Path

from flask import Flask, jsonify, render_template, request, url_for
from engineio import json as stdlib_json
from flask_socketio import SocketIO
from werkzeug.exceptions import HTTPException

from .config import MAX_CHUNK_FRAME_BYTES, Config
from .courier import Courier
from . import assets, fastjson, transport
from .frames import StrictPacket
from .gate import Gate
from .security import SecurityHeaders
from .store import MemoryRoomStore

ROOT = Path(__file__).resolve().parent.parent


class CourierSocketIO(SocketIO):
    """Flask-SocketIO, but the events whose handler has a `bare` entry point skip Flask.

    Flask-SocketIO wraps every event in a Flask request context, which builds a
    request and matches its URL (~9% of the relay's CPU). Our event handlers
    need only the socket's ID and the app, so with `bare_events` on, those with
    a `bare(app, sid, *args)` (events.handler) get exactly that; connect,
    disconnect and the catch-all keep the request context (they read the environ).
    """

    bare_events = False

    def _handle_event(self, handler, message, namespace, sid, *args):
        bare = getattr(handler, "bare", None)
        if bare is None or not self.bare_events:
            return super()._handle_event(handler, message, namespace, sid, *args)
        environ = self.server.get_environ(sid, namespace=namespace)
        if not environ:
            return "", 400  # as Flask-SocketIO: an event of a client it has no record of
        return bare(environ["flask.app"], sid, *args)


# Handlers that wait on *other* sockets: a file chunk is acknowledged once its receivers took it
# (filerelay.py). Inline, that wait would stop the sender's socket from reading its own pongs,
# cancel or texts meanwhile; each of these gets a task of its own, as every event had before.
WAITING_EVENTS = frozenset({"file_chunk"})


def _own_task_for(server, events):
    """With inline handlers, run `events` in a background task each (python-socketio's own
    async_handlers path, for these events only)."""
    handle = server._handle_event

    def handle_event(eio_sid, namespace, id, data):
        namespace = namespace or "/"
        if server.async_handlers or not data or data[0] not in events:
            return handle(eio_sid, namespace, id, data)
        sid = server.manager.sid_from_eio_sid(eio_sid, namespace)
        if server.manager.is_connected(sid, namespace):
            server.start_background_task(server._handle_event_internal, server, sid, eio_sid, data, namespace, id)
        return None

    server._handle_event = handle_event


socketio = CourierSocketIO()
log = logging.getLogger("burnchat")


def create_app(config=None, now=time.time, store=None, root=ROOT):
    """Build the app. `config`, the clock `now`, the `store` and the tree `root` (its
    templates/ and static/; the release manifest renders other trees) are injectable."""
    config = config or Config.from_env()
    # static_folder=None: views.static_file serves static/ from memory (burnchat/assets.py).
    app = Flask(__name__, template_folder=str(Path(root) / "templates"), static_folder=None)
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024, JSON_SORT_KEYS=False)
    socketio.init_app(
        app,
        async_mode=config.async_mode,
        # None means same origin only; never "*" (cross-site WebSocket hijacking).
        cors_allowed_origins=list(config.allowed_origins) or None,
        max_http_buffer_size=MAX_CHUNK_FRAME_BYTES,  # only file_chunk may use it (transport.py)
        transports=["websocket"],  # every client; polling is refused (gate.py)
        serializer=StrictPacket,  # malformed frames become refusable events, see frames.py
        logger=False,
        engineio_logger=False,
        ping_interval=20,
        ping_timeout=20,
        # Several processes: emits travel through Redis to every process's sockets.
        message_queue=config.redis_url or None,
        # Each event runs on its socket's own reader green thread instead of a new one per
        # event: ~6% less CPU per delivery, and one socket's events are handled strictly in
        # order. The one handler that waits (`file_chunk`, for its receivers) gets a task of
        # its own (WAITING_EVENTS); nothing waits for a later event of the same socket
        # (docs/BENCHMARKS.md).
        async_handlers="inline_events" not in config.stack_tuning,
        # Always named: engineio keeps it on its Packet class for the whole process, so an
        # app built without the tuning after one with it must put the stdlib back.
        json=fastjson if "fast_json" in config.stack_tuning else stdlib_json,
    )
    socketio.bare_events = "bare_events" in config.stack_tuning
    _own_task_for(socketio.server, WAITING_EVENTS)
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
    from .views import not_found, pages, static_file
    app.register_blueprint(pages)
    _serve_static(app, Path(root) / "static", static_file)
    _compress_pages(app)
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


def _serve_static(app, static_dir, view):
    """static/ read, hashed and gzipped once; templates get `static_url` and `sri` for it."""
    table = app.extensions["burnchat_assets"] = assets.load(static_dir)
    app.add_url_rule("/static/<path:filename>", endpoint="static", view_func=view)

    def static_url(filename):
        """The cache-for-ever URL of a top-level script or stylesheet: its content's version."""
        return url_for("static", filename=filename, v=table[filename].version)

    def sri(filename):
        """The file's Subresource Integrity value (a KeyError for a file that does not exist)."""
        return table[filename].sri

    app.jinja_env.globals.update(static_url=static_url, sri=sri)


def _compress_pages(app):
    """Pages gzipped for clients that accept it: they hold no secret for a BREACH-style guess
    (the PIN is only in the API's JSON, which stays uncompressed). Static files come ready."""

    @app.after_request
    def gzip_page(response):
        if (response.mimetype == "text/html" and not response.direct_passthrough
                and "Content-Encoding" not in response.headers
                and assets.accepts_gzip(request.headers.get("Accept-Encoding"))):
            response.set_data(gzip.compress(response.get_data(), compresslevel=6))
            response.headers["Content-Encoding"] = "gzip"
            response.vary.add("Accept-Encoding")
        return response


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
