"""Burn Chat protocol v2 primitives (docs/PROTOCOL.md §1-§4), mirroring static/js/crypto.js.

Stateless functions over the `cryptography` library: encodings, HKDF/HMAC,
low-s signatures, padding, identities and announcements. Epochs live in
epoch.py, sending chains in ratchet.py, envelopes in envelope.py. Every check
that fails raises ProtocolError with a stable code shared with the browser.
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
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PROTOCOL_VERSION = 2
MAX_TEXT_BYTES = 4096
MAX_NAME_CHARS = 32
NAME_PAD_BYTES = 132  # 128 UTF-8 bytes at most, plus room for the 0x80 marker (§4)

ID_BYTES = 16
IV_BYTES = 12
TAG_BYTES = 16
MAC_BYTES = 32
KEY_BYTES = 32
HASH_BYTES = 32
POINT_BYTES = 65
SIGNATURE_BYTES = 64
ENC_NAME_BYTES = IV_BYTES + NAME_PAD_BYTES + TAG_BYTES
# JSON numbers above this lose precision in JavaScript, so neither side uses them.
MAX_SAFE_INTEGER = 2**53 - 1
# The order n of P-256; a signature's s must be at most n/2 (§1).
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551

LABEL_ANNOUNCE_MAC_KEY = "burnchat/v2/announce-mac"
LABEL_NAMES_KEY = "burnchat/v2/names"
LABEL_JOIN_KEY = "burnchat/v2/join"
LABEL_NAME = "burnchat/v2/name"
LABEL_ANNOUNCE = "burnchat/v2/announce"
LABEL_FPR = "burnchat/v2/fpr"

_B64U_TEXT = re.compile(r"[A-Za-z0-9_-]*\Z")
# What JavaScript's String.prototype.trim() removes (WhiteSpace + LineTerminator),
# so a name trims to the same string in both clients.
_JS_TRIM_CHARS = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


class ProtocolError(Exception):
    """A protocol check failed; `code` is stable and shared with crypto.js (§10)."""

    def __init__(self, code, message="", detail=None):
        super().__init__(message or code)
        self.code = code
        self.message = message or code
        self.detail = detail  # roster_mismatch: {"unseen", "left_out", "differs"}


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
    """A member whose announcement was accepted (MAC verified, name valid), or self."""

    member_id: str
    name: str
    ecdh_pub: str
    sig_pub: str
    ecdh_key: ec.EllipticCurvePublicKey
    sig_key: ec.EllipticCurvePublicKey
    fingerprint: str


# --- encodings (§1) --------------------------------------------------------


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


def utf8(text):
    """UTF-8 bytes, refusing lone surrogates instead of guessing a replacement."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ProtocolError("bad_encoding", "text is not valid Unicode") from exc


def utf8_length(text):
    """Number of UTF-8 bytes of a text, the unit of the message size limit."""
    return len(utf8(text))


def label(*parts):
    """Join label parts with '|' (§1) and encode them."""
    return utf8("|".join(str(part) for part in parts))


def check_int(value, name, minimum=1):
    """Wire integers: JSON numbers, never booleans, in JavaScript's safe range."""
    if type(value) is not int or not minimum <= value <= MAX_SAFE_INTEGER:
        raise ProtocolError("bad_encoding", f"{name} is not a valid integer")
    return value


def check_str(value, name):
    """Wire strings must be strings before anything else looks at them."""
    if not isinstance(value, str):
        raise ProtocolError("bad_encoding", f"{name} is not a string")
    return value


def check_id(value, name):
    """A member ID on the wire: 16 bytes of b64u (22 characters)."""
    b64u_decode(check_str(value, name), ID_BYTES)
    return value


def pad(data, length):
    """ISO/IEC 7816-4 padding of `data` to exactly `length` bytes (§1)."""
    if len(data) >= length:
        raise ProtocolError("too_long", f"{len(data)} bytes do not fit in {length}")
    return bytes(data) + b"\x80" + bytes(length - len(data) - 1)


def unpad(data):
    """Strip trailing zero bytes and then exactly one 0x80; bad_body when there is none."""
    stripped = bytes(data).rstrip(b"\x00")
    if not stripped.endswith(b"\x80"):
        raise ProtocolError("bad_body", "padding is not valid")
    return stripped[:-1]


# --- hashing and keys (§3) --------------------------------------------------


