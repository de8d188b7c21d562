"""Epochs (docs/PROTOCOL.md §3, §5.2-§5.4): the epoch secret, the roster commitment, the key
delivery and the safety code, mirroring createEpoch / openEpoch of static/js/crypto.js.

The epoch secret E exists only inside create_epoch and open_epoch: it is wrapped
for each member or unwrapped, every key of the epoch is derived from it, and it
is then overwritten and dropped.
"""

import hmac
import secrets
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from . import crypto
from .crypto import ProtocolError, b64u_decode, b64u_encode, check_id, check_int, check_str, label
from .ratchet import Chain

LABEL_WRAP = "burnchat/v2/wrap"
LABEL_COMMIT_KEY = "burnchat/v2/commit"  # HKDF info; the signature label below shares the word only
LABEL_AUTHENTICATOR = "burnchat/v2/authenticator"
LABEL_CHAIN = "burnchat/v2/chain"
LABEL_LINE = "burnchat/v2/line"
LABEL_ROSTER = "burnchat/v2/roster"
LABEL_COMMIT = "burnchat/v2/commit"
LABEL_KEY = "burnchat/v2/key"
SAFETY_QR_PREFIX = "burnchat-safety:2"

EPOCH_SECRET_BYTES = 32
WRAPPED_BYTES = 40
LINE_MAC_BYTES = 16
SAFETY_GROUPS = 8


@dataclass
class EpochKeys:
    """What a member keeps of an epoch once E is gone: the code and every roster member's chain."""

    epoch: int
    creator_id: str
    roster_ids: tuple
    authenticator: bytes
    safety_code: str
    safety_qr: str
    chains: dict = field(repr=False)  # member_id -> Chain

    def wipe(self):
        """Drop every chain key and skipped message key of the epoch."""
        for chain in self.chains.values():
            chain.wipe()
        self.chains.clear()


# --- the roster and its commitment (§5.2) -----------------------------------


def roster_line(member):
    """`MEMBER_ID,ECDH_PUB,SIG_PUB,NAME64` of one member (its validated name, not the display form)."""
    name64 = b64u_encode(crypto.utf8(member.name))
    return f"{member.member_id},{member.ecdh_pub},{member.sig_pub},{name64}"


def sorted_roster(members):
    """Members sorted by member ID, plain string order of the b64u text."""
    return sorted(members, key=lambda member: member.member_id)


def commit_key(epoch_secret, room_id, epoch):
    """K = HKDF(E, ROOM, burnchat/v2/commit|e): the HMAC key of the roster commitment."""
    return crypto.hkdf(epoch_secret, room_id, label(LABEL_COMMIT_KEY, epoch))


def line_mac_input(room_id, epoch, line):
    """The bytes one line MAC covers."""
    return label(LABEL_LINE, room_id, epoch, line)


def line_mac(key, room_id, epoch, line):
    """First 16 bytes of HMAC(K, burnchat/v2/line|ROOM|EPOCH|line)."""
    return crypto.hmac_sha256(key, line_mac_input(room_id, epoch, line))[:LINE_MAC_BYTES]


def roster_input(room_id, epoch, creator_id, lines):
    """The bytes C covers: every line of the sorted roster, joined with '|'."""
    return label(LABEL_ROSTER, room_id, epoch, creator_id, *lines)


def roster_commitment(key, room_id, epoch, creator_id, lines):
    """C = HMAC(K, burnchat/v2/roster|ROOM|EPOCH|CREATOR|lines)."""
    return crypto.hmac_sha256(key, roster_input(room_id, epoch, creator_id, lines))


def commit_sig_input(room_id, epoch, creator_id, roster_ids, line_macs):
    """The bytes commit_sig covers: the roster IDs with their line MACs (b64u), hashed (C never travels).

    Signing the MACs lets a recipient check them before comparing them with its own lines,
    so a relay that rewrites one is caught (bad_sig) instead of blaming that member.
    """
    entries = "|".join(f"{member_id},{mac}" for member_id, mac in zip(roster_ids, line_macs))
    return label(LABEL_COMMIT, room_id, epoch, creator_id, b64u_encode(crypto.sha256(crypto.utf8(entries))))


def authenticator(epoch_secret, room_id, epoch, commitment):
    """A = HKDF(E, ROOM, burnchat/v2/authenticator|e|b64u(C)): the safety code's 32 bytes."""
    return crypto.hkdf(epoch_secret, room_id, label(LABEL_AUTHENTICATOR, epoch, b64u_encode(commitment)))


