"""No trace on disk: after start-up the server process opens no file for writing.

How: the real server runs under `strace -f` (Debian package `strace`; ptrace must
be allowed, as it is for root or with CAP_SYS_PTRACE), tracing every syscall that
can create, change or remove a file. strace writes its trace to its own stderr,
which is a pipe to the test (ServerProcess captures it with the server's output),
so tracing itself touches no file. A marker request (a static file the server
opens read-only) divides start-up from the session; from the marker on, no
traced call may open a file for writing or touch the file system.
"""

import os
import re
import shutil
import signal
import subprocess

import pytest
import requests

from tests.abuse.session import run_session
from tests.server import wait_for

WRITING_CALLS = ("open", "openat", "openat2", "creat", "truncate", "ftruncate", "rename",
                 "renameat", "renameat2", "unlink", "unlinkat", "mkdir", "mkdirat", "rmdir",
                 "link", "linkat", "symlink", "symlinkat", "mknod", "mknodat")
STRACE = ["strace", "-f", "-qq", "--seccomp-bpf", "-e", "signal=none",
          "-e", "trace=" + ",".join(WRITING_CALLS)]
MARKER = "/static/img/flame.svg"
WRITE_FLAGS = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND")
OPEN_CALL = re.compile(r"\b(open|openat|openat2)\(")
CHANGE_CALL = re.compile(r"\b(creat|truncate|ftruncate|rename\w*|unlink\w*|mkdir\w*|rmdir|"
                         r"link\w*|symlink\w*|mknod\w*)\(")


def strace_usable():
    """True when strace exists and may trace a child here."""
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(["strace", "-qq", "-e", "trace=openat", "true"],
                           capture_output=True, timeout=10)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not strace_usable(), reason="strace missing or ptrace not allowed "
                                "(apt-get install strace; run as root or with CAP_SYS_PTRACE)")


def stop_traced_server(server):
    """SIGTERM the server itself (strace then exits with it); killing strace would orphan it."""
    (child,) = tracee_pids(server)
    os.kill(child, signal.SIGTERM)
    assert server.process.wait(timeout=10) == 0


def disk_writes(trace_lines):
    """The traced calls that open a file for writing or change the file system."""
    return [line for line in trace_lines
            if (OPEN_CALL.search(line) and WRITE_FLAGS.search(line)) or CHANGE_CALL.search(line)]


@pytest.fixture
def traced_server(fresh_server):
    """A server under strace; never left running, even when the test fails half-way."""
    server = fresh_server(wrapper=STRACE)
    yield server
    if server.process.poll() is None:
        for pid in tracee_pids(server):
            os.kill(pid, signal.SIGKILL)


def tracee_pids(server):
    """The processes strace started (the server)."""
    tracer = server.process.pid
    with open(f"/proc/{tracer}/task/{tracer}/children") as children:
        return [int(pid) for pid in children.read().split()]


def test_a_full_session_writes_no_file(traced_server):
    server = traced_server
    requests.get(server.url + MARKER, timeout=5)
    wait_for(lambda: MARKER.rsplit("/", 1)[1] in server.output(), message="the marker open")
    session, peers, admin = run_session(server)
    for peer in (*peers, admin):
        peer.close()
    stop_traced_server(server)  # the shutdown path is traced too
    lines = server.output().splitlines()
    start = next(i for i, line in enumerate(lines) if MARKER.rsplit("/", 1)[1] in line)
    assert any(OPEN_CALL.search(line) for line in lines[:start]), "strace traced nothing"
    after_start = lines[start:]
    assert disk_writes(after_start) == []
