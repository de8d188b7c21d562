"""One room's protocol state (docs/PROTOCOL.md §4-§6), mirroring static/js/protocol.js.

No network and no I/O: the caller feeds it server events and sends what it returns.
The epoch floor (§5.5) keeps a lying server from keeping members on a key that a
removed member, or a newcomer, should not have; the roster check (§5.3) refuses a
key made for a room other than the one this member sees; the transcript (§6.4-6.5)
shows what the relay dropped, reordered or showed differently to others.

Sending (§6.6): with `acks`, an envelope is pending until the caller reports the
server's answer (sent / refused); `prev` is the hash of our last acknowledged
envelope, so a refused one never leaves a hole in the chain receivers check. The
outbox and what is in flight live in sending.py, the accepted members and their shown
names in members.py, the reading of a resume ack in resume_state.py.
"""

import hmac
import time

from . import crypto, envelope, files
from .crypto import ProtocolError
from .epoch import create_epoch, open_epoch
from .keywatch import CONFIRM_SECONDS, KeyWatch  # noqa: F401 (CONFIRM_SECONDS: §5.5, for callers)
from .members import Members
from .receiving import HOLD_BACK_SECONDS, MAX_HELD_MESSAGES, HeldBack, check_envelope, should_hold  # noqa: F401
from .relink import LinkChange
from .resume_state import MAX_RESUME_HEADS, missed_events, new_resume_secret, read_resume_ack, resume_heads  # noqa: F401
from .sending import TRANSIENT_REFUSALS, Sending  # noqa: F401 (TRANSIENT_REFUSALS: §6.6, for callers)
from .transcript import Transcript, notice

KEY_MISSING_SECONDS = 3  # without a usable key, then `key_missing` (once per epoch)
DIGEST_INTERVAL_SECONDS = 5  # at most one digest this often (§6.5)
DIGEST_GRACE_SECONDS = 3  # how long a digest head may wait for its message
KICK_CONFIRM_SECONDS = 5  # the admin's "Removing..." turns into a warning after this


