"""The Node socket.io 4 relay (bench/node/relay.js): whether it can run here, and installing it.

socket.io is pinned in bench/node/package-lock.json and installed at run time
with `npm ci` into bench/node/node_modules (gitignored), once per checkout.
Where node or npm is missing, or the install fails, the relay scenario runs
without it and the results say why (`note`).
"""

import shutil
import subprocess
from pathlib import Path

NODE_DIR = Path(__file__).resolve().parent / "node"
RELAY = NODE_DIR / "relay.js"
INSTALL_TIMEOUT_SECONDS = 300


def command():
    """The command that starts the relay."""
    return [shutil.which("node") or "node", str(RELAY)]


def prepare():
    """(True, version) when the relay can run, installing socket.io if needed; else (False, why)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return False, "node or npm is not installed: the Node socket.io comparison was skipped"
    if not (NODE_DIR / "node_modules" / "socket.io" / "package.json").exists():
        run = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR,
                             capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS)
        if run.returncode != 0:
            return False, f"npm ci failed, the Node socket.io comparison was skipped: {run.stderr[-300:]}"
    return True, versions(node)


def versions(node="node"):
    """'node vX, socket.io Y' for the results file."""
    import json

    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    package = NODE_DIR / "node_modules" / "socket.io" / "package.json"
    socketio_version = json.loads(package.read_text())["version"] if package.exists() else "?"
    return f"node {node_version}, socket.io {socketio_version}"
