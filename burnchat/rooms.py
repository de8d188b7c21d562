"""Rooms and members: the pure rules of who may join, what admins may do, and when a room ends.

No Flask here. Everything a room knows lives on its `Room` object so that burning
it is one deletion from the store.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass, field

from . import pins
from .config import EXTEND_CHOICES, HARD_MAX_TTL_SECONDS
from .keyplan import KeyState


class RoomError(Exception):
    """A refused action, with a stable code and a sentence for people."""

    def __init__(self, code, message, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        self.extra = extra


def new_room_id():
    """128 random bits, URL-safe: unguessable, so knowing a room means having its link."""
    return secrets.token_urlsafe(16)


@dataclass(slots=True)  # one per member: no per-instance __dict__ (docs/BENCHMARKS.md)
class Member:
    """One joined browser (or terminal client): its socket, announcement and key epoch."""

    member_id: str
    sid: str
    announcement: dict
    held_epoch: int = 0
    process: str | None = None  # the app process holding its socket (shared stores only)
    resume_hash: str | None = None  # b64u SHA-256 of the member's resume secret (presence.py)
    away_until: float | None = None  # while its socket is gone: the end of its grace window
    buffer: list = field(default_factory=list)  # [event, data] it missed while away, in order
    buffer_bytes: int = 0
    announce_due: bool = False  # the link changed: its announcement under the new link is awaited (relink)

    @property
    def away(self):
        """True while the member's socket is gone but its seat is kept."""
        return self.away_until is not None

    def public(self):
        """The member as other members see it: the opaque announcement, its epoch, whether away."""
        return {**self.announcement, "held": self.held_epoch, "away": self.away}


@dataclass
class Room:
    """A live room. Times are seconds on the app's clock (`now()`)."""

    room_id: str
    pin_salt: bytes  # the creator's client chose it; claimers get it back (§8.1)
    pin_hash: bytes  # the PIN's verifier, SHA-256(proof)
    created_at: float
    expires_at: float
    locked: bool = False
    members: dict = field(default_factory=dict)   # member_id -> Member, in join order
    admin_sids: set = field(default_factory=set)
    keys: KeyState = field(default_factory=KeyState)
    pin_failures: dict = field(default_factory=dict)  # client address -> times of wrong PINs
    owner: str | None = None  # the process running the countdown (shared stores only)
    join_key_hash: str | None = None  # b64u SHA-256 of the link's join key, if the creator gave it

    @property
    def max_expires_at(self):
        """No room lives past 72 hours after it was made."""
        return self.created_at + HARD_MAX_TTL_SECONDS

    def member_by_sid(self, sid):
        """The member joined on socket `sid`, or None."""
        return next((m for m in self.members.values() if m.sid == sid), None)

    def check_join_key(self, join_key):
        """Only someone with the whole link can join a room whose creator registered a join key."""
        if self.join_key_hash is None:
            return
        raw = b64u_bytes(join_key) if join_key else b""
        digest = _b64u(hashlib.sha256(raw).digest()) if join_key else ""
        if not hmac.compare_digest(digest, self.join_key_hash):
            raise RoomError("bad_link", "This link is incomplete or wrong - ask for the full link.")

    def add_member(self, member, max_members):
        """Admit a member, or refuse with a RoomError saying why."""
        if self.locked:
            raise RoomError("locked", "This room is locked by its admin.")
        if len(self.members) >= max_members:
            raise RoomError("room_full", f"This room is full ({max_members} people).")
        if member.member_id in self.members:
            raise RoomError("member_id_taken", "That member ID is already in this room.")
        self.members[member.member_id] = member

    def remove_member(self, member_id):
        """Take a member out; the caller starts a new key epoch for those left."""
        return self.members.pop(member_id, None)

    def extend(self, seconds, now):
        """Push the burn back by one of the allowed steps, never past the 72-hour cap."""
        if seconds not in EXTEND_CHOICES:
            raise RoomError("invalid", "Extend by 5 or 30 minutes.")
        if self.expires_at >= self.max_expires_at - 1:
            raise RoomError("max_ttl", "This room already lasts as long as a room can (72 hours).")
        self.expires_at = min(max(self.expires_at, now) + seconds, self.max_expires_at)
        return self.expires_at

    @property
    def pin_salt_text(self):
        """The PIN's salt as clients need it to make a proof (public, like the room ID)."""
        return _b64u(self.pin_salt)

    def pin_retry_after(self, address, now):
        """Seconds until `address` may type a PIN again, or 0 when it is not locked out."""
        return pins.PinGuard(now, self.pin_failures).retry_after(address)

    def check_pin(self, proof, address, now):
        """Verify a PIN's proof (raw bytes, PROTOCOL.md §8.1) from `address`, applying the
        3-strikes lockout."""
        guard = pins.PinGuard(now, self.pin_failures)
        wait = guard.retry_after(address)
        if wait:
            raise RoomError("pin_locked_out",
                            f"Too many wrong PINs. Try again in {_minutes(wait)}.",
                            retry_after=wait)
        if not pins.proof_matches(proof, self.pin_hash):
            guard.record_failure(address)
            left = guard.attempts_left(address)
            if left == 0:
                wait = guard.retry_after(address)
                raise RoomError("pin_locked_out",
                                f"Too many wrong PINs. Try again in {_minutes(wait)}.",
                                retry_after=wait)
            raise RoomError("bad_pin", f"Wrong PIN - {left} attempt{'s' if left > 1 else ''} left.",
                            attempts_left=left)

    def wipe(self):
        """Drop every reference the room holds (members and their buffers, keys, PIN records)."""
        for member in self.members.values():
            member.buffer.clear()
        self.members.clear()
        self.admin_sids.clear()
        self.pin_failures.clear()
        self.keys = KeyState()
        self.pin_hash = self.pin_salt = b""

    def to_dict(self):
        """Plain JSON-ready data, for stores that keep rooms outside this process."""
        data = asdict(self)
        data["pin_salt"] = _b64(self.pin_salt)
        data["pin_hash"] = _b64(self.pin_hash)
        data["members"] = [asdict(m) for m in self.members.values()]
        data["admin_sids"] = sorted(self.admin_sids)
        data["keys"] = self.keys.to_dict()
        return data

    @classmethod
    def from_dict(cls, data):
        """The inverse of to_dict."""
        data = dict(data)
        data["pin_salt"] = base64.b64decode(data["pin_salt"])
        data["pin_hash"] = base64.b64decode(data["pin_hash"])
        data["members"] = {m["member_id"]: Member(**m) for m in data["members"]}
        data["admin_sids"] = set(data["admin_sids"])
        data["keys"] = KeyState.from_dict(data["keys"])
        return cls(**data)


def _b64(raw):
    """Bytes as standard base64 text."""
    return base64.b64encode(raw).decode()


def _b64u(raw):
    """Bytes as unpadded base64url text (the wire encoding)."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64u_bytes(text):
    """The bytes of unpadded base64url text (already checked by its schema)."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _minutes(seconds):
    """'N minutes' for a wait, rounded up."""
    minutes = max(1, -(-int(seconds) // 60))
    return f"{minutes} minute{'s' if minutes > 1 else ''}"
