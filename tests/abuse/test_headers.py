"""Browser-facing hardening: security headers on every response, same-origin sockets only,
and link-preview bots that see nothing of a room."""

import re
from urllib.parse import urlparse

import pytest
import requests
import socketio
import websocket

from tests.abuse.rawsocket import RawSocket
from tests.server import ServerProcess
from tests.wire import b64u
from tests.pins import room_request

BOT_AGENTS = [
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "WhatsApp/2.23.20.0 A",
    "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    # iMessage's preview fetcher
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) "
    "Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
]
BROWSER = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/131.0 Safari/537.36")


@pytest.fixture(scope="module")
def proxied_server():
    """A server that trusts one proxy in front of it (X-Forwarded-Proto / -For)."""
    server = ServerProcess({"BURNCHAT_TRUSTED_PROXIES": "1"})
    yield server
    server.stop()


def every_kind_of_response(server):
    """(name, response) for each route and error the server answers."""
    room = server.create_room()["room"]
    get = lambda path, **kw: requests.get(server.url + path, timeout=5, **kw)  # noqa: E731
    post = lambda path, **kw: requests.post(server.url + path, timeout=5, **kw)  # noqa: E731
    return [
        ("home", get("/")),
        ("room page", get(f"/r/{room}")),
        ("admin page", get(f"/r/{room}/admin")),
        ("created room", post("/api/rooms", json=room_request(60))),
        ("refused room", post("/api/rooms", json={"ttl_seconds": "x"})),
        ("wrong method", get("/api/rooms")),
        ("script", get("/static/js/room.js")),
        ("stylesheet", get("/static/css/app.css")),
        ("missing static file", get("/static/js/nope.js")),
        ("health check", get("/healthz")),
        ("unknown room", get(f"/r/{b64u(16)}")),
        ("no such page", get("/wp-login.php")),
        ("engine.io handshake", get("/socket.io/?EIO=4&transport=polling")),
        ("engine.io refusal", get("/socket.io/?EIO=4&transport=polling",
                                  headers={"Origin": "http://evil.example"})),
    ]


def csp_directives(response):
    """The Content-Security-Policy as {directive: [sources]}."""
    policy = response.headers["Content-Security-Policy"]
    return {name: sources for name, *sources in
            (part.split() for part in policy.split(";") if part.strip())}


def test_every_response_carries_the_security_headers(abuse_server):
    host = abuse_server.url.removeprefix("http://")
    for name, response in every_kind_of_response(abuse_server):
        headers = response.headers
        csp = csp_directives(response)
        assert csp["default-src"] == ["'self'"], name
        assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"], name
        assert csp["frame-ancestors"] == ["'none'"], name
        assert csp["connect-src"] == ["'self'", f"ws://{host}"], name
        assert not re.search(r"unsafe-(inline|eval|hashes)|\*", headers["Content-Security-Policy"])
        assert headers["Referrer-Policy"] == "no-referrer", name
        assert headers["X-Content-Type-Options"] == "nosniff", name
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin", name
        # Static files revalidate by ETag (tests/serving/); every other answer is never stored.
        static = name in ("script", "stylesheet")
        assert headers["Cache-Control"] == ("no-cache" if static else "no-store"), name
        for feature in ("microphone", "geolocation", "payment", "usb"):
            assert f"{feature}=()" in headers["Permissions-Policy"], (name, feature)
        # Only a room's own page may ask for the camera (to scan a safety QR code).
        room_page = re.fullmatch(r"/r/[A-Za-z0-9_-]{22}", urlparse(response.url).path)
        camera = "camera=(self)" if room_page else "camera=()"
        assert camera in headers["Permissions-Policy"].split(", "), (name, response.url)
        assert "Strict-Transport-Security" not in headers, f"{name}: no HSTS over plain http"


def test_hsts_and_wss_only_behind_a_trusted_https_proxy(proxied_server, fresh_server):
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.1"}
    behind = requests.get(proxied_server.url + "/", headers=https, timeout=5)
    assert behind.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(re.search(r"max-age=(\d+)", behind.headers["Strict-Transport-Security"])[1]) \
        >= 180 * 86400
    assert csp_directives(behind)["connect-src"] == \
        ["'self'", "wss://" + proxied_server.url.removeprefix("http://")]
    # Without trusted proxies the header is the client's word, and is ignored.
    direct = fresh_server()
    spoofed = requests.get(direct.url + "/", headers=https, timeout=5)
    assert "Strict-Transport-Security" not in spoofed.headers


