"""Running the WSGI server so that it never prints a word about a client.

Both servers Flask-SocketIO can run on leak by default. eventlet.wsgi answers an
exception that escapes to it (Engine.IO raises on an empty or non-packet
WebSocket frame) with its traceback on the client's socket, prints a malformed
request line with the client's address, and its WebSocket code writes errors
with the client's address to `wsgi.errors`. gevent's pywsgi logs the address
with every bad request, and its hub prints failed requests with their environ
(address, port, host). Here each is told to keep quiet, and an unexpected error
is logged by its type alone (tests/abuse/test_no_trace_logs.py).
"""

import re
import sys


def log_error_type(name):
    """The one line an unexpected server error leaves: its type, nothing of the request."""
    sys.stderr.write(f"ERROR server: {name}\n")


class _Discard:
    """A write-only stream that keeps nothing (for `wsgi.errors`)."""

    def write(self, text):
        return len(text)

    def writelines(self, lines):
        pass

    def flush(self):
        pass


class _ErrorTypesOnly:
    """A stream for tracebacks that passes on the exception's type name and nothing else."""

    _EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))\b")

    def write(self, text):
        for line in text.splitlines():
            match = self._EXCEPTION_LINE.match(line)
            if match:
                log_error_type(match[1])
        return len(text)

    def flush(self):
        sys.stderr.flush()


def local_url(config):
    """The URL to open on this machine: HOST:PORT, a wildcard bind as its loopback address."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "[::1]", "[::]": "[::1]"}.get(
        config.host, config.host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"http://{host}:{config.port}"


def serve_with_eventlet(app, config):
    """eventlet.wsgi directly: socketio.run cannot turn off eventlet's debug mode."""
    import eventlet
    import eventlet.wsgi

    from .transport import eventlet_protocol

    class QuietProtocol(eventlet.wsgi.HttpProtocol):
        """eventlet's HTTP protocol without BaseHTTPRequestHandler's stderr log."""

        def log_message(self, format, *args):
            pass

    # A backlog of 1024, not 50: a crowd joining at once must not be dropped and retried.
    eventlet.wsgi.server(eventlet.listen((config.host, config.port), backlog=1024), app,
                         log_output=False, debug=False,
                         # Header deadline and per-address socket cap: burnchat/transport.py.
                         protocol=eventlet_protocol(QuietProtocol, config),
                         socket_timeout=config.read_timeout_seconds,
                         environ={"wsgi.errors": _Discard()},
                         # eventlet.wsgi caps concurrent connections at 1024 unless told otherwise.
                         max_size=config.max_connections + 100)


def serve_with_gevent(app, socketio, config):
    """gevent's pywsgi through socketio.run, without its error log and with type-only errors."""
    import gevent
    from gevent import pywsgi

    from .transport import no_delay

    class QuietHandler(pywsgi.WSGIHandler):
        """pywsgi's request handler, reporting only the type of an error it did not expect.

        Overrides two private hooks of the pinned gevent (26.9): both print a full
        traceback to stderr, the second also logs the client's address.
        """

        def __init__(self, sock, *args, **kwargs):
            if "nodelay" in config.stack_tuning:
                no_delay(sock)
            super().__init__(sock, *args, **kwargs)

        @staticmethod
        def _print_unexpected_exc():
            log_error_type(sys.exc_info()[0].__name__)

        def _handle_client_error(self, error):
            if not isinstance(error, ValueError):  # ValueError: plain bad input, not worth a line
                log_error_type(type(error).__name__)
            return ("400", pywsgi._BAD_REQUEST_RESPONSE)

    gevent.get_hub().exception_stream = _ErrorTypesOnly()
    socketio.run(app, host=config.host, port=config.port, log_output=False,
                 handler_class=QuietHandler, error_log=None,
                 environ={"wsgi.errors": _Discard()})
