"""Burn Chat protocol v1 primitives (docs/PROTOCOL.md), mirroring static/js/crypto.js.

Stateless functions over the `cryptography` library. Every check that fails
raises ProtocolError with a stable code shared with the browser module.
"""

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PROTOCOL_VERSION = 1
MAX_PLAINTEXT_BYTES = 4096
MAX_NAME_CHARS = 32

ID_BYTES = 16
IV_BYTES = 12
TAG_BYTES = 16
MAC_BYTES = 32
KEY_BYTES = 32
POINT_BYTES = 65
SIGNATURE_BYTES = 64
WRAPPED_KEY_BYTES = 40
# JSON numbers above this lose precision in JavaScript, so neither side uses them.
MAX_SAFE_INTEGER = 2**53 - 1

LABEL_ANNOUNCE_MAC_KEY = "burnchat/v1/announce-mac"
LABEL_NAMES_KEY = "burnchat/v1/names"
LABEL_JOIN_KEY = "burnchat/v1/join"
LABEL_WRAP = "burnchat/v1/wrap"
LABEL_NAME = "burnchat/v1/name"
LABEL_ANNOUNCE = "burnchat/v1/announce"
LABEL_KEY = "burnchat/v1/key"
LABEL_MSG = "burnchat/v1/msg"
LABEL_SIG = "burnchat/v1/sig"
LABEL_FPR = "burnchat/v1/fpr"
LABEL_SAFETY = "burnchat/v1/safety"

_B64U_TEXT = re.compile(r"[A-Za-z0-9_-]*\Z")
# What JavaScript's String.prototype.trim() removes (WhiteSpace + LineTerminator),
# so a name trims to the same string in both clients.
_JS_TRIM_CHARS = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


class ProtocolError(Exception):
    """A protocol check failed; `code` is stable and shared with crypto.js."""

    def __init__(self, code, message=""):
        super().__init__(message or code)
        self.code = code
        self.message = message or code


@dataclass(frozen=True)
class LinkKeys:
    """The two keys every holder of the link secret derives (§3)."""

    mac_key: bytes
    names_key: bytes

    def __repr__(self):
        return "LinkKeys(<secret>)"


@dataclass(frozen=True)
class Identity:
    """One member's key pairs for this run: ECDH for wrapping, ECDSA for signing."""

    ecdh: ec.EllipticCurvePrivateKey
    sig: ec.EllipticCurvePrivateKey
    ecdh_pub: str
    sig_pub: str

    def __repr__(self):
        return f"Identity(ecdh_pub={self.ecdh_pub!r}, sig_pub={self.sig_pub!r})"


@dataclass(frozen=True)
class Member:
    """A member whose announcement was accepted (MAC verified, name valid)."""

    member_id: str
    name: str
    ecdh_pub: str
    sig_pub: str
    ecdh_key: ec.EllipticCurvePublicKey
    sig_key: ec.EllipticCurvePublicKey
    fingerprint: str


# --- encodings -------------------------------------------------------------


def b64u_encode(data):
    """base64url without padding (§1)."""
    return base64.urlsafe_b64encode(bytes(data)).rstrip(b"=").decode("ascii")


def b64u_decode(text, length=None):
    """Strict base64url: no padding, no +,/ or other characters, canonical bits only."""
    if not isinstance(text, str) or not _B64U_TEXT.match(text) or len(text) % 4 == 1:
        raise ProtocolError("bad_encoding", "not base64url text")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # Unused trailing bits must be zero so each value has exactly one encoding.
    if b64u_encode(data) != text:
        raise ProtocolError("bad_encoding", "non-canonical base64url")
    if length is not None and len(data) != length:
        raise ProtocolError("bad_encoding", f"expected {length} bytes, got {len(data)}")
    return data


def random_id():
    """16 random bytes as b64u: link secrets and member IDs (§2)."""
    return b64u_encode(secrets.token_bytes(ID_BYTES))


