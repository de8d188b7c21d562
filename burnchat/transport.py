"""The transport, bounded: what one socket may cost before it has joined anything.

* eventlet's HTTP protocol (`eventlet_protocol`) gets a deadline for the request
  line and headers (a per-read `socket_timeout` alone lets a client trickle one
  byte every few seconds forever) and, unless a trusted proxy is the only peer
  we ever see, a cap on open TCP connections per peer address, checked as each
  connection is accepted.
* WebSockets (`bound_websockets`) cap the assembled message, not only the frame:
  eventlet's RFC6455WebSocket collects continuation frames without a total, so
  a FIN=0 frame followed by continuation frames forever grew the server without
  bound. eventlet has no knob for it; the documented patch below gives each
  WebSocket a message class that counts, and a C-speed unmasking (eventlet
  XORs byte by byte in Python; burnchat/wsmask.py). Legacy (hixie-76) WebSockets, which buffer up
  to their end byte without a bound, are refused. simple-websocket (gevent)
  has the knob: `max_message_size`.
* Only a `file_chunk` event may be bigger than MAX_FRAME_BYTES: the WebSocket cap
  (`max_http_buffer_size`) is one chunk frame, and `small_frames_only` closes the
  connection of any other message over MAX_FRAME_BYTES (eventlet's sockets already
  while it is assembled), so no other event grows with the files.
* Engine.IO sessions that never connect to the Socket.IO namespace (never send
  `40`) are closed after `connect_timeout_seconds` (`NamespaceDeadline`).

The per-address cap on WebSocket sessions, the Host allow-list and the refusal
of long-polling live in the WSGI front gate (gate.py).
"""

import re
import socket
import time

from . import wswriter
from .config import MAX_FRAME_BYTES
from .limits import OpenCounter
from .security import limit_key
from .serving import log_error_type
from .wsmask import unmask

TURNED_AWAY = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


def install(socketio, config):
    """Bound the app's Engine.IO server (call after `socketio.init_app`)."""
    bound_websockets(socketio.server.eio, fast_unmask="unmask" in config.stack_tuning,
                     no_deflate="no_deflate" in config.stack_tuning)
    small_frames_only(socketio.server.eio)
    NamespaceDeadline(socketio, config.connect_timeout_seconds).install()
    if "untimed_writer" in config.stack_tuning:
        wswriter.install(socketio.server.eio)


# ---- HTTP (eventlet.wsgi) -------------------------------------------------------------------

def eventlet_protocol(base, config):
    """`base` (an eventlet.wsgi.HttpProtocol) with a header deadline and a per-address socket cap."""
    import eventlet

    header_timeout = config.header_timeout_seconds
    # Behind a trusted proxy every connection comes from the proxy: a per-peer cap would be
    # one cap for all users, so it is left to the proxy (the gate still counts sessions per client).
    open_sockets = OpenCounter(config.sockets_per_address) if config.trusted_proxies <= 0 else None

    class HardenedProtocol(base):
        """One client connection: turned away over the address's cap, cut at the header deadline."""

        def __init__(self, conn_state, server):
            peer = limit_key(conn_state[0][0]) if isinstance(conn_state[0], tuple) else ""
            if open_sockets is not None and not open_sockets.acquire(peer):
                _turn_away(conn_state[1])
                return
            try:
                super().__init__(conn_state, server)
            finally:
                if open_sockets is not None:
                    open_sockets.release(peer)

        def handle_one_request(self):
            """Read one request under the header deadline (raised as socket.timeout: closed quietly)."""
            self._headers_due = eventlet.Timeout(header_timeout, socket.timeout())
            try:
                super().handle_one_request()
            finally:
                self._drop_header_deadline()

        def handle_one_response(self):
            """The request line and headers are in: from here the app's own limits apply."""
            self._drop_header_deadline()
            super().handle_one_response()

        def _drop_header_deadline(self):
            """Cancel the header deadline and let it go: a WebSocket's response lasts as long as
            the socket, and a kept Timeout is ~0.6 KiB per idle member (bench/memory.py)."""
            if self._headers_due is not None:
                self._headers_due.cancel()
                self._headers_due = None

    return HardenedProtocol


def _turn_away(sock):
    """Answer 503 and close, without reading a byte of the request."""
    try:
        sock.setblocking(False)
        sock.send(TURNED_AWAY)
    except OSError:
        pass
    finally:
        sock.close()


# ---- WebSocket ----------------------------------------------------------------------------

# The start of a `file_chunk` event in the default namespace, with or without an ack id:
# as Engine.IO hands it to Socket.IO, and as the WebSocket carries it (Engine.IO's "4" first).
_CHUNK_PACKET = re.compile(r"2\d{0,12}\[\"file_chunk\",")
_CHUNK_MESSAGE = re.compile(rb"42\d{0,12}\[\"file_chunk\",")


def may_be_big(head):
    """True when a WebSocket message starting with `head` (bytes) is a `file_chunk` event."""
    return _CHUNK_MESSAGE.match(head) is not None


def small_frames_only(eio):
    """Close the connection of any Engine.IO message over MAX_FRAME_BYTES but a file chunk."""
    on_message = eio.handlers["message"]

    def message(eio_sid, data):
        if len(data) > MAX_FRAME_BYTES and not (
                isinstance(data, str) and _CHUNK_PACKET.match(data, 0, 32)):
            eio.disconnect(eio_sid)
            return None
        return on_message(eio_sid, data)

    eio.on("message", message)


