"""Drive the real full-screen client in a real terminal: tmux on a private socket, a fixed size,
send-keys to type, capture-pane to read the screen (-e for colours, -S - for the whole scrollback)."""

import itertools
import os
import shlex
import shutil
import socket
import subprocess
import sys
import threading

import pytest

from burnchat.client import crypto
from tests.server import ROOT, wait_for

DEADLINE_SECONDS = 15
_numbers = itertools.count()


class TmuxScreen:
    """One program in its own tmux server; the pane stays after the program ends so it can be read."""

    def __init__(self, tmp_path, argv, width=100, height=30, env=None):
        self.socket = f"burnchat-{os.getpid()}-{next(_numbers)}"
        config = tmp_path / f"{self.socket}.conf"
        config.write_text("set -g remain-on-exit on\nset -g history-limit 10000\nset -g status off\n")
        settings = {"NO_COLOR": None, "PYTHONIOENCODING": "utf-8", **(env or {})}
        unset = [f"-u{name}" for name, value in settings.items() if value is None]
        assigned = [f"{name}={value}" for name, value in settings.items() if value is not None]
        # tmux's #{pane_dead_status} is sometimes empty, so the exit status goes to a file.
        self.status_file = tmp_path / f"{self.socket}.status"
        command = f"{shlex.join(['env', *unset, *assigned, *argv])}; echo $? > {shlex.quote(str(self.status_file))}"
        self.tmux("-f", str(config), "new-session", "-d", "-s", "chat", "-x", str(width), "-y", str(height),
                  "-c", str(ROOT), command)

    def tmux(self, *args):
        """Run one tmux command against this screen's server; its stdout."""
        result = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10)
        assert result.returncode == 0, f"tmux {args[0]}: {result.stderr}"
        return result.stdout

    def type(self, text):
        """Type text literally (no Enter)."""
        self.tmux("send-keys", "-t", "chat", "-l", text)

    def keys(self, *names):
        """Press keys by tmux name: Enter, PageUp, C-c, M-Enter..."""
        self.tmux("send-keys", "-t", "chat", *names)

    def line(self, text):
        """Type a line and press Enter."""
        self.type(text)
        self.keys("Enter")

    def capture(self, escapes=False, history=False):
        """What the pane shows (with colour escapes, or with the whole scrollback)."""
        args = ["capture-pane", "-p", "-t", "chat"] + (["-e"] if escapes else []) + (["-S", "-"] if history else [])
        return self.tmux(*args)

    def wait(self, condition, timeout=DEADLINE_SECONDS, escapes=False):
        """Wait until `condition` (a text to find, or a function of the screen) holds; the screen then."""
        test = (lambda screen: condition in screen) if isinstance(condition, str) else condition
        try:
            return wait_for(lambda: (lambda screen: test(screen) and screen)(self.capture(escapes)),
                            timeout=timeout, interval=0.05, message=repr(condition))
        except AssertionError as exc:
            raise AssertionError(f"{exc}; the screen:\n{self.capture()}") from None

    def exit_status(self, timeout=DEADLINE_SECONDS):
        """Wait for the program to end; its exit status."""
        status = wait_for(lambda: self.status_file.exists() and self.status_file.read_text().strip(),
                          timeout=timeout, message="the program to end")
        return int(status)

    def input_row(self):
        """The last non-empty row: the input line."""
        return [row for row in self.capture().splitlines() if row.strip()][-1]

    def close(self):
        """Stop the tmux server (and the program, if it still runs)."""
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


@pytest.fixture
def screens(tmp_path):
    """Start the full-screen client in tmux: `screens(link, "Alice", "--no-animation")`."""
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (scripts/test.sh installs it)")
    started = []

    def start(link, name, *args, width=100, height=30, env=None):
        argv = [sys.executable, "-m", "burnchat.client", link, "--name", name, *args]
        screen = TmuxScreen(tmp_path, argv, width, height, env)
        started.append(screen)
        return screen

    yield start
    for screen in started:
        screen.close()


@pytest.fixture
def room(live_server):
    """Function: a fresh room on the live server, as (link, pin)."""

    def make(ttl_seconds=120):
        created = live_server.create_room(ttl_seconds=ttl_seconds)
        return f"{live_server.url}{created['url']}#{crypto.random_id()}", created["pin"]

    return make


class CuttableProxy:
    """A TCP relay in front of a server whose connections a test can cut (and refuse for a while):
    to the client a cut is a network drop, to the server a socket that closed without `leave`."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.refusing = False
        self.accepted = 0
        self._sockets, self._lock = [], threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        """Relay each new connection unless refusing."""
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            if self.refusing:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with self._lock:
                self._sockets += [client, upstream]
                self.accepted += 1
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        """Copy one direction until either side closes."""
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self, refuse=True):
        """Drop every relayed connection; with `refuse`, new ones too until allow()."""
        self.refusing = refuse
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for end in sockets:
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()

    def allow(self):
        """Let connections through again."""
        self.refusing = False

    def close(self):
        """Stop listening and drop everything."""
        self.listener.close()
        self.cut()


@pytest.fixture
def proxies():
    """Start a CuttableProxy in front of a server: `proxies(server)`."""
    started = []

    def start(server):
        proxy = CuttableProxy(server.port)
        started.append(proxy)
        return proxy

    yield start
    for proxy in started:
        proxy.close()
