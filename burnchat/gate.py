"""The front gate: WSGI middleware that refuses what no Burn Chat client ever sends.

Runs in front of Flask and Flask-SocketIO, on every request:

* a Host header that is not on the allow-list gets 400 (DNS rebinding would
  otherwise reach the app with Host = Origin = the attacker's name, which
  passes the same-origin check);
* /socket.io/ speaks WebSocket only: long-polling and JSONP get 400 (every
  client uses the WebSocket transport, and polling sessions are buffers a
  client can leave half-open);
* one client address holds at most `sessions_per_address` WebSockets at once
  (each Engine.IO session is one of them), beyond that 429;
* the first X-Forwarded-For that arrives while no proxy is trusted leaves one
  warning line: every per-address limit then counts the proxy's address.

Pure WSGI: no Flask import.
"""

import logging
from urllib.parse import parse_qs, urlsplit

from .limits import OpenCounter
from .security import client_address

log = logging.getLogger("burnchat")

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
WILDCARD_BINDS = ("", "0.0.0.0", "::", "[::]")
ENGINEIO_PATH = "/socket.io"
FORWARDED_WARNING = ("X-Forwarded-For arrives but BURNCHAT_TRUSTED_PROXIES=0: every per-address "
                     "limit counts the proxy's address, shared by all users behind it. Set it "
                     "to the number of proxies in front (1 behind a platform router).")


def host_name(value):
    """The host part of a Host header or an allow-list entry: lower case, no port, no final dot."""
    value = (value or "").strip().lower()
    if value.startswith("["):  # [v6]:port
        end = value.find("]")
        return value[:end + 1] if end > 0 else ""
    if value.count(":") > 1:  # a bare IPv6 address in an allow-list entry
        return f"[{value}]"
    return value.split(":", 1)[0].rstrip(".")


def allowed_hosts(config):
    """The Host allow-list: BURNCHAT_ALLOWED_HOSTS, or HOST and the allowed origins; plus loopback."""
    if config.allowed_hosts:
        names = list(config.allowed_hosts)
    else:
        names = [urlsplit(origin).netloc for origin in config.allowed_origins]
        if config.host not in WILDCARD_BINDS:
            names.append(config.host)
    return frozenset(host_name(name) for name in (*names, *LOOPBACK_HOSTS) if host_name(name))


def host_allowed(header, allow_list):
    """True when a Host header names an allowed host (".example.com" allows its subdomains too)."""
    name = host_name(header)
    if not name:
        return False
    if name in allow_list:
        return True
    return any(entry.startswith(".") and (name.endswith(entry) or name == entry[1:])
               for entry in allow_list)


class Gate:
    """The middleware; `app` is the WSGI app behind it (Flask with Flask-SocketIO's middleware)."""

    def __init__(self, app, config):
        self._app = app
        self._hosts = allowed_hosts(config)
        self._trusted_proxies = config.trusted_proxies
        self._sessions = OpenCounter(config.sessions_per_address)
        self._warned_forwarded = False

    def __call__(self, environ, start_response):
        """Refuse, or pass the request on (counting WebSocket sessions per address)."""
        if not host_allowed(environ.get("HTTP_HOST"), self._hosts):
            return _refuse(start_response, "400 Bad Request", "Unknown host.")
        if not self._trusted_proxies and not self._warned_forwarded \
                and "HTTP_X_FORWARDED_FOR" in environ:
            self._warned_forwarded = True
            log.warning(FORWARDED_WARNING)
        path = environ.get("PATH_INFO", "")
        if path != ENGINEIO_PATH and not path.startswith(ENGINEIO_PATH + "/"):
            return self._app(environ, start_response)
        if not websocket_only(environ.get("QUERY_STRING", "")):
            return _refuse(start_response, "400 Bad Request",
                           "Burn Chat speaks WebSocket only: long-polling and JSONP are refused "
                           "(connect with transport=websocket).")
        address = client_address(environ, self._trusted_proxies)
        if not self._sessions.acquire(address):
            return _refuse(start_response, "429 Too Many Requests",
                           "Too many open connections from your address.")
        try:
            # The WebSocket lives inside this call: it returns when the session has ended.
            return self._app(environ, start_response)
        finally:
            self._sessions.release(address)


def websocket_only(query_string):
    """True for an Engine.IO query asking for the WebSocket transport, without JSONP.

    A function of its own so the parsed query is not a local of the gate's frame, which
    lives as long as the WebSocket (~0.6 KiB per idle member; bench/memory.py)."""
    query = parse_qs(query_string)
    return query.get("transport") == ["websocket"] and "j" not in query


def _refuse(start_response, status, text):
    """A short plain-text refusal that closes the connection."""
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"),
                            ("Content-Length", str(len(body))), ("Connection", "close")])
    return [body]


def loopback_only(config):
    """True when a server bound to every interface would still answer only loopback Host names."""
    return config.host in WILDCARD_BINDS and allowed_hosts(config) == frozenset(LOOPBACK_HOSTS)