def utf8_length(text):
    """Number of UTF-8 bytes of a text, the unit of the message size limit."""
    return len(_utf8(text))


def _utf8(text):
    """UTF-8 bytes, refusing lone surrogates instead of guessing a replacement."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ProtocolError("bad_encoding", "text is not valid Unicode") from exc


def _label(*parts):
    """Join label parts with '|' (§1) and encode them."""
    return "|".join(str(part) for part in parts).encode("utf-8")


def _check_int(value, name, minimum=1):
    """Wire integers: JSON numbers, never booleans, in JavaScript's safe range."""
    if type(value) is not int or not minimum <= value <= MAX_SAFE_INTEGER:
        raise ProtocolError("bad_encoding", f"{name} is not a valid integer")
    return value


def _check_str(value, name):
    """Wire strings must be strings before anything else looks at them."""
    if not isinstance(value, str):
        raise ProtocolError("bad_encoding", f"{name} is not a string")
    return value


def validate_name(raw):
    """Trimmed display name (1-32 code points, no control characters) or bad_name."""
    if not isinstance(raw, str):
        raise ProtocolError("bad_name", "a name must be text")
    name = raw.strip(_JS_TRIM_CHARS)
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        raise ProtocolError("bad_name", f"a name has 1 to {MAX_NAME_CHARS} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        raise ProtocolError("bad_name", "a name cannot contain control characters")
    return name


# --- keys ------------------------------------------------------------------


def _hkdf(ikm, salt, info):
    """HKDF-SHA256 to 32 bytes."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=info).derive(ikm)


def derive_link_keys(secret, room_id):
    """Announcement MAC key and names key from the link secret S (§3)."""
    ikm = b64u_decode(_check_str(secret, "secret"), ID_BYTES)
    salt = _utf8(_check_str(room_id, "room"))
    mac_key = _hkdf(ikm, salt, LABEL_ANNOUNCE_MAC_KEY.encode())
    names_key = _hkdf(ikm, salt, LABEL_NAMES_KEY.encode())
    return LinkKeys(mac_key=mac_key, names_key=names_key)


def derive_join_key(secret):
    """(join key, its hash), both b64u: proves to the server that a joiner has the link (§3).

    The salt is empty because the creator registers the hash before the room ID exists.
    """
    ikm = b64u_decode(_check_str(secret, "secret"), ID_BYTES)
    join_key = _hkdf(ikm, b"", LABEL_JOIN_KEY.encode())
    return b64u_encode(join_key), b64u_encode(hashlib.sha256(join_key).digest())


def name_for_comparison(name):
    """The form under which duplicate names are compared (§4): NFKC, format characters (Cf) removed."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", name) if unicodedata.category(ch) != "Cf")


def encode_public_key(public_key):
    """Uncompressed P-256 point 0x04||X||Y as b64u (87 chars)."""
    return b64u_encode(public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))


def decode_public_key(text):
    """A P-256 public key from its uncompressed b64u point; anything else is bad_key."""
    data = b64u_decode(_check_str(text, "public key"), POINT_BYTES)
    if data[0] != 0x04:
        raise ProtocolError("bad_key", "public key is not an uncompressed point")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data)
    except ValueError as exc:
        raise ProtocolError("bad_key", "public key is not a P-256 point") from exc


def identity_from_private_keys(ecdh_private, sig_private):
    """Wrap two P-256 private keys as an Identity (also used for fixed test vectors)."""
    return Identity(
        ecdh=ecdh_private,
        sig=sig_private,
        ecdh_pub=encode_public_key(ecdh_private.public_key()),
        sig_pub=encode_public_key(sig_private.public_key()),
    )


def generate_identity():
    """Fresh ECDH and ECDSA P-256 key pairs for one run of the client."""
    return identity_from_private_keys(
        ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    )


def new_room_key():
    """32 random bytes: the AES-256-GCM key of a new epoch."""
    return secrets.token_bytes(KEY_BYTES)


