"""The release manifest: up to date with the tree, complete, and derived from the rendered pages."""

import json

from burnchat import __version__
from burnchat.client import verify
from burnchat.client.verify import page_references
from burnchat.config import Config
from burnchat.factory import create_app
from burnchat.manifest import MANIFEST_FILE, REBUILD_COMMAND, build_manifest, dumps
from tests.server import ROOT


def committed():
    """The manifest as committed in release/."""
    return json.loads((ROOT / MANIFEST_FILE).read_text(encoding="utf-8"))


def test_committed_manifest_is_up_to_date_with_the_tree():
    built, published = build_manifest(ROOT), committed()
    stale = sorted(path for path in built["static"].keys() | published["static"].keys()
                   if built["static"].get(path) != published["static"].get(path))
    up_to_date = dumps(built) == dumps(published)
    assert up_to_date, (
        f"{MANIFEST_FILE} is stale (static files changed: {stale or 'none'}; or a page's "
        f"scripts, CSP or the version): rebuild it with `{REBUILD_COMMAND}` and commit it")


def test_verify_compares_with_the_manifest_of_its_own_install():
    assert verify.MANIFEST_PATH == ROOT / MANIFEST_FILE
    assert verify.parse_args(["http://host"]).manifest == str(ROOT / MANIFEST_FILE)


def test_manifest_names_the_version_and_every_static_file_including_vendor():
    manifest = build_manifest(ROOT)
    assert manifest["version"] == __version__
    files = {path.relative_to(ROOT / "static").as_posix()
             for path in (ROOT / "static").rglob("*") if path.is_file()}
    assert set(manifest["static"]) == files
    assert "vendor/socket.io.min.js" in manifest["static"]


def test_every_page_template_has_a_page_in_the_manifest():
    pages = {path.name for path in (ROOT / "templates").glob("*.html")
             if not path.name.startswith("_") and path.name != "base.html"}
    assert pages <= {page["template"] for page in build_manifest(ROOT)["pages"].values()}


def test_page_assets_come_from_the_rendered_templates(tree_copy):
    room = tree_copy / "templates" / "room.html"
    room.write_text(room.read_text().replace(
        "{% block scripts %}",
        "{% block scripts %}\n"
        "<script src=\"{{ url_for('static', filename='js/added.js') }}\"></script>"))
    (tree_copy / "static" / "js" / "added.js").write_text("console.log('added');\n")
    pages = build_manifest(tree_copy)["pages"]
    assert "/static/js/added.js" in [asset.get("url") for asset in pages["room"]["assets"]]
    assert "/static/js/added.js" not in [asset.get("url") for asset in pages["home"]["assets"]]


def test_room_page_lists_its_scripts_with_their_hashes_and_the_csp():
    manifest = build_manifest(ROOT)
    room = manifest["pages"]["room"]
    scripts = {asset["url"]: asset["sha256"]
               for asset in room["assets"] if asset["tag"] == "script"}
    assert scripts["/static/js/room.js"] == manifest["static"]["js/room.js"]
    assert "script-src 'self'" in room["csp"] and "{socket_origin}" in room["csp"]


def test_server_serves_its_manifest_at_a_well_known_url_uncached():
    response = create_app(Config(async_mode="threading")).test_client().get(
        "/.well-known/burnchat-manifest.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_data() == (ROOT / MANIFEST_FILE).read_bytes()


def test_scanner_finds_every_kind_of_active_content():
    html = """<html><head>
      <script src="/static/a.js" type="module"></script>
      <script src="https://evil.example/x.js"></script>
      <script>alert(1)</script><style>body{}</style>
      <link rel="Modulepreload" href="../static/b.js">
      <meta http-equiv="refresh" content="0;url=https://evil.example">
      <base href="https://evil.example/">
    </head><body onload="go()"><a href="javascript:go()">x</a><iframe src="/frame"></iframe></body></html>"""
    found = page_references(html, "http://host:5000/r/ROOM")
    assert {"tag": "script", "url": "/static/a.js", "type": "module"} in found
    assert {"tag": "script", "url": "https://evil.example/x.js"} in found
    assert {"tag": "link", "url": "/static/b.js", "rel": "modulepreload"} in found
    assert [ref["tag"] for ref in found if "url" not in ref] == [
        "inline script", "inline style", "meta", "event handler", "javascript: URL"]
    assert {"tag": "iframe", "url": "/frame"} in found
    assert {"tag": "base", "url": "https://evil.example/"} in found
