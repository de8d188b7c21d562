"""Slowloris: half-open HTTP requests from one address must not take the site from anyone else.

The attacker comes from 127.0.0.1; the bystander's socket is bound to 127.0.0.2 (still the
loopback interface, still the same server on 127.0.0.1), so the server sees two addresses.
"""

import resource
import socket
import time

import pytest

HALF_OPEN = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
ATTACK_CONNECTIONS = 10_000
ATTACK_SECONDS = 6.0   # stop opening connections after this long (an unprotected server stalls)


def bystander_get(port, timeout):
    """GET / from 127.0.0.2; returns (status line, seconds) or raises on timeout."""
    started = time.monotonic()
    with socket.socket() as sock:
        sock.settimeout(timeout)
        sock.bind(("127.0.0.2", 0))
        sock.connect(("127.0.0.1", port))
        sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        status = sock.recv(64).split(b"\r\n", 1)[0]
    return status, time.monotonic() - started


def open_half_requests(port, count, seconds):
    """Open up to `count` connections from 127.0.0.1, each with a request that never ends."""
    opened = []
    deadline = time.monotonic() + seconds
    while len(opened) < count and time.monotonic() < deadline:
        sock = socket.socket()
        sock.settimeout(0.5)
        try:
            sock.connect(("127.0.0.1", port))
            sock.send(HALF_OPEN)
        except OSError:  # a full backlog (unprotected server) or a connection turned away
            sock.close()
            continue
        opened.append(sock)
    return opened


@pytest.fixture
def file_limit():
    """Room for ten thousand sockets in the test process."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, ATTACK_CONNECTIONS + 1000)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < ATTACK_CONNECTIONS + 100:
        pytest.skip("the file descriptor limit is too low for the attack")
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_half_open_requests_from_one_address_leave_the_site_to_others(fresh_server, file_limit):
    # A small server: its pool (max connections + 100) would fill from one address without the cap,
    # and a header deadline far beyond the test shows that the cap alone keeps the site up.
    server = fresh_server({"BURNCHAT_MAX_CONNECTIONS": "100", "BURNCHAT_SOCKETS_PER_ADDRESS": "50",
                           "BURNCHAT_HEADER_TIMEOUT_SECONDS": "60"})
    attack = open_half_requests(server.port, ATTACK_CONNECTIONS, ATTACK_SECONDS)
    try:
        status, seconds = bystander_get(server.port, timeout=1.0)
        assert status == b"HTTP/1.1 200 OK"
        assert seconds < 1.0
        # The attacker itself holds at most its cap of pending requests.
        started = time.monotonic()
        probe = socket.create_connection(("127.0.0.1", server.port), timeout=2)
        assert probe.recv(64).startswith(b"HTTP/1.1 503"), "a 51st socket from one address got in"
        assert time.monotonic() - started < 1.0
        probe.close()
    finally:
        for sock in attack:
            sock.close()


def test_request_headers_have_a_deadline_not_just_a_read_timeout(fresh_server):
    server = fresh_server({"BURNCHAT_HEADER_TIMEOUT_SECONDS": "1"})
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(HALF_OPEN)
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 4:
            try:  # one byte every 0.2 s: every read succeeds, the request never ends
                sock.sendall(b"x")
                sock.settimeout(0.2)
                if sock.recv(1024) == b"":
                    closed = True
                    break
            except socket.timeout:
                continue
            except OSError:
                closed = True
                break
        elapsed = time.monotonic() - started
    assert closed, "a trickled request outlived the header deadline"
    assert 0.8 < elapsed < 2.0, elapsed
    # An idle keep-alive connection is closed at the same deadline, a prompt request is served.
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode())
        assert sock.recv(64).startswith(b"HTTP/1.1 200")
