"""Shared fixtures: a real server process for integration, client and browser tests, and the
compromised server of tests/attacks/ (used by the attack tests and the browser suite)."""

from pathlib import Path

import pytest

from tests.chat_process import ChatProcess
from tests.server import ServerProcess

TESTS = Path(__file__).resolve().parent
EVIL_APP = TESTS / "attacks" / "evil_app.py"
# Tiers that measure timing or load (p99 ratios, deadlines, fault recovery, fuzzing with ack
# timeouts): scripts/test.sh runs them after the parallel tier, alone on the machine.
SERIAL = frozenset({"hardening", "bench", "abuse", "scaleout"})


def pytest_collection_modifyitems(items):
    """Mark every test of a SERIAL folder `serial`."""
    for item in items:
        parts = Path(str(item.fspath)).resolve().relative_to(TESTS).parts
        if parts and parts[0] in SERIAL:
            item.add_marker(pytest.mark.serial)


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

    def start(extra_env=None, wrapper=(), script=None):
        server = ServerProcess(extra_env, wrapper, **({"script": script} if script else {}))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def evil_server(fresh_server):
    """Start the real server compromised by one scenario: `evil_server("ghost")`."""
    return lambda scenario: fresh_server({"BURNCHAT_EVIL": scenario}, script=EVIL_APP)


@pytest.fixture
def chats():
    """Pipe-mode terminal clients (`python -m burnchat.client`); killed when the test ends."""
    started = []

    def start(link, name, stdin_data=None):
        chat = ChatProcess(link, name, stdin_data)
        started.append(chat)
        return chat

    yield start
    for chat in started:
        chat.kill()
