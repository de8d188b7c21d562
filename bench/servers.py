"""The processes under test: the real server (`python app.py`) and the bare relay, one at a time.

Each scenario gets a fresh process so that no figure carries another's rooms,
memory or warm-up. Logging stays as in production (warnings to stderr); the
output goes to a file next to the results so a crash can be read afterwards.
"""

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from . import noderelay, procstat

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = {
    "burnchat": [sys.executable, str(ROOT / "app.py")],
    "baseline": [sys.executable, str(ROOT / "bench" / "baseline.py")],
    "node": noderelay.command(),   # the Node socket.io 4 relay (bench/noderelay.py)
}
# Every load-generator socket comes from 127.0.0.1: lift the per-address limits,
# and let rooms live for a second so the burn scenario need not wait 30 s.
BENCH_ENV = {
    "BURNCHAT_MIN_TTL_SECONDS": "1",
    "BURNCHAT_ROOMS_PER_MINUTE": "1000000000",
    "BURNCHAT_CONNECTIONS_PER_MINUTE": "1000000000",
    "BURNCHAT_ROOMS_PER_ADDRESS": "1000000000",
    "BURNCHAT_SOCKETS_PER_ADDRESS": "1000000000",
    "BURNCHAT_SESSIONS_PER_ADDRESS": "1000000000",
    "BURNCHAT_MAX_ROOMS": "20000",
    "BURNCHAT_MAX_CONNECTIONS": "12000",
}
START_TIMEOUT_SECONDS = 30
PR_SET_PDEATHSIG = 1   # from <sys/prctl.h>


def _die_with_parent():
    """In the child before exec: get SIGKILL if the harness dies, so no server outlives it."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """One server process of `kind` ("burnchat", "baseline" or "node") on async `mode`.

    The Node relay has no async mode; it runs the same in every mode's cases."""

    def __init__(self, kind, mode, log_path, env=None, traced=False):
        self.kind = kind
        self.traced = traced   # run under bench/traced.py (tracemalloc snapshots on SIGUSR1)
        self.mode = mode
        self.log_path = Path(log_path)
        self.extra_env = dict(env or {})   # e.g. BURNCHAT_REDIS_URL for the scale-out topology
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    @property
    def keyed(self):
        """Whether members must run the key protocol before sending (ours: yes; the bare relay: no)."""
        return self.kind == "burnchat"

    @property
    def urls(self):
        """Every address members may connect to (one process: just its own)."""
        return [self.url]

    @property
    def pid(self):
        """The server's process ID."""
        return self.process.pid

    def start(self):
        """Start the process and wait until it answers HTTP."""
        env = {**os.environ, **BENCH_ENV, **self.extra_env, "BURNCHAT_ASYNC_MODE": self.mode,
               "PORT": str(self.port), "HOST": "127.0.0.1", "PYTHONUNBUFFERED": "1"}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            command = COMMANDS[self.kind]
            if self.traced:
                command = [command[0], str(ROOT / "bench" / "traced.py"), *command[1:]]
            self.process = subprocess.Popen(command, cwd=ROOT, env=env,
                                            stdout=log, stderr=subprocess.STDOUT,
                                            preexec_fn=_die_with_parent)
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._answers():
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited at start-up; see {self.log_path}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.kind} did not start; see {self.log_path}")
            time.sleep(0.05)
        return self

    def _answers(self):
        """True once GET / answers 200."""
        try:
            return requests.get(self.url + "/", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    def alive(self):
        """True while the process runs."""
        return self.process is not None and self.process.poll() is None

    def cpu_seconds(self):
        """CPU seconds the server has used so far."""
        return procstat.cpu_seconds(self.pid)

    def rss_kb(self):
        """The server's resident memory in KiB."""
        return procstat.rss_kb(self.pid)

    def room_is_gone(self, room):
        """True when the server answers 404 for the room's page."""
        return requests.get(f"{self.url}/r/{room}", timeout=5).status_code == 404

    def stop(self):
        """SIGKILL: a measurement needs no graceful exit, and on eventlet a SIGTERM is only
        handled at the hub's next timer (which can be seconds away on an idle server)."""
        if self.alive():
            self.process.kill()
        if self.process is not None:
            self.process.wait()