class RoomSession:
    """Who is in the room, which epoch we hold, and every check on what arrives."""

    def __init__(self, room_id, secret, now=time.monotonic, acks=False):
        """Bind the session to a room and derive the link keys and join key from the secret.

        `acks`: the caller reports every envelope's outcome with sent() / refused() (§6.6);
        without it every envelope counts as acknowledged when sealed (v2.0, no resending).
        """
        crypto.b64u_decode(room_id, crypto.ID_BYTES)
        self.room_id = room_id
        self._link_keys = crypto.derive_link_keys(secret, room_id)
        self._join_key, _ = crypto.derive_join_key(secret)
        self._now = now
        self._acks = bool(acks)
        self.max_file_bytes = files.DEFAULT_MAX_FILE_BYTES  # the biggest file body accepted
        self._reset()

    def _reset(self):
        """The state of a session that has not started (also what wipe() leaves)."""
        self._identity = None
        self.member_id = None
        self.name = None
        self.epoch = 0  # the highest epoch known: join ack, `rekey`, or a key held
        self.floor = 0  # the lowest epoch whose key may be used (§5.5)
        self.rejected_count = 0
        self.flagged_count = 0
        self._keys = None  # epoch.EpochKeys of the epoch held
        self._confirmed = False  # our confirm (§5.5) of the held epoch is sealed
        self._watch = KeyWatch(self._now)  # members silent under our keys, rekeys for no reason, two keys
        self._members = Members()  # accepted members in join order, the removed, the away (members.py)
        self._listed = False  # True once the join ack's members are in: later arrivals raise the floor
        self._held = HeldBack(self._now)  # messages under an epoch whose key is on its way (receiving.py)
        self._transcript = None
        self._passed_over = {}  # member_id -> times named in rekey.passed_over
        self._waiting = None  # (epoch, since) while no usable key is held
        self._missing_sent = set()  # epochs already reported with key_missing
        self._activity = False  # a text shown or sent since our last digest
        self._last_digest_at = None
        self._kicks = {}  # member_id -> (started, epoch held then)
        self._sending = Sending(self._acks)  # outbox, envelopes in flight, our acknowledged chain head (§6.6)
        self._resume = None  # the resume secret R (b64u), until wipe (§7.4)
        self._relink = LinkChange()  # a link change we make or await (relink.py, §5.6)

    # --- joining -----------------------------------------------------------

    def start(self, name):
        """Make this run's identity, member ID and resume secret; the `join` payload (with resume_hash, §7.4)."""
        self.name = crypto.validate_name(name)
        self._identity = crypto.generate_identity()
        self.member_id = crypto.random_id()
        self._members.self_member = crypto.self_member(self.member_id, self.name, self._identity)
        self._transcript = Transcript(self.member_id)
        announcement = crypto.seal_announcement(
            self._link_keys, self.room_id, self.member_id, self._identity, self.name
        )
        self._resume, resume_hash = new_resume_secret()
        return {"v": crypto.PROTOCOL_VERSION, "room": self.room_id, **announcement, "join_key": self._join_key,
                "resume_hash": resume_hash}

    def resume_payload(self):
        """The `resume` payload {room, member_id, proof, heads} for a new socket (§7.4).

        heads = [sender, epoch, seq] of the last envelope accepted from each other member heard
        from (at most MAX_RESUME_HEADS), so the server replays what went to the dead socket.
        not_ready before start or after wipe.
        """
        self._require_started()
        heads = resume_heads(self._transcript.last_accepted(), self.member_id, self._members)
        return {"room": self.room_id, "member_id": self.member_id, "proof": self._resume, "heads": heads}

    def resumed(self, ack):
        """Take the `resume` ack (§7.4); {"missed", "joined", "left"}.

        `missed` is the events to feed, in order, to the normal handlers (ack.missed, then a
        `rekey` to ack.epoch when no missed rekey reached it). Members the ack lists and no
        missed event explains are reconciled first under the normal floor rules: newcomers
        added (`joined`: members), the vanished removed (`left`: IDs). Every envelope still
        pending went out on the dropped socket: take_resendable() sends it again, unchanged.
        """
        self._require_started()
        if not self._listed:
            raise ProtocolError("not_ready", "resume before the join ack")
        if not isinstance(ack, dict) or not isinstance(ack.get("members"), list):
            raise ProtocolError("bad_encoding", "resume ack without members")
        missed, listing, joined_later, left_later = read_resume_ack(ack)
        joined, left = [], []
        for announcement in listing:
            member_id = announcement.get("member_id")
            if member_id in self._members or self._members.was_removed(member_id) or member_id in joined_later:
                continue
            member = self.add_member(announcement)
            if member is not None:
                joined.append(member)
        listed = {a.get("member_id") for a in listing}
        for member_id in list(self._members):
            if member_id not in listed and member_id not in left_later and self.remove_member(member_id):
                left.append(member_id)
        for announcement in listing:
            self._members.note_away(announcement)
        self._sending.resend_all()
        return {"missed": missed_events(missed, ack.get("epoch"), self.epoch), "joined": joined, "left": left}

    def mark_away(self, member_id):
        """`member_away`: its socket dropped; it keeps its seat and keys (members() shows it away)."""
        return self._members.mark_away(member_id)

    def mark_back(self, member_id):
        """`member_back`: it resumed. False if it was not away."""
        return self._members.mark_back(member_id)

    def joined(self, ack):
        """Take the join ack: the current epoch and the members already there; bad_version unless v is 2 (or absent)."""
        self._require_started()
        if not isinstance(ack, dict):
            raise ProtocolError("bad_encoding", "the join ack is not an object")
        if ack.get("v") is not None and ack.get("v") != crypto.PROTOCOL_VERSION:
            raise ProtocolError("bad_version", "the server speaks another protocol version")
        self.set_epoch(ack.get("epoch", 0))
        members = ack.get("members") if isinstance(ack.get("members"), list) else []
        for announcement in members:
            self.add_member(announcement)
        for announcement in members:
            if isinstance(announcement, dict) and isinstance(announcement.get("member_id"), str):
                self._members.note_away(announcement)
        self._members.add_self()
        self._listed = True
        self._note_waiting()

    @property
    def ready(self):
        """True while we hold a key of an epoch at or above the floor made for members all still here."""
        return (self._keys is not None and self._keys.epoch >= self.floor
                and all(m == self.member_id or m in self._members for m in self._keys.roster_ids))

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
        """Accept an announcement (MAC, name) or flag it; the Member or None (also while the link changes)."""
        self._require_started()
        if self._deferred(announcement):
            return None
        try:
            member = crypto.open_announcement(self._link_keys, self.room_id, announcement)
        except ProtocolError:
            self.flagged_count += 1
            return None
        if self._members.is_known(member.member_id):
            # The server refuses duplicate IDs, so a second claim on one could only swap keys
            # or bring back someone who was removed.
            self.flagged_count += 1
            return None
        self._members.add(member)
        self._watch.membership_changed()
        if self._listed:
            self._raise_floor()  # a newcomer must not get a key used before it came
        return member

    def member_announced(self, announcement):
        """`member_announced` (§5.6): a member's announcement under the new link; the member or None.

        A member we accept must keep its keys and name (else flagged); one we never accepted (its
        old announcement failed under our link) is taken like a newcomer.
        """
        self._require_started()
        return None if self._deferred(announcement) else self._announced(announcement)

    def _announced(self, announcement):
        """member_announced's check, with the link keys held now."""
        member_id = announcement.get("member_id") if isinstance(announcement, dict) else None
        known = self.member(member_id)
        if known is None:
            if member_id == self.member_id or self._members.was_removed(member_id):
                return None
            return self.add_member(announcement)
        try:
            opened = crypto.open_announcement(self._link_keys, self.room_id, announcement)
        except ProtocolError:
            opened = None
        if opened is not None and (opened.ecdh_pub, opened.sig_pub, opened.name) == (known.ecdh_pub, known.sig_pub, known.name):
            return known
        self.flagged_count += 1
        return None

    # --- changing the link (§5.6) ---------------------------------------------

    def prepare_relink(self):
        """The admin changes the link: (secret, join_key_hash); send the hash with admin_kick / admin_relink.

        Once a `rekey` names us, take_resendable() seals the secret in a `link` message and sent()
        answers {"relink": ...}. cancel_relink() if the server refuses. Needs `acks`.
        """
        self._require_started()
        if not self._acks:
            raise ProtocolError("not_ready")
        return self._relink.prepare([self.member_id, *self._members])

    def cancel_relink(self):
        """The server refused our admin_kick / admin_relink: the link stays as it was."""
        self._relink.cancel()

    def _adopt_link(self, secret):
        """Move to link secret `secret` -> {"secret", "announce": {enc_name, mac}} (send `announce`)."""
        self._link_keys = crypto.derive_link_keys(secret, self.room_id)
        self._join_key, _ = crypto.derive_join_key(secret)
        sealed = crypto.seal_announcement(self._link_keys, self.room_id, self.member_id, self._identity, self.name)
        joined = []
        for announcement in self._relink.take_deferred():
            known = self.member(announcement.get("member_id") if isinstance(announcement, dict) else None)
            member = self._announced(announcement)
            if member is not None and known is None:
                joined.append(member)
        return {"secret": secret, "announce": {"enc_name": sealed["enc_name"], "mac": sealed["mac"]}, "joined": joined}

    def _deferred(self, announcement):
        """While the link changes, an announcement waits to be checked under the new link (True); past the cap it is flagged."""
        if not self._relink.changing:
            return False
        if not self._relink.defer(announcement):
            self.flagged_count += 1
        return True

    def remove_member(self, member_id):
        """Forget a member who left; its ID is never accepted again."""
        if not isinstance(member_id, str) or member_id == self.member_id:
            return None
        member = self._members.remove(member_id)
        if member is not None:
            self._watch.membership_changed(member_id)
            self._raise_floor()  # nothing more under a key the removed member holds, rekey or not
        return member

    def _raise_floor(self):
        """A membership change: only a key newer than every epoch known may be used from now on."""
        self.floor = max(self.floor, self.epoch) + 1
        self._note_waiting()

    def member(self, member_id):
        """An accepted member (or self) by ID, or None."""
        return self._members.member(member_id)

    def members(self):
        """Accepted members and self in join order, look-alike duplicate names numbered by member ID (members.py, §4)."""
        return self._members.listing()

    def display_name(self, member_id):
        """The disambiguated name of a member (as members() shows it), or None."""
        return next((m["name"] for m in self.members() if m["member_id"] == member_id), None)

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
        epoch = event.get("epoch")
        newer = type(epoch) is int and self.epoch < epoch <= crypto.MAX_SAFE_INTEGER
        self.set_epoch(epoch)
        passed = event.get("passed_over")
        if newer:
            self._watch.rekey(passed)
            self._relink.note_rekey(epoch, event.get("relink"), self.member_id, lambda m: self.member(m) is not None)
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
        delivery, keys = create_epoch(self.room_id, epoch, self._identity, self.member_id, self._members.roster())
        self._require_current_roster(keys)
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
        if not isinstance(event.get("to"), str) or event.get("to") != self.member_id:
            raise ProtocolError("wrong_recipient", "the key is addressed to someone else")
        if not isinstance(event.get("from"), str) or event.get("from") not in self._members:
            raise ProtocolError("not_member", "the key is not from an accepted member")
        epoch = crypto.check_int(event.get("epoch"), "epoch")
        # The epoch we hold, again: checked in full, since a second valid key for it proves a split.
        again = self._keys is not None and epoch == self._keys.epoch and epoch >= self.floor
        if not again and (epoch < self.floor or epoch <= self.held_epoch):
            raise ProtocolError("bad_epoch", "the key is stale: a later change made it obsolete")
        keys = open_epoch(self.room_id, event, self._identity, self.member_id, self._members.roster())
        if again:
            self._second_key(keys)
        self._require_current_roster(keys)
        self._hold(keys)
        return epoch

    def _second_key(self, keys):
        """A valid key for the epoch we hold: the same one is a harmless copy, another proves a split (two_keys)."""
        held = self._keys
        if not hmac.compare_digest(held.authenticator, keys.authenticator):
            self._watch.two_keys(keys.creator_id, held.creator_id, keys.epoch)
        keys.wipe()
        raise ProtocolError("bad_epoch", "one epoch never has two keys: we keep ours")

    def _require_current_roster(self, keys):
        """A key whose roster is not exactly the members we accept now is stale (a later epoch comes): never held."""
        if set(keys.roster_ids) != {self.member_id, *self._members}:
            keys.wipe()
            raise ProtocolError("bad_epoch", "the members changed while the key was made or opened")

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
        self._confirmed = False
        self.epoch = max(self.epoch, keys.epoch)
        self._transcript.holding(keys.epoch)
        self._watch.held(keys.roster_ids, self.member_id)
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

    def _can_seal(self):
        """True when a new envelope may be sealed now: ready, nothing pending, the held epoch not refused as stale."""
        return self.ready and self._sending.can_seal_under(self._keys.epoch)

    def seal(self, text, me=False):
        """Envelope for `text` as our next message, pending with acks.

        not_ready while securing, while texts are queued, or (acks) while an envelope is pending: queue() it then.
        """
        envelope.check_text(text)
        if not self._can_seal() or not self._confirmed or self._sending.queued:
            raise ProtocolError("not_ready", "the room key is not held (or confirmed) yet, or another message is on its way")
        return self._seal_text(self._sending.item(text, me))

    def make_confirm(self):
        """Our `confirm` envelope (§5.5) for the held epoch, once: send it right after key_held.

        None once sealed, while securing, or (acks) while an older envelope is pending -
        take_resendable() makes it then. seal() is not_ready until it is sealed.
        """
        if not self._can_seal() or self._confirmed:
            return None
        self._confirmed = True
        return self._seal({"t": "confirm"}, "confirm")

    def _seal_text(self, item):
        """Seal a queued text (or a file's metadata, §6.7) under the held epoch."""
        if item.get("file"):
            return self._seal(item["file"], "file", item)
        body = envelope.text_body(item["text"], self._transcript.last_shown, item["me"])
        return self._seal(body, "text", item)

    def _seal(self, body, kind=None, item=None):
        """Seal any body in our chain of the held epoch, chained on our last acknowledged envelope (§6.6)."""
        kind = kind or body.get("t")
        epoch, chain = self._keys.epoch, self._keys.chains[self.member_id]
        sealed, digest = envelope.seal_message(
            self.room_id, epoch, chain, self._identity, self.member_id, self._sending.acked, body
        )
        entry = self._sending.track(sealed, digest, kind, item)
        self._transcript.sealed(epoch, sealed["seq"], digest)
        if not self._acks:
            self._acknowledge(entry)
        return sealed

    def _acknowledge(self, entry):
        """The server took `entry`: our chain head, our digest head and (a text) the `after` of our next."""
        sealed, digest = entry["envelope"], entry["hash"]
        epoch, seq = sealed["epoch"], sealed["seq"]
        text = self._sending.acknowledge(entry)
        self._transcript.sent(epoch, seq, digest)
        if not text:
            return None
        self._transcript.shown((self.member_id, epoch, seq))
        self._activity = True
        item = entry["item"]
        shown = {"local_id": item["local_id"], "text": item["text"], "me": item["me"], "epoch": epoch, "seq": seq}
        return {**shown, "file": item["file"]} if item.get("file") else shown

    def queue_file(self, body):
        """Queue a file's metadata body (files.PreparedFile) like a text; its local ID."""
        self._require_started()
        item = self._sending.file_item(body)
        self._sending.enqueue(item)
        return item["local_id"]

    def queue(self, text, me=False):
        """Queue a text (offline, securing or not); its local ID. take_resendable() seals it in order."""
        self._require_started()
        item = self._sending.item(text, me)
        self._sending.enqueue(item)
        return item["local_id"]

    def take_resendable(self):
        """What to send now, in order (§6.6).

        With acks at most one envelope, none while one is pending: a transiently refused one
        again (unchanged), or the next queued text sealed under the held epoch (a text refused
        as stale is sealed again this way). Without acks, every queued text at once.
        """
        if self._identity is None or not self.ready:
            return []
        if not self._acks:
            out = []
            if not self._confirmed:
                return out
            while self._sending.queued:
                out.append(self._seal_text(self._sending.next_queued()))
            return out
        resend = self._sending.resendable(self._keys.epoch)
        if resend.get("wait"):
            return []
        if "envelope" in resend:
            return [resend["envelope"]]
        if resend.get("digest_dropped"):
            self._activity = True  # a fresh digest replaces it
        if not self._can_seal():
            return []
        if not self._confirmed:
            return [self.make_confirm()]
        link = self._relink.body_for(self._keys.epoch, self._keys.roster_ids)
        if link is not None:
            return [self._seal(link, "link")]
        if not self._sending.queued:
            return []
        item = self._sending.next_queued()
        try:
            return [self._seal_text(item)]
        except ProtocolError:
            self._sending.enqueue(item, first=True)
            raise

    def sent(self, sealed):
        """The server acknowledged `sealed`; {local_id, text, me, epoch, seq} for a text, None otherwise."""
        entry = self._sending.take_sent(sealed)
        if entry is None:
            return None
        shown = self._acknowledge(entry)
        ours = self._relink.take_ours() if entry["kind"] == "link" else None
        return {"relink": self._adopt_link(ours)} if ours else shown

    def refused(self, sealed, code):
        """The server refused `sealed` with `code` ("offline" / "timeout" when no answer came).

        TRANSIENT_REFUSALS: the same envelope again later (state "retry"); stale_epoch: the
        text goes back to the front of the queue, sealed again under a newer epoch ("queued");
        anything else: "failed" with the code. None for a digest or an envelope not pending.
        """
        result, digest_dropped = self._sending.refused(sealed, code)
        if digest_dropped:
            self._activity = True  # a fresh digest replaces it
        return result

    def pending(self):
        """Our texts not acknowledged yet, in send order: [{local_id, text, me, state}]."""
        return self._sending.pending()

    @property
    def sent_count(self):
        """Our texts the server acknowledged."""
        return self._sending.sent_count

    def make_digest(self):
        """A digest envelope when one is due (§6.5: a text since the last, 5 s apart), else None."""
        if not self._can_seal() or self._sending.queued or not self._confirmed or not self._activity:
            return None
        now = self._now()
        if self._last_digest_at is not None and now - self._last_digest_at < DIGEST_INTERVAL_SECONDS:
            return None
        self._activity, self._last_digest_at = False, now
        return self._seal(envelope.digest_body(self._transcript.heads()), "digest")

    def pending_notices(self):
        """Notices whose wait ran out or that no message carries.

        Gaps for digest heads whose messages never came within the grace period; rekey_churn
        (rekeys for no reason) and two_keys (a second key for the epoch held); and
        {"kind": "unconfirmed", "member_ids", "names"} when a member of the held roster has been
        silent under every key we held for CONFIRM_SECONDS (once, until that member is heard).
        """
        if self._transcript is None:
            return []
        silent = self.unconfirmed()
        names = [self.display_name(member_id) for member_id in silent]
        return self._transcript.pending_notices(self._now()) + self._watch.notices(silent, names)

    def unconfirmed(self):
        """Member IDs of the held roster with no valid message under a key we held for CONFIRM_SECONDS (§5.5)."""
        if self._keys is None:
            return []
        return self._watch.silent(self._keys.roster_ids, self._members, self.member_id)

    def open(self, sealed):
        """Apply every §6.4 check; the result dict, None while held back, else count and raise.

        A text gives {member_id, name, text, me, late, out_of_order, notices}; a digest
        {digest: True, notices}; a typing body {typing: True, member_id, late, notices};
        a body of another type {unknown: True, notices}.
        """
        try:
            if self._should_hold(sealed):
                return self._held.hold(sealed)
            return self._open(sealed)
        except ProtocolError:
            self.rejected_count += 1
            raise

    def release_held(self):
        """Open the held messages whose key is here (in arrival order); reject and count stale or expired ones."""
        now = self._now()
        shown = []
        for sealed, deadline in self._held.take_all():
            if now >= deadline:
                self.rejected_count += 1  # its key never came in time
            elif self._should_hold(sealed):
                self._held.keep((sealed, deadline))
            else:
                try:
                    shown.append(self.open(sealed))
                except ProtocolError:
                    pass  # counted by open()
        return shown

    def _should_hold(self, sealed):
        """True for a message from a member under an epoch above the key held and not below the floor."""
        return should_hold(sealed, self._members, self.held_epoch, self.floor)

    def _open(self, sealed):
        """The §6.4 checks in order with the key held; the caller counts rejections."""
        env, sender, chain = check_envelope(sealed, self._members, self._keys, self.floor)
        seen = self._transcript.hash_of(sender.member_id, env["epoch"], env["seq"])
        if seen is not None and seen == envelope.envelope_hash(self.room_id, env):
            return {"unknown": True, "duplicate": True, "notices": []}  # a resend whose first copy arrived (§6.6)
        body, digest, late = envelope.open_message(self.room_id, env, chain, sender)
        self._watch.heard(sender.member_id)
        notices = self._transcript.received(sender.member_id, env["epoch"], env["seq"], env["prev"], digest, late)
        if body["t"] == "digest":
            heads = [h for h in body["heads"] if self.member(h[0]) is not None or self._members.was_removed(h[0])]
            notices += self._transcript.compare(sender.member_id, heads, self._now(), DIGEST_GRACE_SECONDS)
            return {"digest": True, "notices": notices}
        if body["t"] == "confirm":
            return {"confirm": True, "notices": notices}
        if body["t"] == "link":
            secret = self._relink.accept(sender.member_id, env["epoch"], body)
            if secret is None:
                return {"unknown": True, "notices": notices}
            return {"relink": self._adopt_link(secret), "member_id": sender.member_id,
                    "name": self.display_name(sender.member_id), "notices": notices}
        if body["t"] == "typing":  # §6.3: counted in the chain like any envelope, shown by nobody here
            return {"typing": True, "member_id": sender.member_id, "late": late, "notices": notices}
        if body["t"] == "file":
            meta = files.check_file_body(body, self.max_file_bytes)
            self._transcript.shown((sender.member_id, env["epoch"], env["seq"]), late=late)
            self._activity = True
            return {"member_id": sender.member_id, "name": self.display_name(sender.member_id),
                    "file": meta, "notices": notices}
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
        """Forget every key, member, held message, pending text, the resume secret and counter (burn, kick, exit).

        Returns the texts never acknowledged, [{local_id, text, me}], so the caller shows them failed.
        """
        failed = [{k: p[k] for k in ("local_id", "text", "me")} for p in self.pending()]
        if self._keys is not None:
            self._keys.wipe()
        self._members.clear()
        self._held.clear()
        self._link_keys = None
        self._join_key = None
        self._reset()
        return failed
