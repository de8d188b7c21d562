"""Message envelopes and bodies (docs/PROTOCOL.md §6.1, §6.3), mirroring sealMessage / openMessage.

A body is compact JSON padded to a size class, encrypted under the sender's
next message key and signed with `prev`, the hash of the sender's previous
envelope, so each sender's messages form a hash chain.
"""

import json
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import crypto
from .crypto import ProtocolError, b64u_decode, b64u_encode, check_id, check_int, check_str, label

LABEL_MSG = "burnchat/v2/msg"
LABEL_SIG = "burnchat/v2/sig"
SIZE_CLASSES = (256, 512, 1024, 2048, 4096, 8192)
FIRST_PREV = b64u_encode(bytes(crypto.HASH_BYTES))  # `prev` of a sender's first envelope
MAX_DIGEST_HEADS = 1024


# --- bodies (§6.3) -----------------------------------------------------------


def check_text(text):
    """UTF-8 bytes of a message text, refusing empty or over-long text (never truncating)."""
    if not isinstance(text, str):
        raise ProtocolError("bad_encoding", "a message must be text")
    data = crypto.utf8(text)
    if not data:
        raise ProtocolError("empty", "a message cannot be empty")
    if len(data) > crypto.MAX_TEXT_BYTES:
        raise ProtocolError("too_long", f"{len(data)} bytes is over the {crypto.MAX_TEXT_BYTES}-byte limit")
    return data


def text_body(text, after=None, me=False):
    """`{"t": "text", "text", "after", "me"}`; `after` = [sender, epoch, seq] of the last text shown, or None."""
    check_text(text)
    return {"t": "text", "text": text, "after": list(after) if after else None, "me": bool(me)}


def digest_body(heads):
    """`{"t": "digest", "heads": [[sender, epoch, seq, hash], ...]}` (§6.5)."""
    return {"t": "digest", "heads": [list(head) for head in heads]}


def encode_body(body):
    """The UTF-8 JSON of a body exactly as JSON.stringify writes it (no spaces, raw non-ASCII)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def pad_body(data):
    """pad(body, L) with L the smallest size class above its length; too_long from 8192 bytes."""
    for size in SIZE_CLASSES:
        if len(data) < size:
            return crypto.pad(data, size)
    raise ProtocolError("too_long", f"a body of {len(data)} bytes cannot be sent")


def _reject_constant(name):
    """json.loads hook: NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not JSON")


def decode_body(padded):
    """Unpad and parse a body; bad_body unless it is a valid text, a valid digest, or of another type."""
    try:
        body = json.loads(crypto.unpad(padded).decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, ProtocolError) as exc:
        raise ProtocolError("bad_body", "the body is not JSON") from exc
    if not isinstance(body, dict) or not isinstance(body.get("t"), str):
        raise ProtocolError("bad_body", "the body has no type")
    try:
        if body["t"] == "text":
            _check_text_body(body)
        elif body["t"] == "digest":
            _check_digest_body(body)
    except ProtocolError as exc:
        raise ProtocolError("bad_body", exc.message) from exc
    return body


def _check_text_body(body):
    """Shape of a text body."""
    check_text(body.get("text"))
    if type(body.get("me")) is not bool or "after" not in body:
        raise ProtocolError("bad_body", "a text names `after` (or null) and says whether it is `me`")
    after = body["after"]
    if after is not None:
        if not isinstance(after, list) or len(after) != 3:
            raise ProtocolError("bad_body", "after is not [sender, epoch, seq]")
        check_id(after[0], "after")
        check_int(after[1], "after epoch")
        check_int(after[2], "after seq")


def _check_digest_body(body):
    """Shape of a digest body: heads of [sender, epoch, seq, hash]."""
    heads = body.get("heads")
    if not isinstance(heads, list) or len(heads) > MAX_DIGEST_HEADS:
        raise ProtocolError("bad_body", "heads is not a list")
    for head in heads:
        if not isinstance(head, list) or len(head) != 4:
            raise ProtocolError("bad_body", "a head is not [sender, epoch, seq, hash]")
        check_id(head[0], "head sender")
        check_int(head[1], "head epoch")
        check_int(head[2], "head seq")
        b64u_decode(check_str(head[3], "head hash"), crypto.HASH_BYTES)