def chain_key(epoch_secret, room_id, epoch, member_id):
    """ck_1 of sender `member_id` in `epoch`."""
    return crypto.hkdf(epoch_secret, room_id, label(LABEL_CHAIN, epoch, member_id))


# --- the safety code (§5.4) --------------------------------------------------


def safety_digits(auth):
    """40 digits: for i in 0..7 the big-endian uint32 at 4i, mod 100000, five digits, space separated."""
    groups = (int.from_bytes(auth[4 * i : 4 * i + 4], "big") % 100000 for i in range(SAFETY_GROUPS))
    return " ".join(f"{group:05d}" for group in groups)


def safety_qr(room_id, epoch, auth):
    """The QR text `burnchat-safety:2:ROOM:EPOCH:b64u(A)`."""
    return f"{SAFETY_QR_PREFIX}:{room_id}:{epoch}:{b64u_encode(auth)}"


def compare_safety(qr_a, qr_b):
    """True when two QR texts are equal, compared in constant time (the whole value, not the digits)."""
    if not isinstance(qr_a, str) or not isinstance(qr_b, str):
        return False
    return hmac.compare_digest(qr_a.encode("utf-8", "replace"), qr_b.encode("utf-8", "replace"))


# --- wrapping (§3, §5.3) -----------------------------------------------------


def wrap_info(epoch, from_id, to_id):
    """HKDF info of the wrapping key from A to B: the direction is part of the label."""
    return label(LABEL_WRAP, epoch, from_id, to_id)


def wrapping_key(room_id, epoch, own_private, peer_public, from_id, to_id):
    """AES-KW key from A to B for one epoch: ECDH shared secret, then HKDF."""
    shared = own_private.exchange(ec.ECDH(), peer_public)
    return crypto.hkdf(shared, room_id, wrap_info(epoch, from_id, to_id))


def key_sig_input(room_id, epoch, creator_id, to_id, wrapped, commit_sig):
    """The bytes a key blob signature covers (it binds the blob to the roster commitment)."""
    return label(LABEL_KEY, room_id, epoch, creator_id, to_id, wrapped, commit_sig)


def derive_epoch_keys(epoch_secret, room_id, epoch, creator_id, roster):
    """Every key of the epoch from E and the roster (sorted members, creator included)."""
    lines = [roster_line(member) for member in roster]
    commitment = roster_commitment(commit_key(epoch_secret, room_id, epoch), room_id, epoch, creator_id, lines)
    auth = authenticator(epoch_secret, room_id, epoch, commitment)
    return EpochKeys(
        epoch=epoch,
        creator_id=creator_id,
        roster_ids=tuple(member.member_id for member in roster),
        authenticator=auth,
        safety_code=safety_digits(auth),
        safety_qr=safety_qr(room_id, epoch, auth),
        chains={m.member_id: Chain(chain_key(epoch_secret, room_id, epoch, m.member_id)) for m in roster},
    )


def create_epoch(room_id, epoch, identity, creator_id, roster, epoch_secret=None):
    """(key_deliver payload, EpochKeys) for a new epoch; `roster` = accepted members, self included.

    `epoch_secret` only for test vectors; otherwise 32 fresh random bytes.
    """
    check_int(epoch, "epoch")
    roster = sorted_roster(roster)
    if creator_id not in {member.member_id for member in roster}:
        raise ProtocolError("not_member", "the creator belongs in its own roster")
    secret = bytearray(secrets.token_bytes(EPOCH_SECRET_BYTES) if epoch_secret is None else epoch_secret)
    try:
        key = commit_key(secret, room_id, epoch)
        lines = [roster_line(member) for member in roster]
        roster_ids = [member.member_id for member in roster]
        line_macs = [b64u_encode(line_mac(key, room_id, epoch, line)) for line in lines]
        commit_sig = b64u_encode(crypto.sign(identity.sig, commit_sig_input(room_id, epoch, creator_id, roster_ids, line_macs)))
        blobs = []
        for member in roster:
            if member.member_id == creator_id:
                continue
            kek = wrapping_key(room_id, epoch, identity.ecdh, member.ecdh_key, creator_id, member.member_id)
            wrapped = b64u_encode(aes_key_wrap(kek, bytes(secret)))
            sig = crypto.sign(identity.sig, key_sig_input(room_id, epoch, creator_id, member.member_id, wrapped, commit_sig))
            blobs.append({"to": member.member_id, "wrapped": wrapped, "sig": b64u_encode(sig)})
        delivery = {
            "epoch": epoch,
            "roster": roster_ids,
            "line_macs": line_macs,
            "commit_sig": commit_sig,
            "blobs": blobs,
        }
        return delivery, derive_epoch_keys(secret, room_id, epoch, creator_id, roster)
    finally:
        secret[:] = bytes(EPOCH_SECRET_BYTES)  # E is forgotten once wrapped and derived from


