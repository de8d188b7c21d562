"""`verify URL` against real server processes: the real tree, and copies with one thing changed."""

import subprocess
import sys

from burnchat import __version__
from tests.server import ROOT, free_port

PROBLEM_PREFIXES = ("DIFFERS", "MISSING", "EXTRA", "UNCHECKED")


def problems(output):
    """The lines of verify's output that name a difference."""
    return [line for line in output.splitlines() if line.startswith(PROBLEM_PREFIXES)]


def test_real_server_serves_exactly_the_release(real_server, published):
    result = subprocess.run([sys.executable, "-m", "burnchat.client", "verify", real_server.url,
                             "--manifest", str(published)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"serves exactly Burn Chat {__version__}" in result.stdout
    assert "throwaway room" in result.stdout and "30 seconds" in result.stdout
    assert problems(result.stdout) == []


def test_a_modified_script_is_named_even_when_the_server_vouches_for_it(
        tree_copy, serve_copy, verify_output):
    crypto = tree_copy / "static" / "js" / "crypto.js"
    crypto.write_text(crypto.read_text() + "\n// sends your keys elsewhere\n")
    # The copy publishes a manifest that matches its own modified file: verify must not trust it.
    subprocess.run([sys.executable, "-m", "burnchat.manifest", "--write"], cwd=tree_copy, check=True,
                   capture_output=True, timeout=60)
    code, output = verify_output(serve_copy(tree_copy).url)
    assert code == 1, output
    assert "DIFFERS  /static/js/crypto.js (used by the admin, home, link_preview, room pages)" in [
        line.split(":")[0] for line in problems(output)], output
    # The pages' integrity attributes for it changed with it: each such line names crypto.js.
    assert all("/static/js/crypto.js" in line for line in problems(output)), output
    assert "does NOT serve exactly" in output and "serves exactly" not in output


def test_an_extra_script_on_the_room_page_is_named(tree_copy, serve_copy, verify_output):
    room = tree_copy / "templates" / "room.html"
    room.write_text(room.read_text().replace(
        "{% block scripts %}",
        '{% block scripts %}\n<script type="module" src="/static/js/extra.js"></script>'))
    (tree_copy / "static" / "js" / "extra.js").write_text("console.log('extra');\n")
    code, output = verify_output(serve_copy(tree_copy).url)
    assert code == 1, output
    assert problems(output) == ['EXTRA    room page (/r/{room}): <script src="/static/js/extra.js" '
                                'type="module"> is not in the manifest'], output


def test_a_missing_file_is_named(tree_copy, serve_copy, verify_output):
    # A file no page references (loaded on demand): a page's own scripts carry their SRI, so
    # without them the page itself cannot be made.
    (tree_copy / "static" / "vendor" / "jsQR.js").unlink()
    code, output = verify_output(serve_copy(tree_copy).url)
    assert code == 1, output
    assert [line.split(":")[0] for line in problems(output)] == [
        "MISSING  /static/vendor/jsQR.js"], output


def test_an_inline_script_and_a_weakened_csp_are_named(tree_copy, serve_copy, verify_output):
    security = tree_copy / "burnchat" / "security.py"
    security.write_text(security.read_text().replace(
        "\"script-src 'self'\",", "\"script-src 'self' 'unsafe-inline'\","))
    home = tree_copy / "templates" / "home.html"
    home.write_text(home.read_text().replace(
        "{% block scripts %}", "{% block scripts %}\n<script>steal()</script>"))
    code, output = verify_output(serve_copy(tree_copy).url)
    assert code == 1, output
    found = problems(output)
    for page in ("home", "room", "admin", "link_preview", "not_found"):
        assert any(line.startswith(f"DIFFERS  {page} page") and "unsafe-inline" in line
                   for line in found), output
    assert any(line.startswith("EXTRA    home page (/)") and "inline script (bytes 7" in line
               for line in found), output


def test_an_unreachable_server_exits_2(published, verify_output):
    code, _ = verify_output(f"http://127.0.0.1:{free_port()}")
    assert code == 2
