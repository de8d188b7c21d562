"""A private Redis (persistence off, free port) and two app processes sharing it."""

import shutil
import subprocess

import pytest
import redis

from tests.server import ServerProcess, free_port, wait_for


class RedisServer:
    """`redis-server` on a free loopback port, started by the test itself."""

    def __init__(self, *options):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", *options],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = redis.Redis(port=self.port, decode_responses=True)
        wait_for(self._ready, timeout=10, message="redis start-up")

    def _ready(self):
        try:
            return self.client.ping()
        except redis.ConnectionError:
            return False

    def keys(self):
        return sorted(self.client.keys("*"))

    def stop(self):
        self.process.kill()
        self.process.wait(timeout=5)


@pytest.fixture
def redis_server():
    """A Redis with nothing on disk: no snapshots, no append-only file."""
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is missing: scripts/test.sh installs Debian's redis-server")
    server = RedisServer("--save", "", "--appendonly", "no")
    yield server
    server.stop()


@pytest.fixture
def two_processes(redis_server):
    """Two app processes sharing rooms through the Redis."""
    env = {"BURNCHAT_REDIS_URL": redis_server.url}
    servers = [ServerProcess(env, wait=False), ServerProcess(env, wait=False)]
    yield [server.wait_ready() for server in servers]
    for server in servers:
        server.stop()
