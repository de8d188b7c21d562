"""Static files as a real site serves them: read once at start-up, hashed, gzipped, in memory.

Every file under static/ is read when the app is built and kept with its strong
ETag (SHA-256 of its bytes), its Subresource Integrity value (SHA-384) and, for
text, a gzip copy made then and there - never per request, and never written to
disk (the app writes no files). Answers:

* `/static/<file>`: `Cache-Control: no-cache` plus the ETag, so a returning
  browser revalidates and gets 304 without the body. ES modules import each
  other by relative path, so their URLs cannot carry a hash (that would need an
  import map, and the CSP forbids inline scripts).
* images (not code) get a day's freshness instead, so the icon is fetched once;
* `/static/<file>?v=<version>` with the file's current version: `public,
  max-age=31536000, immutable`. The templates emit such URLs (`static_url`)
  for top-level scripts and stylesheets; a stale version gets the plain policy.

Pure: no Flask import (the view in views.py turns an answer into a response).
"""

import base64
import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

VERSION_CHARS = 16  # hex of the SHA-256 in ?v=: 64 bits tell two versions of a file apart
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
# Images are not code: a day of staleness is harmless, and it lets the icon the page links
# and the one app.css draws (the same URL) be fetched once instead of twice.
IMAGE_FRESHNESS = "public, max-age=86400"
# Module scripts need a JavaScript MIME type; Python's table differs between versions.
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
         ".svg": "image/svg+xml", ".json": "application/json", ".md": "text/markdown"}
COMPRESSIBLE = ("text/", "image/svg+xml", "application/json")
_SKIPPED_PARTS = {"__pycache__", "node_modules"}  # never served, as in the release manifest


@dataclass(frozen=True)
class Asset:
    """One static file: its bytes, their gzip copy (or None), and what identifies them."""

    body: bytes
    gzipped: bytes | None
    content_type: str
    sha256: str
    sri: str

    @property
    def version(self):
        """What `?v=` carries for this content."""
        return self.sha256[:VERSION_CHARS]

    def etag(self, encoding):
        """The strong ETag of one representation: each encoding is its own."""
        return f'"{self.sha256}.gz"' if encoding == "gzip" else f'"{self.sha256}"'


def load(static_dir):
    """Read and prepare every file under `static_dir`, keyed by its path there."""
    static_dir = Path(static_dir)
    return {path.relative_to(static_dir).as_posix(): _prepare(path.name, path.read_bytes())
            for path in sorted(static_dir.rglob("*"))
            if path.is_file() and not _SKIPPED_PARTS & set(path.parts)}


def _prepare(name, body):
    """An Asset for one file's bytes."""
    suffix = Path(name).suffix.lower()
    content_type = TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    gzipped = None
    if content_type.startswith(COMPRESSIBLE):
        packed = gzip.compress(body, compresslevel=9, mtime=0)  # mtime=0: same bytes every start
        gzipped = packed if len(packed) < len(body) else None
        content_type += "; charset=utf-8"
    sri = "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()
    return Asset(body, gzipped, content_type, hashlib.sha256(body).hexdigest(), sri)


def accepts_gzip(header):
    """True when an Accept-Encoding header allows gzip (q=0 refuses it; `*` stands for it)."""
    weights = {}
    for item in (header or "").split(","):
        coding, *params = [part.strip() for part in item.split(";")]
        if not coding:
            continue
        weight = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        weights[coding.lower()] = weight
    return weights.get("gzip", weights.get("x-gzip", weights.get("*", 0.0))) > 0


def _tags(header):
    """The entity tags of an If-None-Match header (weak ones compare by their opaque part)."""
    return {tag.strip().removeprefix("W/") for tag in (header or "").split(",") if tag.strip()}


@dataclass(frozen=True)
class Answer:
    """What to send for one static request: status, headers and body."""

    status: int
    headers: dict
    body: bytes


def answer(asset, version, if_none_match, accept_encoding):
    """The answer to GET /static/<file>[?v=version] for `asset` and the request's headers."""
    encoding = "gzip" if asset.gzipped is not None and accepts_gzip(accept_encoding) else None
    etag = asset.etag(encoding)
    headers = {
        "Cache-Control": IMMUTABLE if version == asset.version else
        IMAGE_FRESHNESS if asset.content_type.startswith("image/") else REVALIDATE,
        "ETag": etag,
        "Vary": "Accept-Encoding",
    }
    tags = _tags(if_none_match)
    if etag in tags or "*" in tags:
        return Answer(304, headers, b"")
    headers["Content-Type"] = asset.content_type
    if encoding:
        headers["Content-Encoding"] = encoding
    return Answer(200, headers, asset.gzipped if encoding else asset.body)
