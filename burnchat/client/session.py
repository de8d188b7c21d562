"""One room's protocol state (docs/PROTOCOL.md §4-§6), mirroring static/js/protocol.js.

No network and no I/O: the caller feeds it server events and sends what it returns.
"""

from . import crypto
from .crypto import ProtocolError


class RoomSession:
    """Who is in the room, which room keys we hold, and every check on what arrives."""

    def __init__(self, room_id, secret):
        """Bind the session to a room and derive the link keys from the secret."""
        crypto.b64u_decode(room_id, crypto.ID_BYTES)
        self.room_id = room_id
        self._link_keys = crypto.derive_link_keys(secret, room_id)
        self._identity = None
        self.member_id = None
        self.name = None
        self.epoch = 0
        self.rejected_count = 0
        self.flagged_count = 0
        self._room_keys = {}  # epoch -> raw key; only the newest held epoch is kept
        self._members = {}  # member_id -> crypto.Member, insertion = join order
        self._order = []  # member IDs in the server's join order, self included
        self._last_seq = {}  # member_id -> highest seq accepted (kept after removal)
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
        return {"v": crypto.PROTOCOL_VERSION, "room": self.room_id, **announcement}

    def joined(self, ack):
        """Take the join ack: the current epoch and the members already there."""
        self.set_epoch(ack.get("epoch", 0))
        for announcement in ack.get("members", []):
            self.add_member(announcement)
        self._order.append(self.member_id)

    @property
    def ready(self):
        """True when we hold the key of the current epoch, so we may send."""
        return self.epoch > 0 and self.epoch in self._room_keys

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
        if member.member_id == self.member_id or member.member_id in self._members:
            # The server refuses duplicate IDs, so a second claim on one could only swap keys.
            self.flagged_count += 1
            return None
        self._members[member.member_id] = member
        self._order.append(member.member_id)
        return member

    def remove_member(self, member_id):
        """Forget a member who left; its seq history stays so old messages stay refused."""
        member = self._members.pop(member_id, None)
        if member is not None:
            self._order.remove(member_id)
        return member

    def member(self, member_id):
        """An accepted member by ID, or None."""
        return self._members.get(member_id)

    def members(self):
        """Accepted members and self in join order, with disambiguated names."""
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
            seen[name] = seen.get(name, 0) + 1
            shown = name if seen[name] == 1 else f"{name} ({seen[name]})"
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

    def set_epoch(self, epoch):
        """Learn the current epoch (join ack, `rekey`); epochs never go back."""
        if type(epoch) is int and epoch > self.epoch:
            self.epoch = epoch

    def answer_key_request(self, request):
        """Serve or create the requested epoch's key; the `key_deliver` payload."""
        self._require_started()
        epoch, create = request.get("epoch"), request.get("create") is True
        if type(epoch) is not int or epoch < (max(self.epoch, 1) if create else 1):
            raise ProtocolError("bad_epoch", "key request for an impossible epoch")
        if create:
            self._hold(epoch, self._room_keys.get(epoch) or crypto.new_room_key())
        elif epoch not in self._room_keys:
            raise ProtocolError("not_ready", "asked to serve a key we do not hold")
        room_key = self._room_keys[epoch]
        blobs = [
            crypto.wrap_room_key(self.room_id, epoch, room_key, self._identity, self.member_id, member)
            for member in self._recipients(request.get("for", []))
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
        if type(epoch) is int and epoch < self.epoch:
            raise ProtocolError("bad_epoch", "key blob for an older epoch")
        room_key = crypto.open_room_key(self.room_id, blob, self._identity, self.member_id, sender)
        if epoch not in self._room_keys:
            # Keep the first key of an epoch: one epoch never has two keys (§5 rule 4).
            self._hold(epoch, room_key)
        return epoch

    def _hold(self, epoch, room_key):
        """Keep the key of `epoch` and drop every older one."""
        self.set_epoch(epoch)
        self._room_keys = {e: k for e, k in self._room_keys.items() if e > epoch}
        self._room_keys[epoch] = room_key

    # --- messages ------------------------------------------------------------

    def seal(self, text):
        """Envelope for `text` under the current epoch; not_ready while securing."""
        crypto.check_plaintext(text)
        if not self.ready:
            raise ProtocolError("not_ready", "the room key is not held yet")
        self._seq += 1
        return crypto.seal_message(
            self.room_id, self.epoch, self._room_keys[self.epoch], self._identity, self.member_id, self._seq, text
        )

    def open(self, envelope):
        """Apply every §6 check; {member_id, name, text}, else count and raise."""
        try:
            return self._open(envelope)
        except ProtocolError:
            self.rejected_count += 1
            raise

    def _open(self, envelope):
        """The §6 checks in order; the caller counts rejections."""
        crypto.check_envelope(envelope)
        sender = self._members.get(envelope["sender"])
        if sender is None:  # never ourselves: add_member refuses our own ID
            raise ProtocolError("not_member", "message from someone not accepted in the room")
        if envelope["epoch"] != self.epoch:
            raise ProtocolError("bad_epoch", "message not under the current epoch")
        if not self.ready:
            raise ProtocolError("not_ready", "the current room key is not held yet")
        if envelope["seq"] <= self._last_seq.get(sender.member_id, 0):
            # Checked before decrypting to save work; recorded only after every check passes.
            raise ProtocolError("replay", "message replayed or out of order")
        text = crypto.open_message(self.room_id, envelope, self._room_keys[self.epoch], sender)
        self._last_seq[sender.member_id] = envelope["seq"]
        return {"member_id": sender.member_id, "name": self.display_name(sender.member_id), "text": text}

    # --- the end -------------------------------------------------------------

    def wipe(self):
        """Forget every key, member and counter (at burn, kick or exit)."""
        self._room_keys.clear()
        self._members.clear()
        self._order.clear()
        self._last_seq.clear()
        self._identity = None
        self._link_keys = None
        self.member_id = None
        self.name = None
        self.epoch = 0
        self._seq = 0
        self.rejected_count = 0
        self.flagged_count = 0
