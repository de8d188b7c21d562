"""A private Redis (persistence off, free port) and two app processes sharing it."""

import shutil
import signal
import subprocess

import pytest
import redis

from tests.server import ServerProcess, free_port, wait_for


class RedisServer:
    """`redis-server` on a free loopback port, started by the test itself."""

    def __init__(self, *options):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.options = options
        self.client = redis.Redis(port=self.port, decode_responses=True)
        self.start()

    def start(self):
        """Run redis-server on our port and wait until it answers."""
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", *self.options],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._ready, timeout=10, message="redis start-up")

    def pause(self):
        """SIGSTOP: Redis stalls, its connections stay open."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self):
        """SIGCONT after pause()."""
        self.process.send_signal(signal.SIGCONT)

    def _ready(self):
        try:
            return self.client.ping()
        except redis.ConnectionError:
            return False

    def keys(self):
        return sorted(self.client.keys("*"))

    def stop(self):
        self.process.kill()  # SIGKILL works on a stopped process too
        self.process.wait(timeout=5)


@pytest.fixture
def redis_server():
    """A Redis with nothing on disk: no snapshots, no append-only file."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing: scripts/test.sh installs Debian's redis-server")
    server = RedisServer("--save", "", "--appendonly", "no")
    yield server
    server.stop()


# Heartbeats ten times a second, dead after 0.4 s: fault tests stay short.
FAST_HEARTBEAT = {"BURNCHAT_HEARTBEAT_SECONDS": "0.1", "BURNCHAT_HEARTBEAT_TTL_SECONDS": "0.4"}


@pytest.fixture
def app_processes(redis_server):
    """`start(count, env)`: app processes sharing rooms through the Redis, stopped afterwards."""
    started = []

    def start(count=2, env=None):
        full_env = {"BURNCHAT_REDIS_URL": redis_server.url, **(env or {})}
        servers = [ServerProcess(full_env, wait=False) for _ in range(count)]
        started.extend(servers)
        return [server.wait_ready() for server in servers]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def two_processes(app_processes):
    """Two app processes sharing rooms through the Redis."""
    return app_processes(2)
