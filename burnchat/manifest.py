"""The release manifest: what a server running this version sends, for `verify` to compare with.

`python -m burnchat.manifest --write` rebuilds release/manifest.json (without
--write it prints it). The manifest holds the SHA-256 of every static file and,
for every page, its Content-Security-Policy and the scripts, stylesheets and
other active content it references with their SHA-256. The pages are rendered
by the real app through Flask's test client, so the lists follow the templates
(and any future hashed URLs) without being written down twice.
"""

import argparse
import json
import re
import secrets
import sys
from pathlib import Path

from flask import template_rendered

from .client.verify import SOCKET_ORIGIN, page_references, sha256
from .config import Config

ROOT = Path(__file__).resolve().parent.parent
MANIFEST_FILE = Path("release") / "manifest.json"
REBUILD_COMMAND = "python -m burnchat.manifest --write"
TEST_HOST = "localhost"  # the test client's Host; its socket origin becomes SOCKET_ORIGIN
_SKIPPED_PARTS = {"__pycache__", "node_modules"}  # never part of a release, even if present
# name, how the page is reached (path, User-Agent) and the status it is served with.
PAGES = (
    ("home", "/", "browser", 200),
    ("room", "/r/{room}", "browser", 200),
    ("admin", "/r/{room}/admin", "browser", 200),
    ("link_preview", "/r/{room}", "preview", 200),  # the generic card bots get for a room link
    ("not_found", "/r/{unknown}", "browser", 404),
    ("busy", "/", "browser", 503),                  # only while the server is full, see below
)


def version(root=ROOT):
    """The release version: `__version__` in burnchat/__init__.py, the one place it is written."""
    text = (Path(root) / "burnchat" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)[1]


def static_hashes(static_dir):
    """SHA-256 of every file under static/, keyed by its path there (as served under /static/)."""
    return {path.relative_to(static_dir).as_posix(): sha256(path.read_bytes())
            for path in sorted(Path(static_dir).rglob("*"))
            if path.is_file() and not _SKIPPED_PARTS & set(path.parts)}


def build_manifest(root=ROOT):
    """The manifest of the tree at `root`, as a plain dict (deterministic: same tree, same dict)."""
    root = Path(root)
    return {
        "name": "Burn Chat",
        "version": version(root),
        "rebuild": REBUILD_COMMAND,
        "static_url_path": "/static",
        "static": static_hashes(root / "static"),
        "pages": _rendered_pages(root),
    }


def _rendered_pages(root):
    """Render each page through the real app and record what it references."""
    from .factory import create_app
    from .client.verify import AGENTS

    # max_rooms=1: the home page while empty, the room pages of the one room, then busy.
    app = create_app(Config(async_mode="threading", max_rooms=1), root=root)
    client = app.test_client()
    rendered = []
    template_rendered.connect(lambda sender, template, context, **extra: rendered.append(
        template.name), app, weak=False)
    room = None
    pages = {}
    for name, path, agent, status in PAGES:
        if room is None and "{room}" in path:
            response = client.post("/api/rooms", json={  # a PIN nobody holds (§8.1)
                "ttl_seconds": 60, "pin_salt": secrets.token_urlsafe(16),
                "pin_verifier": secrets.token_urlsafe(32)})
            assert response.status_code == 201, response.get_data(as_text=True)
            room = response.get_json()["room"]
        rendered.clear()
        url = path.format(room=room, unknown="A" * 22)
        response = client.get(url, headers={"User-Agent": AGENTS[agent]})
        if response.status_code != status:
            raise RuntimeError(f"{name} page {path}: HTTP {response.status_code}, expected {status}")
        pages[name] = {
            "path": path,
            "agent": agent,
            "status": status,
            "template": rendered[0],
            "csp": response.headers["Content-Security-Policy"].replace(
                f"ws://{TEST_HOST}", SOCKET_ORIGIN),
            "assets": [_hashed(client, name, reference) for reference in
                       page_references(response.get_data(as_text=True), f"http://{TEST_HOST}{url}")],
        }
    pages["busy"].update(fetched_by_verify=False,
                         note="shown only while the server is full or failing")
    return pages


def _hashed(client, page, reference):
    """A page's reference with the SHA-256 of what the app serves at its URL."""
    if "url" not in reference:
        return reference
    response = client.get(reference["url"])
    if response.status_code != 200:
        raise RuntimeError(f"the {page} page references {reference['url']}, "
                           f"which the app answers with HTTP {response.status_code}")
    return {**reference, "sha256": sha256(response.get_data())}


def dumps(manifest):
    """The manifest as its committed text: sorted, indented, one final newline."""
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"


def main(argv=None):
    """Print the manifest of this tree, or write it to release/manifest.json with --write."""
    parser = argparse.ArgumentParser(prog="python -m burnchat.manifest",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true",
                        help=f"write {MANIFEST_FILE} instead of printing")
    args = parser.parse_args(argv)
    text = dumps(build_manifest(ROOT))
    if args.write:
        (ROOT / MANIFEST_FILE).parent.mkdir(exist_ok=True)
        (ROOT / MANIFEST_FILE).write_text(text, encoding="utf-8")
        print(f"wrote {MANIFEST_FILE}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
