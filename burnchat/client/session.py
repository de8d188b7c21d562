"""One room's protocol state (docs/PROTOCOL.md §4-§6), mirroring static/js/protocol.js.

No network and no I/O: the caller feeds it server events and sends what it returns.
The epoch floor (§5 client rules) keeps a lying server from keeping members on a
key that a removed member, or a newcomer, should not have.
"""

import time

from . import crypto
from .crypto import ProtocolError

MAX_HELD_MESSAGES = 64  # messages that may wait for their epoch's key (§5)
HOLD_BACK_SECONDS = 10  # and for how long


class RoomSession:
    """Who is in the room, which room key we hold, and every check on what arrives."""

    def __init__(self, room_id, secret, now=time.monotonic):
        """Bind the session to a room and derive the link keys and join key from the secret."""
        crypto.b64u_decode(room_id, crypto.ID_BYTES)
        self.room_id = room_id
        self._link_keys = crypto.derive_link_keys(secret, room_id)
        self._join_key, _ = crypto.derive_join_key(secret)
        self._now = now
        self._identity = None
        self.member_id = None
        self.name = None
        self.epoch = 0  # the highest epoch known: join ack, `rekey`, or a key held
        self.floor = 0  # the lowest epoch whose key may be used (§5 client rules)
        self.rejected_count = 0
        self.flagged_count = 0
        self._key = None  # (epoch, raw key, frozenset of member IDs it may be served to)
        self._members = {}  # member_id -> crypto.Member, insertion = join order
        self._order = []  # member IDs in the server's join order, self included
        self._removed = set()  # member IDs that left or were removed: never accepted again
        self._listed = False  # True once the join ack's members are in: later arrivals raise the floor
        self._last_seq = {}  # member_id -> highest seq accepted (kept after removal)
        self._held = []  # [(envelope, deadline)]: messages under an epoch whose key is on its way
        self._seq = 0

    # --- joining -----------------------------------------------------------

    def start(self, name):
        """Make this run's identity and member ID; the `join` payload."""
        self.name = crypto.validate_name(name)
        self._identity = crypto.generate_identity()
        self.member_id = crypto.random_id()
        announcement = crypto.seal_announcement(
            self._link_keys, self.room_id, self.member_id, self._identity, self.name
        )
        return {"v": crypto.PROTOCOL_VERSION, "room": self.room_id, **announcement, "join_key": self._join_key}

    def joined(self, ack):
        """Take the join ack: the current epoch and the members already there."""
        self.set_epoch(ack.get("epoch", 0))
        for announcement in ack.get("members", []):
            self.add_member(announcement)
        self._order.append(self.member_id)
        self._listed = True

    @property
    def ready(self):
        """True while we hold a key of an epoch at or above the floor, so we may send."""
        return self._key is not None and self._key[0] >= self.floor

    @property
    def held_count(self):
        """Messages held back until their epoch's key arrives."""
        return len(self._held)

    def _require_started(self):
        """Refuse work before start() or after wipe(): there are no keys to work with."""
        if self._identity is None:
            raise ProtocolError("not_ready", "the session is not started or was wiped")

    @property
    def identity(self):
        """This run's key pairs (public halves are in every announcement)."""
        return self._identity

    # --- members -----------------------------------------------------------

    def add_member(self, announcement):
        """Accept an announcement (MAC, name) or flag it; the Member or None."""
        self._require_started()
        try:
            member = crypto.open_announcement(self._link_keys, self.room_id, announcement)
        except ProtocolError:
            self.flagged_count += 1
            return None
        known = member.member_id == self.member_id or member.member_id in self._members
        if known or member.member_id in self._removed:
            # The server refuses duplicate IDs, so a second claim on one could only swap keys
            # or bring back someone who was removed.
            self.flagged_count += 1
            return None
        self._members[member.member_id] = member
        self._order.append(member.member_id)
        if self._listed:
            self._raise_floor()  # a newcomer must not get a key used before it came
        return member

    def remove_member(self, member_id):
        """Forget a member who left; its ID is never accepted again and its seq history stays."""
        if not isinstance(member_id, str) or member_id == self.member_id:
            return None
        self._removed.add(member_id)
        member = self._members.pop(member_id, None)
        if member is not None:
            self._order.remove(member_id)
            self._raise_floor()  # nothing more under a key the removed member holds, rekey or not
        return member

    def _raise_floor(self):
        """A membership change: only a key newer than every epoch known may be used from now on."""
        self.floor = max(self.floor, self.epoch) + 1

    def member(self, member_id):
        """An accepted member by ID, or None."""
        return self._members.get(member_id)

    def members(self):
        """Accepted members and self in join order; look-alike duplicate names get (2), (3), ..."""
        seen = {}
        listing = []
        for member_id in self._order:
            is_self = member_id == self.member_id
            name = self.name if is_self else self._members[member_id].name
            fpr = (
                crypto.fingerprint(self._identity.ecdh_pub, self._identity.sig_pub)
                if is_self
                else self._members[member_id].fingerprint
            )
            key = crypto.name_for_comparison(name)
            seen[key] = seen.get(key, 0) + 1
            shown = name if seen[key] == 1 else f"{name} ({seen[key]})"
            listing.append({"member_id": member_id, "name": shown, "fingerprint": fpr, "is_self": is_self})
        return listing

    def display_name(self, member_id):
        """The disambiguated name of a member (as members() shows it)."""
        for entry in self.members():
            if entry["member_id"] == member_id:
                return entry["name"]
        return None

    def safety_code(self):
        """The room safety code over self and every accepted member (§4)."""
        self._require_started()
        own = crypto.Member(
            member_id=self.member_id,
            name=self.name,
            ecdh_pub=self._identity.ecdh_pub,
            sig_pub=self._identity.sig_pub,
            ecdh_key=None,
            sig_key=None,
            fingerprint="",
        )
        return crypto.safety_code(self.room_id, [own, *self._members.values()])

    # --- epochs and room keys ------------------------------------------------

    @property
    def held_epoch(self):
        """The epoch of the key we hold, 0 for none."""
        return self._key[0] if self._key else 0

    def set_epoch(self, epoch):
        """Learn the current epoch (join ack, `rekey`); epochs and the floor never go back."""
        if type(epoch) is int and epoch >= 0:
            self.epoch = max(self.epoch, epoch)
            self.floor = max(self.floor, epoch)

    def answer_key_request(self, request):
        """Create a new key, or serve the held one to members it was made for; the `key_deliver` payload."""
        self._require_started()
        epoch, create = request.get("epoch"), request.get("create") is True
        if type(epoch) is not int or epoch < 1:
            raise ProtocolError("bad_epoch", "key request for an impossible epoch")
        if create:
            if epoch < self.floor or epoch <= self.held_epoch:
                raise ProtocolError("bad_epoch", "a new key must be newer than the floor and the key held")
            recipients = self._recipients(request.get("for", []))
            self._hold(epoch, crypto.new_room_key(), [m.member_id for m in recipients])
        else:
            if epoch != self.held_epoch:
                raise ProtocolError("not_ready", "asked to serve a key we do not hold")
            if epoch < self.floor:
                raise ProtocolError("bad_epoch", "asked to serve a key from before a membership change")
            allowed = self._key[2]
            recipients = [m for m in self._recipients(request.get("for", [])) if m.member_id in allowed]
        room_key = self._key[1]
        blobs = [
            crypto.wrap_room_key(self.room_id, epoch, room_key, self._identity, self.member_id, member)
            for member in recipients
        ]
        return {"epoch": epoch, "blobs": blobs}

    def _recipients(self, member_ids):
        """Accepted members among those asked for; flagged or unknown IDs get nothing."""
        if not isinstance(member_ids, list):
            return []
        wanted = {m for m in member_ids if isinstance(m, str) and m != self.member_id}
        return [member for member_id, member in self._members.items() if member_id in wanted]

    def accept_room_key(self, blob):
        """Check a `room_key` blob (§5) and hold its key; the epoch now held."""
        self._require_started()
        sender = self._members.get(blob.get("from")) if isinstance(blob, dict) else None
        if sender is None:
            raise ProtocolError("not_member", "key blob from someone not accepted in the room")
        epoch = blob.get("epoch")
        if type(epoch) is int and (epoch < self.floor or epoch < self.held_epoch):
            raise ProtocolError("bad_epoch", "key blob for an epoch from before a membership change")
        room_key = crypto.open_room_key(self.room_id, blob, self._identity, self.member_id, sender)
        if epoch != self.held_epoch:
            # Keep the first key of an epoch: one epoch never has two keys (§5).
            self._hold(epoch, room_key, list(self._members))
        return epoch

    def _hold(self, epoch, room_key, member_ids):
        """Keep the key of `epoch` (dropping the older one) with the members it may be served to."""
        self.epoch = max(self.epoch, epoch)
        self._key = (epoch, room_key, frozenset([*member_ids, self.member_id]))

    # --- messages ------------------------------------------------------------

    def seal(self, text):
        """Envelope for `text` under the held key; not_ready while securing."""
        crypto.check_plaintext(text)
        if not self.ready:
            raise ProtocolError("not_ready", "the room key is not held yet")
        self._seq += 1
        epoch, room_key, _ = self._key
        return crypto.seal_message(self.room_id, epoch, room_key, self._identity, self.member_id, self._seq, text)

    def open(self, envelope):
        """Apply every §6 check; {member_id, name, text}, None while held back, else count and raise."""
        try:
            if self._should_hold(envelope):
                return self._hold_back(envelope)
            return self._open(envelope)
        except ProtocolError:
            self.rejected_count += 1
            raise

    def release_held(self):
        """Open the held messages whose key is here (in arrival order); reject and count stale or expired ones."""
        now = self._now()
        waiting, self._held = self._held, []
        shown = []
        for envelope, deadline in waiting:
            if now >= deadline:
                self.rejected_count += 1  # its key never came in time
            elif self._should_hold(envelope):
                self._held.append((envelope, deadline))
            else:
                try:
                    shown.append(self.open(envelope))
                except ProtocolError:
                    pass  # counted by open()
        return shown

    def _should_hold(self, envelope):
        """True for a message from a member under an epoch above the key held and not below the floor."""
        if not isinstance(envelope, dict) or envelope.get("sender") not in self._members:
            return False
        epoch = envelope.get("epoch")
        return type(epoch) is int and self.held_epoch < epoch <= crypto.MAX_SAFE_INTEGER and epoch >= self.floor

    def _hold_back(self, envelope):
        """Keep a message until its key arrives (bounded); a full buffer rejects it."""
        if len(self._held) >= MAX_HELD_MESSAGES:
            raise ProtocolError("not_ready", "too many messages waiting for their key")
        self._held.append((envelope, self._now() + HOLD_BACK_SECONDS))
        return None

    def _open(self, envelope):
        """The §6 checks in order with the key held; the caller counts rejections."""
        crypto.check_envelope(envelope)
        sender = self._members.get(envelope["sender"])
        if sender is None:  # never ourselves: add_member refuses our own ID
            raise ProtocolError("not_member", "message from someone not accepted in the room")
        if envelope["epoch"] < self.floor or (self._key and envelope["epoch"] != self.held_epoch):
            raise ProtocolError("bad_epoch", "message not under the current key")
        if not self._key:
            raise ProtocolError("not_ready", "the current room key is not held yet")
        if envelope["seq"] <= self._last_seq.get(sender.member_id, 0):
            # Checked before decrypting to save work; recorded only after every check passes.
            raise ProtocolError("replay", "message replayed or out of order")
        text = crypto.open_message(self.room_id, envelope, self._key[1], sender)
        self._last_seq[sender.member_id] = envelope["seq"]
        return {"member_id": sender.member_id, "name": self.display_name(sender.member_id), "text": text}

    # --- the end -------------------------------------------------------------

    def wipe(self):
        """Forget every key, member, held message and counter (at burn, kick or exit)."""
        self._key = None
        self._members.clear()
        self._order.clear()
        self._removed.clear()
        self._last_seq.clear()
        self._held.clear()
        self._identity = None
        self._link_keys = None
        self._join_key = None
        self._listed = False
        self.member_id = None
        self.name = None
        self.epoch = 0
        self.floor = 0
        self._seq = 0
        self.rejected_count = 0
        self.flagged_count = 0
