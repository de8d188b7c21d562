"""Fixtures for the transport-hardening tests (servers come from tests/conftest.py: fresh_server)."""

from pathlib import Path

# The abuse suite's server (generous PIN limit) and its RawSocket/Peer opener.
from tests.abuse.conftest import abuse_server, sockets  # noqa: F401


def rss_kib(server):
    """The server process's resident memory now, from /proc (KiB)."""
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS line")
