"""Fixtures: a compromised server process per scenario (tests/attacks/scenarios.py)."""

from pathlib import Path

import pytest

from tests.server import ServerProcess

EVIL_APP = Path(__file__).resolve().parent / "evil_app.py"


@pytest.fixture
def evil_server():
    """Start the real server compromised by one scenario: `evil_server("ghost")`."""
    servers = []

    def start(scenario):
        server = ServerProcess({"BURNCHAT_EVIL": scenario}, script=EVIL_APP)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