def open_epoch(room_id, room_key_event, identity, my_id, roster):
    """EpochKeys from a `room_key` event, checked against `roster` (my accepted members, self included).

    Raises wrong_recipient, not_member, bad_sig, bad_key, or roster_mismatch with
    .detail = {unseen, left_out, differs}. The epoch rules (floor, key held) are the session's.
    """
    event = _check_room_key(room_key_event)
    epoch, creator_id = event["epoch"], event["from"]
    if event["to"] != my_id:
        raise ProtocolError("wrong_recipient", "the key is addressed to someone else")
    mine = {member.member_id: member for member in roster}
    creator = mine.get(creator_id)
    if creator is None or creator_id == my_id:
        raise ProtocolError("not_member", "the key is not from an accepted member")
    sig_input = key_sig_input(room_id, epoch, creator_id, my_id, event["wrapped"], event["commit_sig"])
    crypto.verify(creator.sig_key, event["sig"], sig_input)
    kek = wrapping_key(room_id, epoch, identity.ecdh, creator.ecdh_key, creator_id, my_id)
    try:
        secret = bytearray(aes_key_unwrap(kek, b64u_decode(event["wrapped"])))
    except InvalidUnwrap as exc:
        raise ProtocolError("bad_key", "the epoch secret does not unwrap") from exc
    try:
        ordered = sorted_roster(mine.values())
        _check_roster(secret, room_id, event, creator, ordered)
        return derive_epoch_keys(secret, room_id, epoch, creator_id, ordered)
    finally:
        secret[:] = bytes(len(secret))


def _check_roster(secret, room_id, event, creator, ordered):
    """Rule 4 of §5.3: the creator signed the roster and line MACs sent, and they are exactly mine."""
    epoch, mine = event["epoch"], {member.member_id: member for member in ordered}
    theirs = event["roster"]
    # A relay that rewrote a line MAC (or the list) is caught here, before anyone is blamed for it.
    crypto.verify(creator.sig_key, event["commit_sig"],
                  commit_sig_input(room_id, epoch, creator.member_id, theirs, event["line_macs"]))
    key = commit_key(secret, room_id, epoch)
    macs = dict(zip(theirs, event["line_macs"]))
    detail = {
        "unseen": [member_id for member_id in theirs if member_id not in mine],
        "left_out": [member_id for member_id in mine if member_id not in macs],
        "differs": [
            member_id
            for member_id, member in mine.items()
            if member_id in macs
            and not hmac.compare_digest(b64u_decode(macs[member_id]), line_mac(key, room_id, epoch, roster_line(member)))
        ],
    }
    if any(detail.values()):
        raise ProtocolError("roster_mismatch", "the key's roster is not the roster you see", detail=detail)


def _check_room_key(event):
    """Shapes of a `room_key` event before any crypto; bad_encoding otherwise."""
    if not isinstance(event, dict):
        raise ProtocolError("bad_encoding", "room_key is not an object")
    check_int(event.get("epoch"), "epoch")
    check_id(event.get("from"), "from")
    check_id(event.get("to"), "to")
    b64u_decode(check_str(event.get("wrapped"), "wrapped"), WRAPPED_BYTES)
    b64u_decode(check_str(event.get("sig"), "sig"), crypto.SIGNATURE_BYTES)
    b64u_decode(check_str(event.get("commit_sig"), "commit_sig"), crypto.SIGNATURE_BYTES)
    roster, macs = event.get("roster"), event.get("line_macs")
    if not isinstance(roster, list) or not isinstance(macs, list) or len(roster) != len(macs) or not roster:
        raise ProtocolError("bad_encoding", "roster and line_macs are not lists of one length")
    for index, member_id in enumerate(roster):
        check_id(member_id, "roster")
        if index > 0 and not roster[index - 1] < member_id:
            raise ProtocolError("bad_encoding", "the roster is not sorted by member ID")
    for mac in macs:
        b64u_decode(check_str(mac, "line_macs"), LINE_MAC_BYTES)
    return event
