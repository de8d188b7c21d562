"""Static files served like a real site: strong ETags and 304, cache-for-ever ?v= URLs,
gzip made once at start-up, while every page and API answer stays no-store."""

import gzip
import hashlib
import re

import pytest
import requests

from burnchat import assets
from tests.server import ROOT
from tests.pins import room_request

STATIC = ROOT / "static"
FILES = sorted(path.relative_to(STATIC).as_posix() for path in STATIC.rglob("*")
               if path.is_file() and "node_modules" not in path.parts)
IDENTITY = {"Accept-Encoding": "identity"}
GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def get(server, path, **headers):
    """GET with exactly these headers' Accept-Encoding (requests adds gzip by default)."""
    headers.setdefault("Accept-Encoding", "identity")
    return requests.get(server.url + path, headers=headers, timeout=5, stream=True)


def raw_body(response):
    """The body as it came over the wire, not decoded."""
    return response.raw.read(decode_content=False)


@pytest.mark.parametrize("name", FILES)
def test_every_static_file_revalidates_by_a_strong_etag_of_its_content(server, name):
    data = (STATIC / name).read_bytes()
    response = get(server, f"/static/{name}")
    assert response.status_code == 200
    assert raw_body(response) == data
    assert response.headers["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    policy = "public, max-age=86400" if name.startswith("img/") else "no-cache"
    assert response.headers["Cache-Control"] == policy
    assert response.headers["Vary"] == "Accept-Encoding"
    assert "Content-Encoding" not in response.headers
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")

    again = get(server, f"/static/{name}", **{"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and raw_body(again) == b""
    assert again.headers["ETag"] == response.headers["ETag"]
    assert again.headers["Cache-Control"] == policy


def test_a_changed_or_weak_tag_is_compared_correctly(server):
    etag = get(server, "/static/js/crypto.js").headers["ETag"]
    assert get(server, "/static/js/crypto.js", **{"If-None-Match": '"0123"'}).status_code == 200
    assert get(server, "/static/js/crypto.js", **{"If-None-Match": f'"x", W/{etag}'}).status_code == 304
    assert get(server, "/static/js/crypto.js", **{"If-None-Match": "*"}).status_code == 304


@pytest.mark.parametrize("name", ["js/crypto.js", "css/app.css", "img/flame.svg",
                                  "vendor/socket.io.min.js", "vendor/qrcode.mjs"])
def test_text_is_sent_gzipped_to_who_accepts_it_with_its_own_etag(server, name):
    data = (STATIC / name).read_bytes()
    packed = get(server, f"/static/{name}", **GZIP)
    body = raw_body(packed)
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == data and len(body) < len(data)
    assert int(packed.headers["Content-Length"]) == len(body)
    assert packed.headers["Vary"] == "Accept-Encoding"
    plain = get(server, f"/static/{name}")
    assert packed.headers["ETag"] != plain.headers["ETag"]  # two representations, two tags
    assert get(server, f"/static/{name}", **GZIP, **{"If-None-Match": packed.headers["ETag"]}
               ).status_code == 304
    # The same bytes every time: compressed once at start-up, not per request.
    assert raw_body(get(server, f"/static/{name}", **GZIP)) == body
    refused = get(server, f"/static/{name}", **{"Accept-Encoding": "gzip;q=0, br"})
    assert "Content-Encoding" not in refused.headers and raw_body(refused) == data


@pytest.mark.parametrize("header, accepted", [
    ("gzip", True), ("gzip, deflate, br, zstd", True), ("GZIP;q=0.5", True), ("*", True),
    ("x-gzip", True), ("", False), (None, False), ("identity", False), ("br", False),
    ("gzip;q=0", False), ("gzip;q=0.0, *", False), ("*;q=0", False), ("gzip;q=bogus", False),
])
def test_accept_encoding_is_parsed_with_its_weights(header, accepted):
    assert assets.accepts_gzip(header) is accepted


def test_a_versioned_url_is_cached_for_good_only_while_its_version_is_current(server):
    version = hashlib.sha256((STATIC / "css/app.css").read_bytes()).hexdigest()[:16]
    current = get(server, f"/static/css/app.css?v={version}")
    assert current.status_code == 200
    assert current.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    stale = get(server, "/static/css/app.css?v=0000000000000000")
    assert stale.headers["Cache-Control"] == "no-cache"  # a cached page's old URL: not for ever


def test_pages_and_api_answers_are_never_stored(server, pages):
    answers = {name: requests.get(server.url + path, timeout=5) for name, path in pages.items()}
    answers["created room"] = requests.post(server.url + "/api/rooms", json=room_request(60),
                                            timeout=5)
    answers["refused room"] = requests.post(server.url + "/api/rooms", json={}, timeout=5)
    answers["manifest"] = requests.get(server.url + "/.well-known/burnchat-manifest.json", timeout=5)
    answers["health"] = requests.get(server.url + "/healthz", timeout=5)
    answers["missing static file"] = get(server, "/static/js/none.js")
    answers["static traversal"] = get(server, "/static/../app.py")
    for name, response in answers.items():
        assert response.headers["Cache-Control"] == "no-store", name
        assert "ETag" not in response.headers, name
    assert answers["missing static file"].status_code == 404
    assert answers["static traversal"].status_code == 404


def test_healthz_says_ok_and_nothing_else(server):
    before = requests.get(server.url + "/healthz", timeout=5)
    server.create_room()
    after = requests.get(server.url + "/healthz", timeout=5)
    for response in (before, after):
        assert response.status_code == 200 and response.text == "ok\n"
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert {k: v for k, v in before.headers.items() if k != "Date"} == \
        {k: v for k, v in after.headers.items() if k != "Date"}
    assert requests.head(server.url + "/healthz", timeout=5).status_code == 200


def test_static_files_are_read_once_at_start_up_into_memory(tmp_path):
    (tmp_path / "js").mkdir()
    script = tmp_path / "js" / "a.js"
    script.write_text("export const a = 1;\n" * 50)
    table = assets.load(tmp_path)
    script.write_text("changed")  # the served copy is the one read at start-up
    assert table["js/a.js"].body == b"export const a = 1;\n" * 50
    assert gzip.decompress(table["js/a.js"].gzipped) == table["js/a.js"].body
    assert re.fullmatch(r"sha384-[A-Za-z0-9+/]{64}", table["js/a.js"].sri)