def hkdf(ikm, salt, info, length=KEY_BYTES):
    """HKDF-SHA256 with UTF-8 salt and info (§1); bytes salt/info are used as they are."""
    salt = utf8(salt) if isinstance(salt, str) else salt
    info = utf8(info) if isinstance(info, str) else info
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def hmac_sha256(key, data):
    """HMAC-SHA256 (§1)."""
    return hmac.new(key, data, hashlib.sha256).digest()


def sha256(data):
    """SHA-256 (§1)."""
    return hashlib.sha256(data).digest()


def derive_link_keys(secret, room_id):
    """Announcement MAC key and names key from the link secret S (§3)."""
    ikm = b64u_decode(check_str(secret, "secret"), ID_BYTES)
    salt = check_str(room_id, "room")
    return LinkKeys(mac_key=hkdf(ikm, salt, LABEL_ANNOUNCE_MAC_KEY), names_key=hkdf(ikm, salt, LABEL_NAMES_KEY))


def derive_join_key(secret):
    """(join key, its hash), both b64u: proves to the server that a joiner has the link (§3).

    The salt is empty because the creator registers the hash before the room ID exists.
    """
    ikm = b64u_decode(check_str(secret, "secret"), ID_BYTES)
    join_key = hkdf(ikm, b"", LABEL_JOIN_KEY)
    return b64u_encode(join_key), b64u_encode(sha256(join_key))


def encode_public_key(public_key):
    """Uncompressed P-256 point 0x04||X||Y as b64u (87 chars)."""
    return b64u_encode(public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))


def decode_public_key(text):
    """A P-256 public key from its uncompressed b64u point; anything else is bad_key."""
    data = b64u_decode(check_str(text, "public key"), POINT_BYTES)
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


def self_member(member_id, name, identity):
    """This client as a roster entry, shaped like the Members it accepts."""
    return Member(
        member_id=member_id,
        name=name,
        ecdh_pub=identity.ecdh_pub,
        sig_pub=identity.sig_pub,
        ecdh_key=identity.ecdh.public_key(),
        sig_key=identity.sig.public_key(),
        fingerprint=fingerprint(identity.ecdh_pub, identity.sig_pub),
    )


# --- signatures (§1: P1363 r||s, low-s only) --------------------------------


