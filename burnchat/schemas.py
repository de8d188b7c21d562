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
    """POST /api/rooms: how long the room lives, the PIN's salt and verifier (the PIN itself
    never comes here, PROTOCOL.md §8.1) and the hash of the link's join key."""
    ttl_seconds: Annotated[int, msgspec.Meta(ge=1, le=c.HARD_MAX_TTL_SECONDS)]
    pin_salt: Id
    pin_verifier: _b64u(c.HASH_CHARS)
    join_key_hash: _b64u(c.HASH_CHARS) | None = None


Version = Annotated[int, msgspec.Meta(ge=0, le=2**31)]  # checked against 2 by the courier


class Join(Schema):
    """`join`: a member's announcement (PROTOCOL.md §4) plus the room it joins."""
    v: Version
    room: Id
    member_id: Id
    ecdh_pub: PublicKey
    sig_pub: PublicKey
    enc_name: _b64u(c.ENC_NAME_CHARS)
    mac: _b64u(c.MAC_CHARS)
    join_key: _b64u(c.HASH_CHARS) | None = None
    resume_hash: _b64u(c.HASH_CHARS) | None = None  # SHA-256 of the member's resume secret

    def announcement(self):
        """The fields other members receive, exactly as sent."""
        return {"member_id": self.member_id, "ecdh_pub": self.ecdh_pub, "sig_pub": self.sig_pub,
                "enc_name": self.enc_name, "mac": self.mac}


class Resume(Schema):
    """`resume`: a new socket takes back an away member's seat with its resume secret.

    `heads`: for each other member, the (epoch, seq) of the last envelope it got from them.
    """
    room: Id
    member_id: Id
    proof: _b64u(c.ID_CHARS)
    heads: Annotated[list[tuple[Id, Epoch, Seq]],
                     msgspec.Meta(max_length=c.MAX_MEMBERS_PER_ROOM)] = []


class LeaveBeacon(Schema):
    """POST /api/leave: a closing page gives its seat up (its socket may not get the word out)."""
    room: Id
    member_id: Id
    proof: _b64u(c.ID_CHARS)


class KeyHeld(Schema):
    """`key_held`: the sender now holds the room key of this epoch."""
    epoch: Epoch


class KeyMissing(Schema):
    """`key_missing`: the sender still lacks the key of this epoch (PROTOCOL.md §5.5)."""
    epoch: Epoch


class KeyBlob(Schema, rename={"recipient": "to"}):
    """The epoch secret wrapped for one member (PROTOCOL.md §5.3)."""
    recipient: Id
    wrapped: _b64u(c.WRAPPED_KEY_CHARS)
    sig: Signature


_Roster = Annotated[list[Id], msgspec.Meta(min_length=1, max_length=c.MAX_MEMBERS_PER_ROOM)]
_LineMacs = Annotated[list[_b64u(c.LINE_MAC_CHARS)],
                      msgspec.Meta(min_length=1, max_length=c.MAX_MEMBERS_PER_ROOM)]


class KeyDeliver(Schema):
    """`key_deliver`: the creator's answer to a key_request - its roster and one blob each."""
    epoch: Epoch
    roster: _Roster
    line_macs: _LineMacs
    commit_sig: Signature
    blobs: Annotated[list[KeyBlob], msgspec.Meta(max_length=c.MAX_MEMBERS_PER_ROOM)]

    def __post_init__(self):
        if len(self.line_macs) != len(self.roster):
            raise ValueError("line_macs must have one entry per roster member")
        if self.roster != sorted(set(self.roster)):
            raise ValueError("roster must be sorted member IDs without repeats")


class Envelope(Schema):
    """`message`: an encrypted, signed, hash-chained chat message (PROTOCOL.md §6)."""
    v: Version
    epoch: Epoch
    sender: Id
    seq: Seq
    prev: _b64u(c.HASH_CHARS)
    iv: _b64u(c.IV_CHARS)
    ct: _b64u(c.CIPHERTEXT_CHARS[0], c.CIPHERTEXT_CHARS[-1])
    sig: Signature

    def __post_init__(self):
        if len(self.ct) not in c.CIPHERTEXT_CHARS:
            raise ValueError("ct must be a padded body of one of the size classes")

    def wire(self):
        """The envelope as relayed, field for field."""
        return {"v": self.v, "epoch": self.epoch, "sender": self.sender, "seq": self.seq,
                "prev": self.prev, "iv": self.iv, "ct": self.ct, "sig": self.sig}


# ---- files (PROTOCOL.md §6.7; the relay is filerelay.py) ----------------------------------------

_MAX_CHUNKS = c.file_chunk_count(c.HARD_MAX_FILE_BYTES)


class FileChunk(Schema):
    """`file_chunk`: one encrypted chunk of the sender's current file, in order."""
    transfer: Id
    index: Annotated[int, msgspec.Meta(ge=0, lt=_MAX_CHUNKS)]
    total: Annotated[int, msgspec.Meta(ge=1, le=_MAX_CHUNKS)]
    ct: _b64u(c.FILE_CHUNK_CT_CHARS[0], c.FILE_CHUNK_CT_CHARS[-1])

    def __post_init__(self):
        if self.index >= self.total:
            raise ValueError("index must be below total")
        if len(self.ct) not in c.FILE_CHUNK_CT_CHARS:
            raise ValueError("ct must be a chunk of one of the size classes")
        if self.index < self.total - 1 and len(self.ct) != c.FILE_CHUNK_CT_CHARS[-1]:
            raise ValueError("only the last chunk may be smaller than a full chunk")


class FileCancel(Schema):
    """`file_cancel`: the sender gives its current file up."""
    transfer: Id


class Empty(Schema):
    """Events that carry nothing (`leave`, `admin_burn`)."""


class AdminAuth(Schema):
    """`admin_auth`: claim admin rights for this connection with the PIN's proof (§8.1)."""
    room: Id
    proof: _b64u(c.HASH_CHARS)


class AdminKick(Schema):
    """`admin_kick`: remove one member; with `join_key_hash` the link changes too (PROTOCOL.md §5.6)."""
    member_id: Id
    join_key_hash: _b64u(c.HASH_CHARS) | None = None


class AdminRelink(Schema):
    """`admin_relink`: change the room's link; the hash of the new link's join key."""
    join_key_hash: _b64u(c.HASH_CHARS)


class Announce(Schema):
    """`announce`: a member's name and MAC again, under the new link after a relink (§5.6)."""
    enc_name: _b64u(c.ENC_NAME_CHARS)
    mac: _b64u(c.MAC_CHARS)


class AdminLock(Schema):
    """`admin_lock`: lock or unlock the room for newcomers."""
    locked: bool


class AdminExtend(Schema):
    """`admin_extend`: add 5 or 30 minutes."""
    seconds: Literal[300, 1800]


class InvalidPayload(Exception):
    """A payload that does not fit its schema; the message says which field and why."""


class OtherVersion(Exception):
    """A versioned payload of another protocol version: checked before anything else,
    so an old client is told to reload, not that some field has the wrong length."""


_VERSIONED = (Join, Envelope)


def parse(schema, data):
    """Validate `data` (already JSON-decoded) against `schema`; raise InvalidPayload."""
    if data is None and schema is Empty:
        data = {}
    if not isinstance(data, dict):
        raise InvalidPayload("The payload must be a JSON object.")
    version = data.get("v")
    if schema in _VERSIONED and type(version) is int and version != c.PROTOCOL_VERSION:
        raise OtherVersion(version)
    try:
        return msgspec.convert(data, schema, strict=True)
    except msgspec.ValidationError as error:
        raise InvalidPayload(str(error)) from None

