"""Subresource Integrity on every page: each script, stylesheet and preloaded module names the
SHA-384 of exactly what the server sends at its URL; the home page loads only its own code."""

import base64
import hashlib

import pytest
import requests

from burnchat.client.verify import page_references
from tests.serving.conftest import PREVIEW_AGENT

PAGE_NAMES = ["home", "room", "admin", "not found", "link preview"]


def references(server, pages, name):
    """The page's scripts and links, as the release manifest's scanner sees them."""
    path, agent = (pages["room"], PREVIEW_AGENT) if name == "link preview" else (pages[name], None)
    response = requests.get(server.url + path, headers={"User-Agent": agent or "Mozilla/5.0"},
                            timeout=5)
    assert response.status_code in (200, 404)
    return page_references(response.text, server.url + path)


def sri(data):
    """The integrity value of some bytes."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_script_and_stylesheet_carries_the_integrity_of_what_is_served(server, pages, name):
    found = references(server, pages, name)
    checked = [ref for ref in found if ref["tag"] == "script"
               or ref.get("rel") in ("stylesheet", "modulepreload")]
    assert any(ref.get("rel") == "stylesheet" for ref in checked), name
    for ref in checked:
        assert "integrity" in ref, f"{name}: {ref['url']} has no integrity"
        served = requests.get(server.url + ref["url"], timeout=5)  # gzip, decoded like a browser
        assert served.status_code == 200
        assert ref["integrity"] == sri(served.content), f"{name}: {ref['url']}"
    assert not [ref for ref in found if ref["tag"] in ("inline script", "inline style")]


@pytest.mark.parametrize("name", PAGE_NAMES)
def test_stylesheets_and_classic_scripts_have_cache_for_ever_urls(server, pages, name):
    for ref in references(server, pages, name):
        classic = ref["tag"] == "script" and ref.get("type") != "module"
        if classic or ref.get("rel") == "stylesheet":
            assert "?v=" in ref["url"], f"{name}: {ref['url']}"
            cached = requests.get(server.url + ref["url"], timeout=5)
            assert cached.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        elif "url" in ref:
            # Modules keep the plain URLs their imports resolve to; the icon the one app.css uses.
            assert "?" not in ref["url"], f"{name}: {ref['url']}"


def test_the_home_page_loads_no_room_or_admin_code(server, pages):
    urls = [ref["url"] for ref in references(server, pages, "home") if "url" in ref]
    loaded = {url.rsplit("/", 1)[-1].split("?")[0] for url in urls}
    assert "home.js" in loaded
    room_code = {"room.js", "room-chat.js", "room-keys.js", "protocol.js", "admin.js",
                 "admin-controls.js", "socket.io.min.js", "jsQR.js", "net.js"}
    assert not loaded & room_code, sorted(loaded & room_code)