# --- envelopes (§6.1) --------------------------------------------------------


def message_aad(room_id, epoch, sender_id, seq, prev):
    """AES-GCM associated data binding a message to room, epoch, sender, seq and prev."""
    return label(LABEL_MSG, room_id, epoch, sender_id, seq, prev)


def message_sig_input(room_id, epoch, sender_id, seq, prev, iv, ct):
    """The exact bytes a message signature covers; their SHA-256 is the envelope's hash H."""
    return label(LABEL_SIG, room_id, epoch, sender_id, seq, prev, iv, ct)


def envelope_hash(room_id, envelope):
    """H = SHA-256 of an envelope's signature input (§6.1)."""
    e = envelope
    return crypto.sha256(message_sig_input(room_id, e["epoch"], e["sender"], e["seq"], e["prev"], e["iv"], e["ct"]))


def seal_message(room_id, epoch, chain, identity, sender, prev, body, iv=None):
    """(envelope, H) of `body` (a dict, or its JSON bytes) as the sender's next message of `chain`.

    `iv` only for test vectors; otherwise 12 fresh random bytes.
    """
    check_int(epoch, "epoch")
    b64u_decode(check_str(prev, "prev"), crypto.HASH_BYTES)
    padded = pad_body(body if isinstance(body, (bytes, bytearray)) else encode_body(body))
    seq, message_key = chain.seal_key()
    iv_bytes = secrets.token_bytes(crypto.IV_BYTES) if iv is None else iv
    ct = b64u_encode(AESGCM(message_key).encrypt(iv_bytes, padded, message_aad(room_id, epoch, sender, seq, prev)))
    del message_key  # sealed: the key is never needed again
    iv_text = b64u_encode(iv_bytes)
    sig_input = message_sig_input(room_id, epoch, sender, seq, prev, iv_text, ct)
    envelope = {
        "v": crypto.PROTOCOL_VERSION, "epoch": epoch, "sender": sender, "seq": seq, "prev": prev,
        "iv": iv_text, "ct": ct, "sig": b64u_encode(crypto.sign(identity.sig, sig_input)),
    }
    return envelope, crypto.sha256(sig_input)


def check_envelope(envelope):
    """Shape of an envelope (version, integers, field sizes) before any crypto."""
    if not isinstance(envelope, dict):
        raise ProtocolError("bad_encoding", "envelope is not an object")
    if type(envelope.get("v")) is not int or envelope["v"] != crypto.PROTOCOL_VERSION:
        raise ProtocolError("bad_version", "not a protocol 2 envelope")
    check_int(envelope.get("epoch"), "epoch")
    check_int(envelope.get("seq"), "seq")
    check_id(envelope.get("sender"), "sender")
    b64u_decode(check_str(envelope.get("prev"), "prev"), crypto.HASH_BYTES)
    b64u_decode(check_str(envelope.get("iv"), "iv"), crypto.IV_BYTES)
    ct = b64u_decode(check_str(envelope.get("ct"), "ct"))
    if len(ct) - crypto.TAG_BYTES not in SIZE_CLASSES:
        raise ProtocolError("bad_encoding", "ciphertext is not of a size class")
    b64u_decode(check_str(envelope.get("sig"), "sig"), crypto.SIGNATURE_BYTES)
    return envelope


def open_message(room_id, envelope, chain, sender):
    """Checks 3-5 of §6.4: signature, chain (replay / too_old / too_far), decryption and body.

    Returns (body, H, late); the chain moves past the message only when all of them pass.
    """
    e = check_envelope(envelope)
    sig_input = message_sig_input(room_id, e["epoch"], e["sender"], e["seq"], e["prev"], e["iv"], e["ct"])
    crypto.verify(sender.sig_key, e["sig"], sig_input)
    aad = message_aad(room_id, e["epoch"], e["sender"], e["seq"], e["prev"])
    iv, ct = b64u_decode(e["iv"]), b64u_decode(e["ct"])

    def decrypt(message_key):
        try:
            padded = AESGCM(message_key).decrypt(iv, ct, aad)
        except InvalidTag as exc:
            raise ProtocolError("decrypt_failed", "message does not decrypt") from exc
        return decode_body(padded)

    body, late = chain.open(e["seq"], decrypt)
    return body, crypto.sha256(sig_input), late
