"""Fixtures for `verify`: the real server, and real servers run from an edited copy of the tree."""

import os
import shutil
import subprocess
import sys
import threading

import pytest

from burnchat.client import verify
from burnchat.manifest import build_manifest, dumps
from tests.server import ROOT, TEST_ENV, ServerProcess, free_port

# What `python app.py` needs to serve: the code, the pages, the files and the published manifest.
SERVED_PARTS = ("app.py", "burnchat", "templates", "static", "release")


class CopiedServer(ServerProcess):
    """`python app.py` run from another tree (a copy the test has edited), on a free port."""

    def __init__(self, root):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, **TEST_ENV, "PORT": str(self.port), "HOST": "127.0.0.1",
               "PYTHONUNBUFFERED": "1"}
        self._chunks = []
        # The copy's app.py imports the copy's burnchat (its folder is first on sys.path).
        self.process = subprocess.Popen([sys.executable, str(root / "app.py")], cwd=root, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_ready()


def publish(root, path):
    """Write the manifest of the tree at `root` to `path`, as a release would publish it."""
    path.write_text(dumps(build_manifest(root)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def real_server():
    """The repository's own server, unedited."""
    server = ServerProcess()
    yield server
    server.stop()


@pytest.fixture
def published(tmp_path):
    """The manifest of the tree as it is now (the committed one goes stale while others edit
    static files; tests/verify/test_manifest.py is the test that catches that)."""
    return publish(ROOT, tmp_path / "published.json")


@pytest.fixture
def tree_copy(tmp_path):
    """A copy of the served parts of the repository, for a test to edit; its published
    manifest, taken before any edit, is `tmp_path / "published.json"`."""
    root = tmp_path / "burnchat-copy"
    for part in SERVED_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, root / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            root.mkdir(exist_ok=True)
            shutil.copy2(source, root / part)
    publish(root, tmp_path / "published.json")
    return root


@pytest.fixture
def serve_copy():
    """Start a real server from an edited tree; every one started is stopped afterwards."""
    servers = []

    def start(root):
        servers.append(CopiedServer(root))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def verify_output(capsys, tmp_path):
    """Run `verify` in this process against a URL with the test's published manifest:
    (exit code, what it printed)."""

    def run(url):
        code = verify.main([url, "--manifest", str(tmp_path / "published.json")])
        return code, capsys.readouterr().out

    return run
