"""Drive the terminal client (`python -m burnchat.client`) as a subprocess over pipes."""

import os
import subprocess
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEADLINE_SECONDS = 10


class ChatProcess:
    """One terminal client in a child process, its stdout and stderr read line by line."""

    def __init__(self, link, name, stdin_data=None):
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "burnchat.client", link, "--name", name],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        )
        self.lines = {"out": [], "err": []}
        self.cursor = {"out": 0, "err": 0}
        self.changed = threading.Condition()
        for stream, pipe in (("out", self.proc.stdout), ("err", self.proc.stderr)):
            threading.Thread(target=self._read, args=(stream, pipe), daemon=True).start()
        if stdin_data is not None:
            self.proc.stdin.write(stdin_data.encode("utf-8"))
            self.proc.stdin.close()

    def _read(self, stream, pipe):
        """Collect one stream's lines and wake whoever waits on them."""
        for raw in iter(pipe.readline, b""):
            with self.changed:
                self.lines[stream].append(raw.decode("utf-8").rstrip("\n"))
                self.changed.notify_all()

    def wait_line(self, stream, predicate, timeout=DEADLINE_SECONDS):
        """The next line of `stream` (after earlier matches) satisfying `predicate`."""
        def find():
            lines = self.lines[stream]
            for index in range(self.cursor[stream], len(lines)):
                if predicate(lines[index]):
                    self.cursor[stream] = index + 1
                    return lines[index]
            return None

        with self.changed:
            found = self.changed.wait_for(find, timeout=timeout)
        assert found, f"{self.name}: no matching {stream} line in {timeout} s; got {self.lines}"
        return found

    def status(self, prefix, timeout=DEADLINE_SECONDS):
        """Wait for a `* prefix...` status line on stderr."""
        return self.wait_line("err", lambda line: line.startswith(f"* {prefix}"), timeout)

    def say(self, text):
        """Type one line."""
        self.proc.stdin.write(f"{text}\n".encode("utf-8"))
        self.proc.stdin.flush()

    def exit_code(self, timeout=DEADLINE_SECONDS):
        """Wait for the process to end."""
        return self.proc.wait(timeout=timeout)

    def all_lines(self):
        """Everything printed so far on both streams."""
        with self.changed:
            return "\n".join(self.lines["out"] + self.lines["err"])

    def kill(self):
        """Stop the process if a failed test left it running."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if not pipe.closed:
                pipe.close()
