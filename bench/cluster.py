"""The scale-out topology under test: a private redis-server and N Burn Chat processes sharing it.

`ServerGroup` answers the same questions as `servers.Server` (url, keyed,
start, stop, alive, CPU, memory, room_is_gone), so the scenarios run on it
unchanged; its `urls` lists every process so the load generator can spread
each room's members over them and every delivery has to cross Redis.
"""

import subprocess
import time
from pathlib import Path

import redis

from . import procstat
from .servers import START_TIMEOUT_SECONDS, Server, _die_with_parent, free_port

# Nothing on disk: Burn Chat refuses a Redis that persists (and rooms must stay in RAM).
REDIS_OPTIONS = ("--save", "", "--appendonly", "no")


class RedisServer:
    """`redis-server` on a free loopback port with persistence off, killed at the end."""

    def __init__(self, log_path):
        self.log_path = Path(log_path)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        """Start it and wait until it answers PING."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", *REDIS_OPTIONS],
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._answers(client):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start; see {self.log_path}")
            time.sleep(0.05)
        client.close()
        return self

    @staticmethod
    def _answers(client):
        """True once PING works."""
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def alive(self):
        """True while the process runs."""
        return self.process is not None and self.process.poll() is None

    def stop(self):
        """SIGKILL (nothing is on disk to flush) and reap."""
        if self.alive():
            self.process.kill()
        if self.process is not None:
            self.process.wait()


class ServerGroup:
    """`count` Burn Chat processes on async `mode`, sharing rooms through one private Redis."""

    kind = "burnchat"
    keyed = True

    def __init__(self, mode, log_path, count=2):
        self.mode = mode
        self.log_path = Path(log_path)
        stem = self.log_path.with_suffix("")
        self.redis = RedisServer(f"{stem}-redis.log")
        self.processes = [Server("burnchat", mode, f"{stem}-p{index + 1}.log",
                                 env={"BURNCHAT_REDIS_URL": self.redis.url})
                          for index in range(count)]

    @property
    def url(self):
        """Where rooms are created and checked (any process would do: rooms live in Redis)."""
        return self.processes[0].url

    @property
    def urls(self):
        """Every process's address: the load generator alternates members over them."""
        return [server.url for server in self.processes]

    def start(self):
        """Redis first, then every app process."""
        self.redis.start()
        for server in self.processes:
            server.start()
        return self

    def alive(self):
        """True while Redis and every app process run."""
        return self.redis.alive() and all(server.alive() for server in self.processes)

    def _pids(self):
        """The app processes and Redis: all of them serve the load."""
        return [server.pid for server in self.processes] + [self.redis.process.pid]

    def cpu_seconds(self):
        """CPU seconds of the app processes and Redis together."""
        return procstat.total_cpu_seconds(self._pids())

    def rss_kb(self):
        """Resident memory of the app processes and Redis together, KiB."""
        return sum(procstat.rss_kb(pid) for pid in self._pids())

    def room_is_gone(self, room):
        """True when every process answers 404 for the room's page."""
        return all(server.room_is_gone(room) for server in self.processes)

    def stop(self):
        """Kill the app processes, then Redis."""
        for server in self.processes:
            server.stop()
        self.redis.stop()
