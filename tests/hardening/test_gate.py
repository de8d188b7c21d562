"""The front gate: WebSocket only, a Host allow-list on every endpoint, one proxy warning."""

import socket

import pytest
import requests

from tests.server import wait_for
from tests.pins import room_request

ENGINEIO = "/socket.io/?EIO=4"


@pytest.mark.parametrize("query", ["&transport=polling", "", "&transport=polling&j=0",
                                   "&transport=websocket&j=0", "&transport=flashsocket"])
def test_long_polling_and_jsonp_are_refused_with_a_clear_400(abuse_server, query):
    for send in (requests.get, requests.post):
        response = send(abuse_server.url + ENGINEIO + query, timeout=5)
        assert response.status_code == 400, query
        assert "WebSocket only" in response.text
        assert "sid" not in response.text  # no Engine.IO session was opened


def test_the_websocket_transport_still_connects(abuse_server, sockets):
    assert sockets.raw(abuse_server.url).connect_reply[0] == "40"


UPGRADE = ("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")


def raw_get(port, path, host, upgrade=False):
    """GET `path` with exactly this Host header (None: no Host at all); returns the status code.

    (websocket-client would add its own Host line before ours, so the upgrade is sent by hand.)
    """
    headers = f"Host: {host}\r\n" if host is not None else ""
    headers += UPGRADE if upgrade else "Connection: close\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\n{headers}\r\n".encode())
        return int(sock.recv(64).split(b" ")[1])


@pytest.fixture(scope="module")
def named_server():
    """A server for chat.example (plus loopback, always)."""
    from tests.server import ServerProcess

    server = ServerProcess({"BURNCHAT_ALLOWED_HOSTS": "chat.example"})
    yield server
    server.stop()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:5000", "chat.example.evil.example",
                                  "127.0.0.1.evil.example", "", None])
def test_a_wrong_host_is_refused_on_every_endpoint(named_server, host):
    room = named_server.create_room()["room"]
    for path in ("/", f"/r/{room}", f"/r/{room}/admin", "/static/js/net.js", "/no-such-page",
                 ENGINEIO + "&transport=websocket", ENGINEIO + "&transport=polling"):
        assert raw_get(named_server.port, path, host) == 400, (path, host)
    response = requests.post(named_server.url + "/api/rooms", json=room_request(60),
                             headers={"Host": host or "evil.example"}, timeout=5)
    assert response.status_code == 400
    assert raw_get(named_server.port, ENGINEIO + "&transport=websocket", host, upgrade=True) == 400


@pytest.mark.parametrize("host", ["chat.example", "CHAT.EXAMPLE:443", "chat.example.",
                                  "localhost:8000", "127.0.0.1"])
def test_the_configured_host_and_loopback_are_served(named_server, host):
    assert raw_get(named_server.port, "/", host) == 200


def test_sockets_open_under_the_configured_name(named_server):
    assert raw_get(named_server.port, ENGINEIO + "&transport=websocket", "chat.example",
                   upgrade=True) == 101


def test_an_untrusted_forwarded_for_leaves_one_warning_without_an_address(fresh_server):
    server = fresh_server()
    for address in ("198.51.100.7", "203.0.113.9"):
        requests.get(server.url + "/", headers={"X-Forwarded-For": address}, timeout=5)
    warning = wait_for(lambda: [line for line in server.output().splitlines()
                                if "X-Forwarded-For" in line], message="the proxy warning")
    assert len(warning) == 1 and "BURNCHAT_TRUSTED_PROXIES" in warning[0]
    output = server.output().split("\n", 1)[1]  # after the start-up line, which names the bind address
    assert "198.51.100.7" not in output and "203.0.113.9" not in output and "127.0.0.1" not in output


def test_a_trusted_proxy_gets_no_warning(fresh_server):
    server = fresh_server({"BURNCHAT_TRUSTED_PROXIES": "1"})
    requests.get(server.url + "/", headers={"X-Forwarded-For": "198.51.100.7"}, timeout=5)
    requests.get(server.url + "/", timeout=5)  # after the first request's output, if any
    server.stop()
    assert "X-Forwarded-For" not in server.output()