def sign(private_key, data):
    """ECDSA-P256-SHA256 as 64-byte r||s with s normalized to the low half (§1)."""
    r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(hashes.SHA256())))
    if s > P256_ORDER // 2:
        s = P256_ORDER - s  # (r, n-s) verifies too; only the low one is valid on the wire
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify(public_key, signature_text, data):
    """Check a b64u r||s signature: low-s, in range, valid; bad_sig on any failure."""
    raw = b64u_decode(check_str(signature_text, "sig"))
    if len(raw) != SIGNATURE_BYTES:
        raise ProtocolError("bad_sig", "a signature is 64 bytes")
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    if not (0 < r < P256_ORDER and 0 < s <= P256_ORDER // 2):
        raise ProtocolError("bad_sig", "signature is out of range or not low-s")
    try:
        public_key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise ProtocolError("bad_sig", "signature does not verify") from exc


# --- names and announcements (§4) ------------------------------------------


def validate_name(raw):
    """Trimmed display name (1-32 code points, no control characters or lone surrogates) or bad_name."""
    if not isinstance(raw, str):
        raise ProtocolError("bad_name", "a name must be text")
    name = raw.strip(_JS_TRIM_CHARS)
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        raise ProtocolError("bad_name", f"a name has 1 to {MAX_NAME_CHARS} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in name):
        raise ProtocolError("bad_name", "a name cannot contain control characters")
    return name


def name_for_comparison(name):
    """The form under which duplicate names are compared (§4): NFKC, format characters (Cf) removed."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", name) if unicodedata.category(ch) != "Cf")


def name_aad(room_id, member_id):
    """AES-GCM associated data binding an encrypted name to its room and member."""
    return label(LABEL_NAME, room_id, member_id)


def announce_mac_input(room_id, member_id, ecdh_pub, sig_pub, enc_name):
    """The exact bytes the announcement MAC covers."""
    return label(LABEL_ANNOUNCE, room_id, member_id, ecdh_pub, sig_pub, enc_name)


def seal_announcement(link_keys, room_id, member_id, identity, name, iv=None):
    """Announcement dict with the padded encrypted name and its MAC; `iv` only for test vectors."""
    name = validate_name(name)
    iv = secrets.token_bytes(IV_BYTES) if iv is None else iv
    padded = pad(utf8(name), NAME_PAD_BYTES)
    enc_name = b64u_encode(iv + AESGCM(link_keys.names_key).encrypt(iv, padded, name_aad(room_id, member_id)))
    mac_input = announce_mac_input(room_id, member_id, identity.ecdh_pub, identity.sig_pub, enc_name)
    return {
        "member_id": member_id,
        "ecdh_pub": identity.ecdh_pub,
        "sig_pub": identity.sig_pub,
        "enc_name": enc_name,
        "mac": b64u_encode(hmac_sha256(link_keys.mac_key, mac_input)),
    }


def open_announcement(link_keys, room_id, announcement):
    """Verify the MAC, decrypt, unpad and validate the name; a Member or ProtocolError."""
    if not isinstance(announcement, dict):
        raise ProtocolError("bad_encoding", "announcement is not an object")
    fields = {k: check_str(announcement.get(k), k) for k in ("member_id", "ecdh_pub", "sig_pub", "enc_name", "mac")}
    check_id(fields["member_id"], "member_id")
    b64u_decode(fields["ecdh_pub"], POINT_BYTES)
    b64u_decode(fields["sig_pub"], POINT_BYTES)
    sealed_name = b64u_decode(fields["enc_name"], ENC_NAME_BYTES)
    mac_input = announce_mac_input(
        room_id, fields["member_id"], fields["ecdh_pub"], fields["sig_pub"], fields["enc_name"]
    )
    expected = hmac_sha256(link_keys.mac_key, mac_input)
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
    """Decrypt an announced name (iv || ct), unpad and validate it; bad_name on any failure."""
    aad = name_aad(room_id, member_id)
    try:
        padded = AESGCM(link_keys.names_key).decrypt(sealed_name[:IV_BYTES], sealed_name[IV_BYTES:], aad)
        name = unpad(padded).decode("utf-8")
    except (InvalidTag, UnicodeDecodeError, ProtocolError) as exc:
        raise ProtocolError("bad_name", "name does not decrypt") from exc
    return validate_name(name)


def fingerprint(ecdh_pub, sig_pub):
    """First 8 bytes of SHA-256 over both public keys, as '1a2b 3c4d 5e6f 7a8b' (§4)."""
    digest = sha256(label(LABEL_FPR, ecdh_pub, sig_pub)).hex()[:16]
    return " ".join(digest[i : i + 4] for i in range(0, 16, 4))


# --- the admin PIN (§8.1): made by the creator's client, never sent ------------

PIN_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols, no 0/O or 1/I: 8 carry 40 bits
PIN_LENGTH = 8
PIN_ITERATIONS = 600_000  # PBKDF2-HMAC-SHA256, OWASP's figure
_PIN_SHAPE = re.compile(r"[2-9A-HJ-NP-Z]{8}\Z")


def normalize_pin(text):
    """The PIN as every client reads it: any case, dashes and whitespace dropped (as crypto.js)."""
    return "".join(ch for ch in text.upper() if ch != "-" and not ch.isspace())


def pin_shaped(text):
    """True when `text` can be a PIN at all (a typo must not cost one of the few attempts)."""
    return bool(_PIN_SHAPE.match(normalize_pin(text)))


def new_pin():
    """A fresh random PIN, formatted XXXX-XXXX for people to read."""
    raw = "".join(secrets.choice(PIN_ALPHABET) for _ in range(PIN_LENGTH))
    return f"{raw[:4]}-{raw[4:]}"


def pin_proof(pin, salt):
    """The PIN's proof under the room's salt (b64u): what `admin_auth` sends instead of the PIN."""
    if not pin_shaped(pin):
        raise ProtocolError("bad_pin", "A PIN has 8 letters and digits, like ABCD-2345.")
    return b64u_encode(hashlib.pbkdf2_hmac("sha256", normalize_pin(pin).encode(),
                                           b64u_decode(salt, ID_BYTES), PIN_ITERATIONS))


def pin_verifier(proof):
    """What the server keeps: SHA-256 of the proof (b64u)."""
    return b64u_encode(hashlib.sha256(b64u_decode(proof, 32)).digest())


def new_pin_record():
    """A new room's PIN: {pin, salt, proof, verifier}; POST /api/rooms sends salt and verifier."""
    pin, salt = new_pin(), random_id()
    proof = pin_proof(pin, salt)
    return {"pin": pin, "salt": salt, "proof": proof, "verifier": pin_verifier(proof)}
