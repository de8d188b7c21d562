"""Fixtures for the abuse suite: servers with low limits, raw sockets, and the fuzz report."""

import pytest

from tests.abuse.rawsocket import RawSocket
from tests.server import ServerProcess
from tests.wire import Peer

# Every test client comes from 127.0.0.1: per-address limits that tests do not aim at are lifted.
GENEROUS = {"BURNCHAT_PIN_ATTEMPTS_PER_MINUTE": "100000"}

# Filled by test_fuzz.py; printed in pytest's summary even without -s.
FUZZ_REPORT = []


@pytest.fixture(scope="session")
def abuse_server():
    """One real server for the abuse tests that do not change its limits."""
    server = ServerProcess(GENEROUS)
    yield server
    server.stop()


@pytest.fixture
def sockets():
    """Open RawSockets and Peers through `.raw(url)` / `.peer(url)`; all are closed afterwards."""
    opened = []

    class Opener:
        """Opens connections that the fixture closes after the test."""

        def raw(self, url, **options):
            """A RawSocket (any frame, well-formed or not)."""
            sock = RawSocket(url, **options)
            opened.append(sock)
            return sock

        def peer(self, url, **options):
            """A protocol-speaking Peer (python-socketio client)."""
            peer = Peer(url, **options)
            opened.append(peer)
            return peer

    yield Opener()
    for sock in opened:
        sock.close()


def pytest_terminal_summary(terminalreporter):
    """Report how many frames the fuzz test threw at the server."""
    for line in FUZZ_REPORT:
        terminalreporter.write_line(line)
