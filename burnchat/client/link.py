"""The share link `http(s)://HOST/r/ROOM#S` (docs/PROTOCOL.md §2), taken apart and checked."""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from . import crypto

_ROOM_PATH = re.compile(r"/r/([A-Za-z0-9_-]{22})/?\Z")


class BadLink(ValueError):
    """The text is not a Burn Chat room link with its secret."""


@dataclass(frozen=True)
class Link:
    """Where the server is, which room, and the secret that only the fragment carries."""

    base_url: str
    room_id: str
    secret: str

    def __repr__(self):
        return f"Link(base_url={self.base_url!r}, room_id={self.room_id!r}, secret=<hidden>)"


def parse_link(text):
    """Split and validate a share link; BadLink with a reason a person can act on."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadLink("a room link starts with http:// or https:// and a host name")
    match = _ROOM_PATH.match(parts.path)
    if not match or parts.query:
        raise BadLink("a room link looks like https://HOST/r/ROOM#SECRET")
    if not parts.fragment:
        raise BadLink("the link has no #secret part; copy the whole link")
    try:
        crypto.b64u_decode(match.group(1), crypto.ID_BYTES)
        crypto.b64u_decode(parts.fragment, crypto.ID_BYTES)
    except crypto.ProtocolError as exc:
        raise BadLink("the room ID or the #secret of the link is damaged") from exc
    base_url = f"{parts.scheme}://{parts.netloc.lower()}"
    return Link(base_url=base_url, room_id=match.group(1), secret=parts.fragment)