def bound_websockets(eio, fast_unmask=True, no_deflate=True):
    """Make this Engine.IO server's WebSockets refuse a message above `max_http_buffer_size`
    (and, on eventlet with `fast_unmask`, unmask with burnchat/wsmask.py; with `no_deflate`,
    decline permessage-deflate)."""
    base = eio._async.get("websocket")
    if eio.async_mode == "eventlet":
        bounded = _eventlet_websocket(base, fast_unmask, no_deflate)
    elif eio.async_mode == "gevent" and base is not None:
        bounded = _simple_websocket(base, no_deflate)
    else:
        return
    # A copy: the driver's own table is shared by every Engine.IO server in the process.
    eio._async = {**eio._async, "websocket": bounded}


def declined_compression(environ):
    """The handshake's environ without the client's permessage-deflate offer (RFC 7692).

    Every browser offers it, and both stacks accept it by default: then each socket keeps
    a zlib compressor and decompressor for its life (hundreds of KiB; docs/BENCHMARKS.md)
    and every frame is compressed once per receiver. What we send is mostly ciphertext in
    base64, which deflate barely shrinks, so we decline, as Node socket.io 4 does by default.
    """
    environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)
    return environ


def no_delay(sock):
    """Send each write at once (TCP_NODELAY; stack tuning `nodelay`, gevent only).

    With Nagle's algorithm a small write waits while an earlier one is unacknowledged,
    and the peer delays its ACK by up to 40 ms: gevent's pywsgi writes an answer's
    headers and body apart, so every HTTP answer on a kept-alive connection waited 40 ms
    (181 room creations a second). eventlet's wsgi writes an answer at once, and there
    Nagle's coalescing of a fan-out's frames measured cheaper (docs/BENCHMARKS.md).
    """
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:  # not TCP (a Unix socket in a test), or already closed
        pass


def _eventlet_websocket(base, fast_unmask=True, no_deflate=True):
    """engineio's eventlet WebSocketWSGI whose sockets cap the sum of a message's fragments."""
    from eventlet.websocket import FailedConnectionError, RFC6455WebSocket

    class BoundedMessage(RFC6455WebSocket.Message):
        """A message being assembled that fails the connection (1009) once it outgrows the cap."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.size = 0

        def push(self, data, final=False):
            before, self.size = self.size, self.size + len(data)
            # engineio passes max_http_buffer_size; only a file chunk may pass MAX_FRAME_BYTES.
            # A compressed message's head can't be read yet: small_frames_only checks it inflated.
            if self.size > self.max_frame_length or (
                    self.decompressor is None and self.size > MAX_FRAME_BYTES >= before
                    and not may_be_big(b"".join([*self.data, data])[:32])):
                self.data.clear()
                raise FailedConnectionError(1009, "Message too big.")
            super().push(data, final)

    class BoundedWebSocketWSGI(base):
        """Hands engineio an RFC6455WebSocket that counts; refuses hixie-76."""

        def __init__(self, handler, server):
            super().__init__(handler, server)
            self.support_legacy_versions = False

        def __call__(self, environ, start_response):
            return super().__call__(declined_compression(environ) if no_deflate else environ,
                                    start_response)

        def _handle_hybi_request(self, environ):
            ws = super()._handle_hybi_request(environ)
            # eventlet 0.41 looks both up on the instance for every frame (_recv_frame).
            ws.Message = BoundedMessage
            if fast_unmask:
                ws._apply_mask = unmask
            return ws

    return BoundedWebSocketWSGI


def _simple_websocket(base, no_deflate=True):
    """engineio's simple-websocket WSGI app with its (off by default) message size cap set."""

    class BoundedSimpleWebSocket(base):
        """simple_websocket.Server(..., max_message_size=max_http_buffer_size)."""

        def __init__(self, handler, server):
            super().__init__(handler, server)
            if hasattr(self, "server_args"):  # not when gevent-websocket is installed instead
                self.server_args["max_message_size"] = int(server.max_http_buffer_size)

        def __call__(self, environ, start_response):
            return super().__call__(declined_compression(environ) if no_deflate else environ,
                                    start_response)

    return BoundedSimpleWebSocket


# ---- Engine.IO sessions -------------------------------------------------------------------

class NamespaceDeadline:
    """Closes Engine.IO sessions that have not connected to the Socket.IO namespace in time.

    Until `40` arrives a session belongs to no member and no per-connection limit
    counts it; it only answers pings. One sweeper task, started with the first
    session, checks the pending ones a few times per deadline.
    """

    def __init__(self, socketio, seconds, now=time.monotonic):
        self._socketio = socketio
        self._seconds = seconds
        self._now = now
        self._due = {}  # Engine.IO sid -> when it must have connected to the namespace
        self._sweeping = False

    def install(self):
        """Wrap the Engine.IO connect handler (python-socketio's) to note each new session."""
        eio = self._socketio.server.eio
        on_connect = eio.handlers["connect"]

        def connect(eio_sid, environ):
            self._due[eio_sid] = self._now() + self._seconds
            if not self._sweeping:
                self._sweeping = True
                self._socketio.start_background_task(self._run)
            return on_connect(eio_sid, environ)

        eio.on("connect", connect)

    def _run(self):
        """Sweep forever; an unexpected error is logged by its type and the sweeping goes on."""
        interval = max(0.05, min(1.0, self._seconds / 4))
        while True:
            self._socketio.sleep(interval)
            try:
                self.sweep()
            except Exception as error:  # the sweeper must outlive anything one session does
                log_error_type(type(error).__name__)

    def sweep(self):
        """Forget sessions that connected or ended; close those past their deadline."""
        server = self._socketio.server
        now = self._now()
        for eio_sid, due in list(self._due.items()):
            if eio_sid not in server.eio.sockets or \
                    server.manager.sid_from_eio_sid(eio_sid, "/") is not None:
                del self._due[eio_sid]
            elif now >= due:
                del self._due[eio_sid]
                server.eio.disconnect(eio_sid)