# --- signatures ------------------------------------------------------------


def sign(private_key, data):
    """ECDSA-P256-SHA256 as 64-byte r||s (WebCrypto's P1363 form)."""
    r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify(public_key, signature_text, data):
    """Check a b64u r||s signature; bad_sig on any failure."""
    raw = b64u_decode(_check_str(signature_text, "sig"), SIGNATURE_BYTES)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public_key.verify(der, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise ProtocolError("bad_sig", "signature does not verify") from exc


# --- announcements (§4) ----------------------------------------------------


def name_aad(room_id, member_id):
    """AES-GCM associated data binding an encrypted name to its room and member."""
    return _label(LABEL_NAME, room_id, member_id)


def announce_mac_input(room_id, member_id, ecdh_pub, sig_pub, enc_name):
    """The exact bytes the announcement MAC covers."""
    return _label(LABEL_ANNOUNCE, room_id, member_id, ecdh_pub, sig_pub, enc_name)


def seal_announcement(link_keys, room_id, member_id, identity, name, iv=None):
    """Announcement dict with the encrypted name and its MAC; `iv` only for test vectors."""
    name = validate_name(name)
    iv = secrets.token_bytes(IV_BYTES) if iv is None else iv
    aad = name_aad(room_id, member_id)
    enc_name = b64u_encode(iv + AESGCM(link_keys.names_key).encrypt(iv, _utf8(name), aad))
    mac_input = announce_mac_input(room_id, member_id, identity.ecdh_pub, identity.sig_pub, enc_name)
    mac = hmac.new(link_keys.mac_key, mac_input, hashlib.sha256).digest()
    return {
        "member_id": member_id,
        "ecdh_pub": identity.ecdh_pub,
        "sig_pub": identity.sig_pub,
        "enc_name": enc_name,
        "mac": b64u_encode(mac),
    }


def open_announcement(link_keys, room_id, announcement):
    """Verify the MAC, decrypt and validate the name; a Member or ProtocolError."""
    if not isinstance(announcement, dict):
        raise ProtocolError("bad_encoding", "announcement is not an object")
    fields = {k: _check_str(announcement.get(k), k) for k in ("member_id", "ecdh_pub", "sig_pub", "enc_name", "mac")}
    b64u_decode(fields["member_id"], ID_BYTES)
    b64u_decode(fields["ecdh_pub"], POINT_BYTES)
    b64u_decode(fields["sig_pub"], POINT_BYTES)
    sealed_name = b64u_decode(fields["enc_name"])
    if not IV_BYTES + TAG_BYTES + 1 <= len(sealed_name) <= IV_BYTES + TAG_BYTES + 4 * MAX_NAME_CHARS:
        raise ProtocolError("bad_encoding", "encrypted name has an impossible length")
    mac_input = announce_mac_input(
        room_id, fields["member_id"], fields["ecdh_pub"], fields["sig_pub"], fields["enc_name"]
    )
    expected = hmac.new(link_keys.mac_key, mac_input, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, b64u_decode(fields["mac"], MAC_BYTES)):
        raise ProtocolError("bad_mac", "announcement MAC does not verify")
    name = _open_name(link_keys, room_id, fields["member_id"], sealed_name)
    return Member(
        member_id=fields["member_id"],
        name=name,
        ecdh_pub=fields["ecdh_pub"],
        sig_pub=fields["sig_pub"],
        ecdh_key=decode_public_key(fields["ecdh_pub"]),
        sig_key=decode_public_key(fields["sig_pub"]),
        fingerprint=fingerprint(fields["ecdh_pub"], fields["sig_pub"]),
    )


def _open_name(link_keys, room_id, member_id, sealed_name):
    """Decrypt an announced name (iv || ct) and validate it; bad_name on any failure."""
    aad = name_aad(room_id, member_id)
    try:
        plain = AESGCM(link_keys.names_key).decrypt(sealed_name[:IV_BYTES], sealed_name[IV_BYTES:], aad)
        name = plain.decode("utf-8")
    except (InvalidTag, UnicodeDecodeError) as exc:
        raise ProtocolError("bad_name", "name does not decrypt") from exc
    return validate_name(name)


# --- room keys (§5) --------------------------------------------------------


def wrap_info(epoch, from_id, to_id):
    """HKDF info of the wrapping key from A to B: the direction is part of the label."""
    return _label(LABEL_WRAP, epoch, from_id, to_id)


def wrapping_key(room_id, epoch, own_private, peer_public, from_id, to_id):
    """AES-KW key from A to B for one epoch: ECDH shared secret, then HKDF."""
    shared = own_private.exchange(ec.ECDH(), peer_public)
    return _hkdf(shared, _utf8(room_id), wrap_info(epoch, from_id, to_id))


def key_sig_input(room_id, epoch, from_id, to_id, wrapped):
    """The exact bytes a key blob signature covers."""
    return _label(LABEL_KEY, room_id, epoch, from_id, to_id, wrapped)


def wrap_room_key(room_id, epoch, room_key, identity, from_id, to):
    """Key blob carrying `room_key` to member `to`, signed by `identity`."""
    _check_int(epoch, "epoch")
    kek = wrapping_key(room_id, epoch, identity.ecdh, to.ecdh_key, from_id, to.member_id)
    wrapped = b64u_encode(aes_key_wrap(kek, room_key))
    sig = sign(identity.sig, key_sig_input(room_id, epoch, from_id, to.member_id, wrapped))
    return {"epoch": epoch, "from": from_id, "to": to.member_id, "wrapped": wrapped, "sig": b64u_encode(sig)}


def open_room_key(room_id, blob, identity, my_id, sender):
    """Check a key blob addressed to `my_id` from accepted `sender`; the raw room key."""
    if not isinstance(blob, dict):
        raise ProtocolError("bad_encoding", "key blob is not an object")
    epoch = _check_int(blob.get("epoch"), "epoch")
    from_id, to_id = blob.get("from"), blob.get("to")
    wrapped, sig = _check_str(blob.get("wrapped"), "wrapped"), _check_str(blob.get("sig"), "sig")
    wrapped_bytes = b64u_decode(wrapped, WRAPPED_KEY_BYTES)
    if to_id != my_id:
        raise ProtocolError("wrong_recipient", "key blob is addressed to someone else")
    if from_id != sender.member_id:
        raise ProtocolError("not_member", "key blob is not from the expected member")
    verify(sender.sig_key, sig, key_sig_input(room_id, epoch, from_id, to_id, wrapped))
    kek = wrapping_key(room_id, epoch, identity.ecdh, sender.ecdh_key, from_id, to_id)
    try:
        return aes_key_unwrap(kek, wrapped_bytes)
    except InvalidUnwrap as exc:
        raise ProtocolError("bad_key", "room key does not unwrap") from exc


# --- messages (§6) ---------------------------------------------------------


def message_aad(room_id, epoch, sender_id, seq):
    """AES-GCM associated data binding a message to room, epoch, sender and seq."""
    return _label(LABEL_MSG, room_id, epoch, sender_id, seq)


def message_sig_input(room_id, epoch, sender_id, seq, iv, ct):
    """The exact bytes a message signature covers."""
    return _label(LABEL_SIG, room_id, epoch, sender_id, seq, iv, ct)


def check_plaintext(text):
    """UTF-8 bytes of a message text, refusing empty or over-long text (never truncating)."""
    if not isinstance(text, str):
        raise ProtocolError("bad_encoding", "a message must be text")
    data = _utf8(text)
    if not data:
        raise ProtocolError("empty", "a message cannot be empty")
    if len(data) > MAX_PLAINTEXT_BYTES:
        raise ProtocolError("too_long", f"{len(data)} bytes is over the {MAX_PLAINTEXT_BYTES}-byte limit")
    return data


def seal_message(room_id, epoch, room_key, identity, sender, seq, text, iv=None):
    """Envelope for `text` under the room key of `epoch`; `iv` only for test vectors."""
    plain = check_plaintext(text)
    _check_int(epoch, "epoch")
    _check_int(seq, "seq")
    iv_bytes = secrets.token_bytes(IV_BYTES) if iv is None else iv
    ct = b64u_encode(AESGCM(room_key).encrypt(iv_bytes, plain, message_aad(room_id, epoch, sender, seq)))
    iv_text = b64u_encode(iv_bytes)
    sig = sign(identity.sig, message_sig_input(room_id, epoch, sender, seq, iv_text, ct))
    return {
        "v": PROTOCOL_VERSION, "epoch": epoch, "sender": sender, "seq": seq,
        "iv": iv_text, "ct": ct, "sig": b64u_encode(sig),
    }


def check_envelope(envelope):
    """Shape of an envelope (version, integers, field sizes) before any crypto."""
    if not isinstance(envelope, dict):
        raise ProtocolError("bad_encoding", "envelope is not an object")
    if type(envelope.get("v")) is not int or envelope["v"] != PROTOCOL_VERSION:
        raise ProtocolError("bad_version", "unknown protocol version")
    _check_int(envelope.get("epoch"), "epoch")
    _check_int(envelope.get("seq"), "seq")
    b64u_decode(_check_str(envelope.get("sender"), "sender"), ID_BYTES)
    b64u_decode(_check_str(envelope.get("iv"), "iv"), IV_BYTES)
    ct = b64u_decode(_check_str(envelope.get("ct"), "ct"))
    if not TAG_BYTES + 1 <= len(ct) <= TAG_BYTES + MAX_PLAINTEXT_BYTES:
        raise ProtocolError("bad_encoding", "ciphertext has an impossible length")
    b64u_decode(_check_str(envelope.get("sig"), "sig"), SIGNATURE_BYTES)
    return envelope


def open_message(room_id, envelope, room_key, sender):
    """Verify the sender's signature and decrypt; the message text."""
    env = check_envelope(envelope)
    epoch, sender_id, seq = env["epoch"], env["sender"], env["seq"]
    verify(sender.sig_key, env["sig"], message_sig_input(room_id, epoch, sender_id, seq, env["iv"], env["ct"]))
    aad = message_aad(room_id, epoch, sender_id, seq)
    try:
        plain = AESGCM(room_key).decrypt(b64u_decode(env["iv"]), b64u_decode(env["ct"]), aad)
        return plain.decode("utf-8")
    except (InvalidTag, UnicodeDecodeError) as exc:
        raise ProtocolError("decrypt_failed", "message does not decrypt") from exc


# --- what people compare (§4) ----------------------------------------------


def fingerprint(ecdh_pub, sig_pub):
    """First 8 bytes of SHA-256 over both public keys, as '1a2b 3c4d 5e6f 7a8b'."""
    digest = hashlib.sha256(_label(LABEL_FPR, ecdh_pub, sig_pub)).hexdigest()[:16]
    return " ".join(digest[i : i + 4] for i in range(0, 16, 4))


def safety_code(room_id, members):
    """20-digit code over every accepted member's keys; equal codes mean equal views.

    `members` are objects with member_id, ecdh_pub and sig_pub (Member does).
    """
    lines = sorted(
        (f"{m.member_id},{m.ecdh_pub},{m.sig_pub}" for m in members),
        key=lambda line: line.encode("utf-8"),
    )
    digest = hashlib.sha256(_utf8(f"{LABEL_SAFETY}|{room_id}|" + "|".join(lines))).digest()
    groups = (int.from_bytes(digest[4 * i : 4 * i + 4], "big") % 100000 for i in range(4))
    return " ".join(f"{group:05d}" for group in groups)
