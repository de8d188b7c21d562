"""Run the real server (`python app.py`) in a child process for integration and browser tests."""

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from tests.pins import TEST_PIN, TEST_SALT, room_request

ROOT = Path(__file__).resolve().parent.parent

# Generous per-address limits: every test client comes from 127.0.0.1.
TEST_ENV = {
    "BURNCHAT_MIN_TTL_SECONDS": "1",
    "BURNCHAT_ROOMS_PER_MINUTE": "100000",
    "BURNCHAT_CONNECTIONS_PER_MINUTE": "100000",
    "BURNCHAT_PIN_ATTEMPTS_PER_MINUTE": "100000",
    "BURNCHAT_ROOMS_PER_ADDRESS": "100000",
    "BURNCHAT_SOCKETS_PER_ADDRESS": "100000",
    "BURNCHAT_SESSIONS_PER_ADDRESS": "100000",
    "BURNCHAT_JOINS_PER_MINUTE": "100000",
}


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout=10.0, interval=0.02, message="condition"):
    """Poll `condition` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        time.sleep(interval)


class ServerProcess:
    """`python app.py` on a free port with its stdout and stderr captured in memory."""

    def __init__(self, extra_env=None, wrapper=(), wait=True, script=ROOT / "app.py"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, **TEST_ENV, "PORT": str(self.port), "HOST": "127.0.0.1",
               "PYTHONUNBUFFERED": "1", **(extra_env or {})}
        self._chunks = []
        self.process = subprocess.Popen(
            [*wrapper, sys.executable, str(script)], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if wait:
            self.wait_ready()

    def wait_ready(self):
        """Block until the server answers HTTP (fails if it exits first)."""
        wait_for(self._ready, timeout=20, message="server start-up")
        return self

    def _read(self):
        """Collect everything the server prints."""
        for line in iter(self.process.stdout.readline, b""):
            self._chunks.append(line.decode("utf-8", "replace"))

    def _ready(self):
        """True once the server answers HTTP."""
        if self.process.poll() is not None:
            raise AssertionError(f"server exited early:\n{self.output()}")
        try:
            return requests.get(self.url + "/", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    def output(self):
        """Everything the server printed so far."""
        return "".join(self._chunks)

    def create_room(self, ttl_seconds=60):
        """POST /api/rooms and return its JSON, with the PIN and salt the creator made (tests.pins)."""
        response = requests.post(self.url + "/api/rooms", json=room_request(ttl_seconds), timeout=5)
        assert response.status_code == 201, response.text
        return {**response.json(), "pin": TEST_PIN, "pin_salt": TEST_SALT}

    def stop(self, sig=None):
        """Stop the server and wait for it."""
        if self.process.poll() is None:
            if sig is None:
                self.process.kill()
            else:
                self.process.send_signal(sig)
            self.process.wait(timeout=10)
        self._reader.join(timeout=5)
