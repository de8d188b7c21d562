"""One declared schema per Socket.IO event and HTTP body (msgspec).

msgspec was chosen over pydantic: it is a single small compiled dependency,
strict by default (no silent coercion of "5" to 5), rejects unknown fields,
and validates far faster on the relay's hot path.
"""

from typing import Annotated, Literal

import msgspec

from . import config as c

_B64U = r"^[A-Za-z0-9_-]*\Z"  # \Z, not $: "$" would let a trailing newline through


def _b64u(min_chars, max_chars=None):
    """A base64url string (no padding) whose length is a valid encoding of bytes."""
    return Annotated[str, msgspec.Meta(
        pattern=_B64U, min_length=min_chars, max_length=max_chars or min_chars)]


Id = _b64u(c.ID_CHARS)
PublicKey = _b64u(c.PUBLIC_KEY_CHARS)
Signature = _b64u(c.SIGNATURE_CHARS)
Epoch = Annotated[int, msgspec.Meta(ge=1, le=2**31)]
Seq = Annotated[int, msgspec.Meta(ge=1, le=2**53 - 1)]  # the largest integer JavaScript keeps exact


class Schema(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """Base for every payload: unknown fields are an error, not ignored."""


class CreateRoom(Schema):
    """POST /api/rooms: how long the room lives, and the hash of the link's join key."""
    ttl_seconds: Annotated[int, msgspec.Meta(ge=1, le=c.HARD_MAX_TTL_SECONDS)]
    join_key_hash: _b64u(c.HASH_CHARS) | None = None


class Join(Schema):
    """`join`: a member's announcement (PROTOCOL.md §4) plus the room it joins."""
    v: Literal[1]
    room: Id
    member_id: Id
    ecdh_pub: PublicKey
    sig_pub: PublicKey
    enc_name: _b64u(c.MIN_ENC_NAME_CHARS, c.MAX_ENC_NAME_CHARS)
    mac: _b64u(c.MAC_CHARS)
    join_key: _b64u(c.HASH_CHARS) | None = None

    def __post_init__(self):
        _check_lengths(self.enc_name)

    def announcement(self):
        """The fields other members receive, exactly as sent."""
        return {"member_id": self.member_id, "ecdh_pub": self.ecdh_pub, "sig_pub": self.sig_pub,
                "enc_name": self.enc_name, "mac": self.mac}


class KeyHeld(Schema):
    """`key_held`: the sender now holds the room key of this epoch."""
    epoch: Epoch


class KeyBlob(Schema, rename={"sender": "from", "recipient": "to"}):
    """A room key wrapped for one member (PROTOCOL.md §5)."""
    epoch: Epoch
    sender: Id
    recipient: Id
    wrapped: _b64u(c.WRAPPED_KEY_CHARS)
    sig: Signature


class KeyDeliver(Schema):
    """`key_deliver`: the answer to a key_request."""
    epoch: Epoch
    blobs: Annotated[list[KeyBlob], msgspec.Meta(max_length=c.MAX_MEMBERS_PER_ROOM)]


class Envelope(Schema):
    """`message`: an encrypted, signed chat message (PROTOCOL.md §6)."""
    v: Literal[1]
    epoch: Epoch
    sender: Id
    seq: Seq
    iv: _b64u(c.IV_CHARS)
    ct: _b64u(c.MIN_CIPHERTEXT_CHARS, c.MAX_CIPHERTEXT_CHARS)
    sig: Signature

    def __post_init__(self):
        _check_lengths(self.ct)


class Empty(Schema):
    """Events that carry nothing (`leave`, `admin_burn`)."""


class AdminAuth(Schema):
    """`admin_auth`: claim admin rights for this connection."""
    room: Id
    pin: Annotated[str, msgspec.Meta(min_length=1, max_length=16)]


class AdminKick(Schema):
    """`admin_kick`: remove one member."""
    member_id: Id


class AdminLock(Schema):
    """`admin_lock`: lock or unlock the room for newcomers."""
    locked: bool


class AdminExtend(Schema):
    """`admin_extend`: add 5 or 30 minutes."""
    seconds: Literal[300, 1800]


class InvalidPayload(Exception):
    """A payload that does not fit its schema; the message says which field and why."""


def parse(schema, data):
    """Validate `data` (already JSON-decoded) against `schema`; raise InvalidPayload."""
    if data is None and schema is Empty:
        data = {}
    if not isinstance(data, dict):
        raise InvalidPayload("The payload must be a JSON object.")
    try:
        return msgspec.convert(data, schema, strict=True)
    except msgspec.ValidationError as error:
        raise InvalidPayload(str(error)) from None


def _check_lengths(*texts):
    """Refuse base64url text of a length no byte string encodes to (1 mod 4)."""
    for text in texts:
        if len(text) % 4 == 1:
            raise ValueError("base64url text of impossible length")
