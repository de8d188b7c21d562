"""One room's protocol state (docs/PROTOCOL.md §4-§6), mirroring static/js/protocol.js.

No network and no I/O: the caller feeds it server events and sends what it returns.
The epoch floor (§5.5) keeps a lying server from keeping members on a key that a
removed member, or a newcomer, should not have; the roster check (§5.3) refuses a
key made for a room other than the one this member sees; the transcript (§6.4-6.5)
shows what the relay dropped, reordered or showed differently to others.
"""

import time

from . import crypto, envelope
from .crypto import ProtocolError
from .epoch import create_epoch, open_epoch
from .transcript import Transcript, notice

MAX_HELD_MESSAGES = 64  # messages that may wait for their epoch's key (§5.5)
HOLD_BACK_SECONDS = 10  # and for how long
KEY_MISSING_SECONDS = 3  # without a usable key, then `key_missing` (once per epoch)
DIGEST_INTERVAL_SECONDS = 5  # at most one digest this often (§6.5)
DIGEST_GRACE_SECONDS = 3  # how long a digest head may wait for its message
KICK_CONFIRM_SECONDS = 5  # the admin's "Removing..." turns into a warning after this


class RoomSession:
    """Who is in the room, which epoch we hold, and every check on what arrives."""

    def __init__(self, room_id, secret, now=time.monotonic):
        """Bind the session to a room and derive the link keys and join key from the secret."""
        crypto.b64u_decode(room_id, crypto.ID_BYTES)
        self.room_id = room_id
        self._link_keys = crypto.derive_link_keys(secret, room_id)
        self._join_key, _ = crypto.derive_join_key(secret)
        self._now = now
        self._reset()

    def _reset(self):
        """The state of a session that has not started (also what wipe() leaves)."""
        self._identity = None
        self._self = None  # this client as a roster entry
        self.member_id = None
        self.name = None
        self.epoch = 0  # the highest epoch known: join ack, `rekey`, or a key held
        self.floor = 0  # the lowest epoch whose key may be used (§5.5)
        self.rejected_count = 0
        self.flagged_count = 0
        self._keys = None  # epoch.EpochKeys of the epoch held
        self._members = {}  # member_id -> crypto.Member, accepted, not self
        self._order = []  # member IDs in the server's join order, self included
        self._removed = set()  # member IDs that left or were removed: never accepted again
        self._listed = False  # True once the join ack's members are in: later arrivals raise the floor
        self._held = []  # [(envelope, deadline)]: messages under an epoch whose key is on its way
        self._transcript = None
        self._passed_over = {}  # member_id -> times named in rekey.passed_over
        self._waiting = None  # (epoch, since) while no usable key is held
        self._missing_sent = set()  # epochs already reported with key_missing
        self._activity = False  # a text shown or sent since our last digest
        self._last_digest_at = None
        self._kicks = {}  # member_id -> (started, epoch held then)

    # --- joining -----------------------------------------------------------

    def start(self, name):
        """Make this run's identity and member ID; the `join` payload."""
        self.name = crypto.validate_name(name)
        self._identity = crypto.generate_identity()
        self.member_id = crypto.random_id()
        self._self = crypto.self_member(self.member_id, self.name, self._identity)
        self._transcript = Transcript(self.member_id)
        announcement = crypto.seal_announcement(
            self._link_keys, self.room_id, self.member_id, self._identity, self.name
        )
        return {"v": crypto.PROTOCOL_VERSION, "room": self.room_id, **announcement, "join_key": self._join_key}

    def joined(self, ack):
        """Take the join ack: the current epoch and the members already there."""
        self._require_started()
        self.set_epoch(ack.get("epoch", 0))
        for announcement in ack.get("members", []):
            self.add_member(announcement)
        self._order.append(self.member_id)
        self._listed = True
        self._note_waiting()

    @property
    def ready(self):
        """True while we hold a key of an epoch at or above the floor, so we may send."""
        return self._keys is not None and self._keys.epoch >= self.floor

    @property
    def held_epoch(self):
        """The epoch of the key we hold, 0 for none."""
        return self._keys.epoch if self._keys else 0

    @property
    def held_count(self):
        """Messages held back until their epoch's key arrives."""
        return len(self._held)

    @property
    def identity(self):
        """This run's key pairs (public halves are in every announcement)."""
        return self._identity

    def _require_started(self):
        """Refuse work before start() or after wipe(): there are no keys to work with."""
        if self._identity is None:
            raise ProtocolError("not_ready", "the session is not started or was wiped")

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
        """Forget a member who left; its ID is never accepted again."""
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
        self._note_waiting()

    def member(self, member_id):
        """An accepted member (or self) by ID, or None."""
        return self._self if member_id == self.member_id and member_id else self._members.get(member_id)

    def members(self):
        """Accepted members and self in join order; look-alike duplicate names get (2), (3), ..."""
        seen, listing = {}, []
        for member_id in self._order:
            member = self.member(member_id)
            key = crypto.name_for_comparison(member.name)
            seen[key] = seen.get(key, 0) + 1
            shown = member.name if seen[key] == 1 else f"{member.name} ({seen[key]})"
            listing.append({"member_id": member_id, "name": shown, "fingerprint": member.fingerprint,
                            "is_self": member_id == self.member_id})
        return listing

    def display_name(self, member_id):
        """The disambiguated name of a member (as members() shows it), or None."""
        return next((m["name"] for m in self.members() if m["member_id"] == member_id), None)

    def _roster(self):
        """Self and every accepted member: what a key made or accepted now must commit to."""
        return [self._self, *self._members.values()]

    # --- epochs and keys (§5) ------------------------------------------------

    def set_epoch(self, epoch):
        """Learn the current epoch (join ack, `rekey`); epochs and the floor never go back."""
        if type(epoch) is int and 0 <= epoch <= crypto.MAX_SAFE_INTEGER:
            self.epoch = max(self.epoch, epoch)
            self.floor = max(self.floor, epoch)
            self._note_waiting()

    def on_rekey(self, event):
        """`rekey {epoch, creator, passed_over}`; {"passed_over_twice": the member} from the second pass-over."""
        event = event if isinstance(event, dict) else {}
        self.set_epoch(event.get("epoch"))
        passed = event.get("passed_over")
        if not isinstance(passed, str) or self.member(passed) is None:
            return {"passed_over_twice": None}
        self._passed_over[passed] = self._passed_over.get(passed, 0) + 1
        return {"passed_over_twice": self.member(passed) if self._passed_over[passed] >= 2 else None}

    def answer_key_request(self, request):
        """Make the requested epoch for every accepted member and hold it; the `key_deliver` payload."""
        self._require_started()
        epoch = request.get("epoch") if isinstance(request, dict) else None
        if type(epoch) is not int or not 1 <= epoch <= crypto.MAX_SAFE_INTEGER:
            raise ProtocolError("bad_epoch", "key request for an impossible epoch")
        if epoch < self.floor or epoch <= self.held_epoch:
            # One epoch never has two keys, and none from before a membership change.
            raise ProtocolError("bad_epoch", "a new epoch must be newer than the floor and the key held")
        delivery, keys = create_epoch(self.room_id, epoch, self._identity, self.member_id, self._roster())
        self._hold(keys)
        return delivery

    def accept_room_key(self, event):
        """Check a `room_key` event (§5.3) and hold its epoch; the epoch now held.

        Raises roster_mismatch with .detail = {unseen, left_out, differs} when the key
        was made for a room other than the one this member sees.
        """
        self._require_started()
        if not isinstance(event, dict):
            raise ProtocolError("bad_encoding", "room_key is not an object")
        if event.get("to") != self.member_id:
            raise ProtocolError("wrong_recipient", "the key is addressed to someone else")
        if event.get("from") not in self._members:
            raise ProtocolError("not_member", "the key is not from an accepted member")
        epoch = crypto.check_int(event.get("epoch"), "epoch")
        if epoch < self.floor or epoch <= self.held_epoch:
            raise ProtocolError("bad_epoch", "the key is stale: a later change made it obsolete")
        self._hold(open_epoch(self.room_id, event, self._identity, self.member_id, self._roster()))
        return epoch

    def drop_epoch(self, epoch):
        """Forget the epoch we just made when the server refused its delivery: nobody else holds it."""
        if self._keys is not None and self._keys.epoch == epoch and self._keys.creator_id == self.member_id:
            self._keys.wipe()
            self._keys = None
            self._note_waiting()

    def _hold(self, keys):
        """Hold a new epoch and drop every older epoch's chains."""
        if self._keys is not None:
            self._keys.wipe()
        self._keys = keys
        self.epoch = max(self.epoch, keys.epoch)
        self._note_waiting()

    def key_roster_ids(self):
        """IDs of the held key's roster, or None."""
        return self._keys.roster_ids if self._keys else None

    def safety_code(self):
        """{epoch, digits, qr} of the held key, or None."""
        if self._keys is None:
            return None
        return {"epoch": self._keys.epoch, "digits": self._keys.safety_code, "qr": self._keys.safety_qr}

    def _note_waiting(self):
        """Start (or restart, for a newer epoch) the key_missing timer while no usable key is held."""
        if self.ready or self._identity is None:
            self._waiting = None
            return
        target = max(self.epoch, self.floor)
        if self._waiting is None or self._waiting[0] != target:
            self._waiting = (target, self._now())

    def key_missing(self):
        """The epoch to report with `key_missing` after KEY_MISSING_SECONDS without a key, once; else None."""
        self._note_waiting()
        if self._waiting is None:
            return None
        epoch, since = self._waiting
        if epoch in self._missing_sent or self._now() - since < KEY_MISSING_SECONDS:
            return None
        self._missing_sent.add(epoch)
        return epoch

    # --- kicks (§5.5) ----------------------------------------------------------

    def kick_started(self, member_id):
        """The admin's `admin_kick` for `member_id` was acknowledged; its status starts as removing."""
        self._kicks[member_id] = (self._now(), self.held_epoch)

    def kick_status(self, member_id):
        """removed (we hold a newer key whose roster excludes them), removing, or unconfirmed after 5 s."""
        started, epoch_then = self._kicks[member_id]
        if self.ready and self.held_epoch > epoch_then and member_id not in self._keys.roster_ids:
            return "removed"
        return "removing" if self._now() - started < KICK_CONFIRM_SECONDS else "unconfirmed"

    # --- messages (§6) ---------------------------------------------------------

    def seal(self, text, me=False):
        """Envelope for `text` as our next message; not_ready while securing."""
        envelope.check_text(text)
        if not self.ready:
            raise ProtocolError("not_ready", "the room key is not held yet")
        body = envelope.text_body(text, self._transcript.last_shown, me)
        sealed = self._seal(body)
        self._transcript.shown((self.member_id, sealed["epoch"], sealed["seq"]))
        self._activity = True
        return sealed

    def _seal(self, body):
        """Seal any body in our chain of the held epoch and record its hash as our chain head."""
        epoch, chain = self._keys.epoch, self._keys.chains[self.member_id]
        sealed, digest = envelope.seal_message(
            self.room_id, epoch, chain, self._identity, self.member_id, self._transcript.prev(self.member_id), body
        )
        self._transcript.sent(epoch, sealed["seq"], digest)
        return sealed

    def make_digest(self):
        """A digest envelope when one is due (§6.5: a text since the last, 5 s apart), else None."""
        if not self.ready or not self._activity:
            return None
        now = self._now()
        if self._last_digest_at is not None and now - self._last_digest_at < DIGEST_INTERVAL_SECONDS:
            return None
        self._activity, self._last_digest_at = False, now
        return self._seal(envelope.digest_body(self._transcript.heads()))

    def pending_notices(self):
        """Gap notices for digest heads whose messages never came within the grace period."""
        if self._transcript is None:
            return []
        return self._transcript.pending_notices(self._now())

    def open(self, sealed):
        """Apply every §6.4 check; the result dict, None while held back, else count and raise.

        A text gives {member_id, name, text, me, late, out_of_order, notices}; a digest
        {digest: True, notices}; a body of another type {unknown: True, notices}.
        """
        try:
            if self._should_hold(sealed):
                return self._hold_back(sealed)
            return self._open(sealed)
        except ProtocolError:
            self.rejected_count += 1
            raise

    def release_held(self):
        """Open the held messages whose key is here (in arrival order); reject and count stale or expired ones."""
        now = self._now()
        waiting, self._held = self._held, []
        shown = []
        for sealed, deadline in waiting:
            if now >= deadline:
                self.rejected_count += 1  # its key never came in time
            elif self._should_hold(sealed):
                self._held.append((sealed, deadline))
            else:
                try:
                    shown.append(self.open(sealed))
                except ProtocolError:
                    pass  # counted by open()
        return shown

    def _should_hold(self, sealed):
        """True for a message from a member under an epoch above the key held and not below the floor."""
        if not isinstance(sealed, dict) or sealed.get("sender") not in self._members:
            return False
        epoch = sealed.get("epoch")
        return type(epoch) is int and self.held_epoch < epoch <= crypto.MAX_SAFE_INTEGER and epoch >= self.floor

    def _hold_back(self, sealed):
        """Keep a message until its key arrives (bounded); a full buffer rejects it."""
        if len(self._held) >= MAX_HELD_MESSAGES:
            raise ProtocolError("not_ready", "too many messages waiting for their key")
        self._held.append((sealed, self._now() + HOLD_BACK_SECONDS))
        return None

    def _open(self, sealed):
        """The §6.4 checks in order with the key held; the caller counts rejections."""
        env = envelope.check_envelope(sealed)
        sender = self._members.get(env["sender"])
        if sender is None:  # never ourselves: add_member refuses our own ID
            raise ProtocolError("not_member", "message from someone not accepted in the room")
        if env["epoch"] < self.floor or (self._keys and env["epoch"] != self.held_epoch):
            raise ProtocolError("bad_epoch", "message not under the current key")
        if not self._keys:
            raise ProtocolError("not_ready", "the current room key is not held yet")
        chain = self._keys.chains.get(sender.member_id)
        if chain is None:
            raise ProtocolError("not_member", "the sender is not in this epoch's roster")
        body, digest, late = envelope.open_message(self.room_id, env, chain, sender)
        notices = self._transcript.received(sender.member_id, env["epoch"], env["seq"], env["prev"], digest, late)
        if body["t"] == "digest":
            heads = [h for h in body["heads"] if self.member(h[0]) is not None or h[0] in self._removed]
            notices += self._transcript.compare(sender.member_id, heads, self._now(), DIGEST_GRACE_SECONDS)
            return {"digest": True, "notices": notices}
        if body["t"] != "text":
            return {"unknown": True, "notices": notices}
        out_of_order = self._transcript.out_of_order(body["after"])
        if self._transcript.shown((sender.member_id, env["epoch"], env["seq"]), late=late):
            notices.append(notice("reorder", sender.member_id))
        self._activity = True
        return {
            "member_id": sender.member_id, "name": self.display_name(sender.member_id), "text": body["text"],
            "me": body["me"], "late": late, "out_of_order": out_of_order, "notices": notices,
        }

    # --- the end -------------------------------------------------------------

    def wipe(self):
        """Forget every key, member, held message and counter (at burn, kick or exit)."""
        if self._keys is not None:
            self._keys.wipe()
        self._members.clear()
        self._held.clear()
        self._link_keys = None
        self._join_key = None
        self._reset()
