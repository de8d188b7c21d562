"""The public Socket.IO protocol test suite (socketio/socket.io-protocol) against our server.

The server is `echo_server.py`: the real app with the suite's echo handlers. Deviations are
marked in the vendored test-suite.js and listed in socket.io-protocol/README.md.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.server import ROOT, free_port, wait_for

SUITE = ROOT / "tests" / "conformance" / "socket.io-protocol" / "test-suite"
MOCHA_TIMEOUT_SECONDS = 60


def _listening(port):
    """True once something accepts TCP connections on 127.0.0.1:`port`."""
    import socket

    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def echo_server(tmp_path):
    """`python -m tests.conformance.echo_server PORT` in a child process; yields (url, log path)."""
    port = free_port()
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "tests.conformance.echo_server", str(port)],
                                   cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        def ready():
            if process.poll() is not None:
                raise AssertionError(f"echo server exited early:\n{log_path.read_text()}")
            return _listening(port)

        wait_for(ready, timeout=20, message="the conformance echo server")
        # "localhost", as the suite has it: the Host allow-list admits loopback names.
        yield f"http://localhost:{port}", log_path
    finally:
        process.kill()
        process.wait(timeout=10)


def test_socketio_protocol_suite(echo_server, tmp_path):
    """Every test of the suite passes (deviations are expectations changed in the suite itself)."""
    url, log_path = echo_server
    if not (SUITE / "node_modules").is_dir() or shutil.which("npx") is None:
        pytest.fail("the suite's npm packages are missing: run scripts/test.sh, or "
                    f"npm ci --prefix {SUITE.relative_to(ROOT)} --no-audit --no-fund")
    report = tmp_path / "mocha.json"
    run = subprocess.run(
        ["npx", "--no", "mocha", "test-suite.js", "--reporter", "json",
         "--reporter-option", f"output={report}"],
        cwd=SUITE, env={**os.environ, "SOCKETIO_PROTOCOL_URL": url},
        capture_output=True, text=True, timeout=MOCHA_TIMEOUT_SECONDS)
    assert report.exists(), f"mocha wrote no report (exit {run.returncode}):\n{run.stdout}\n{run.stderr}"
    results = json.loads(report.read_text())
    stats = results["stats"]
    summary = (f"socket.io-protocol suite: {stats['tests']} tests, {stats['passes']} passed, "
               f"{stats['pending']} skipped, {stats['failures']} failed")
    print(summary)
    failures = "\n".join(f"- {test['fullTitle']}: {test['err'].get('message', '')}"
                         for test in results["failures"])
    assert stats["failures"] == 0 and run.returncode == 0, \
        f"{summary}\n{failures}\n--- server output ---\n{log_path.read_text()}"
    # Deviations change expectations, they skip nothing: every upstream test ran.
    assert stats["pending"] == 0 and stats["passes"] == stats["tests"] == 32, summary