def test_a_hostile_host_header_cannot_write_into_the_policy(abuse_server):
    response = requests.get(abuse_server.url + "/", timeout=5,
                            headers={"Host": "evil.example; script-src *"})
    assert csp_directives(response)["connect-src"] == ["'self'"]
    assert "evil" not in response.headers["Content-Security-Policy"]


def generic_head(html):
    """The <title> and every <meta> tag of a page."""
    return re.findall(r"<title>.*?</title>|<meta[^>]*>", html, flags=re.S)


@pytest.mark.parametrize("agent", BOT_AGENTS)
def test_link_preview_bots_see_only_a_generic_card(abuse_server, agent):
    room = abuse_server.create_room()["room"]
    pages = [requests.get(abuse_server.url + path, headers={"User-Agent": agent}, timeout=5)
             for path in (f"/r/{room}", f"/r/{room}/admin", f"/r/{b64u(16)}")]
    live, admin, unknown = pages
    for page in pages:
        assert page.status_code == 200
        assert room not in page.text
        assert not re.search(r"data-(count|expires-at-ms|now-ms|locked|room-id)", page.text)
        head = " ".join(generic_head(page.text))
        assert "<title>" in head and not re.search(r"\d+ (people|members|min)|left|burns in",
                                                    head, re.I)
    # A live room, its admin page and a room that never existed look exactly alike.
    assert live.text == admin.text == unknown.text


def test_browsers_still_get_the_room_page(abuse_server):
    room = abuse_server.create_room()["room"]
    page = requests.get(f"{abuse_server.url}/r/{room}", headers={"User-Agent": BROWSER}, timeout=5)
    assert page.status_code == 200 and f'data-room-id="{room}"' in page.text
    assert room not in " ".join(generic_head(page.text))  # not in the title or meta tags either


# ---- origin -----------------------------------------------------------------------------

def test_sockets_from_another_origin_are_refused(abuse_server):
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        RawSocket(abuse_server.url, origin="http://evil.example")
    assert refused.value.status_code == 400
    # Long-polling is refused to everyone (tests/hardening), so from another origin as well.
    polling = requests.get(abuse_server.url + "/socket.io/?EIO=4&transport=polling",
                           headers={"Origin": "https://evil.example"}, timeout=5)
    assert polling.status_code == 400
    assert "Access-Control-Allow-Origin" not in polling.headers


def test_same_origin_and_non_browser_sockets_are_allowed(abuse_server, sockets):
    same = sockets.raw(abuse_server.url, origin=abuse_server.url)
    assert same.connect_reply[0] == "40"
    no_origin = sockets.raw(abuse_server.url, suppress_origin=True)  # e.g. the terminal client
    assert no_origin.connect_reply[0] == "40"


def test_python_socketio_client_with_a_foreign_origin_is_refused(abuse_server):
    # python-socketio (via websocket-client) already sends Origin: <its own URL>; a header given
    # here is sent as a second Origin line. Either way the server must not accept it.
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(abuse_server.url, transports=["websocket"], wait_timeout=3,
                       headers={"Origin": "http://evil.example"})
    client = socketio.Client(reconnection=False, websocket_extra_options={
        "origin": "http://evil.example"})
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(abuse_server.url, transports=["websocket"], wait_timeout=3)


def test_listed_origins_are_allowed_and_a_wildcard_is_refused_at_start_up(fresh_server):
    server = fresh_server({"BURNCHAT_ALLOWED_ORIGINS": "https://chat.example"})
    listed = RawSocket(server.url, origin="https://chat.example")
    assert listed.connect_reply[0] == "40"
    listed.close()
    with pytest.raises(websocket.WebSocketBadStatusException):
        RawSocket(server.url, origin="http://evil.example")
    with pytest.raises(AssertionError, match="exited early") as failed:
        fresh_server({"BURNCHAT_ALLOWED_ORIGINS": "https://chat.example, *"})
    assert "never '*'" in str(failed.value)
