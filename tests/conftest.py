"""Shared fixtures: a real server process for integration, client and browser tests."""

import pytest

from tests.server import ServerProcess


@pytest.fixture(scope="session")
def live_server():
    """One real `python app.py` (eventlet) for the whole session, with a 1 s minimum TTL."""
    server = ServerProcess()
    yield server
    server.stop()


@pytest.fixture
def fresh_server():
    """A server of the test's own, for tests that stop it or read all of its output."""
    servers = []

    def start(extra_env=None, wrapper=()):
        server = ServerProcess(extra_env, wrapper)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
