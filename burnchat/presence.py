"""Away members and resuming: a dropped socket keeps its seat for a grace window (PROTOCOL.md §7.4).

A member that joined with a resume hash and whose socket closes without
`leave` becomes *away*: the room hears `member_away`, nothing is rekeyed, and
what the room says meanwhile is kept for it, bounded, in RAM (or in the shared
store, with the room). A new socket that proves the resume secret takes the
seat back and gets what it missed, in order. Past the window, or past the
buffer bound, the member leaves as if it had disconnected. The courier owns
one of these.
"""

import base64
import hashlib
import hmac
import itertools
import json

from .rooms import RoomError, b64u_bytes

# What an away member must not miss to pick up where it was (countdown and room
# state come fresh with the resume ack).
BUFFERED_EVENTS = frozenset({"message", "member_joined", "member_left", "member_away",
                             "member_back", "rekey", "room_key", "member_announced"})
NOT_RESUMABLE = "This seat can't be taken back - join the room again."


def proof_hash(proof):
    """b64u SHA-256 of a b64u resume secret (what the member record keeps)."""
    return base64.urlsafe_b64encode(hashlib.sha256(b64u_bytes(proof)).digest()).rstrip(b"=").decode()


class Presence:
    """Who is away, what they missed, and taking a seat back."""

    def __init__(self, courier):
        self.courier = courier
        self.socketio = courier.socketio
        # Window timers hold only a number: nothing of a room stays in a sleeping task's frame.
        self._timers = {}  # token -> (room ID, member ID)
        self._tokens = itertools.count(1)

    def drop(self, room_id, member_id, sid):
        """A member's socket closed without a goodbye: keep its seat, or let it go."""
        courier = self.courier
        window = courier.config.resume_seconds
        with courier.store.edit(room_id) as room:
            member = room.members.get(member_id) if room is not None else None
            if member is None or member.sid != sid:
                return  # gone already, or resumed on a newer socket
            if not member.resume_hash or window <= 0:
                until = None
            else:
                # Not to its own closing socket (its queue would never drain), not kept for itself.
                courier.to_room(room, "member_away", {"member_id": member_id}, skip_sid=sid)
                until = member.away_until = courier.now() + window
                member.sid, member.process = None, courier.process_id
        if until is None:
            courier.remove(room_id, member_id, "disconnected")
        else:
            token = next(self._tokens)
            self._timers[token] = (room_id, member_id)
            self.socketio.start_background_task(self._expire, token, until)

    def make_away(self, room_id, member_ids):
        """Members of a dead process become away here (their timers run in this process)."""
        for member_id in member_ids:
            room = self.courier.store.get(room_id)
            member = room.members.get(member_id) if room is not None else None
            if member is not None:
                self.drop(room_id, member_id, member.sid)

    def forget_room(self, room_id):
        """The room burned: its members' window timers have nothing left to do."""
        for token in [t for t, (r, _) in self._timers.items() if r == room_id]:
            del self._timers[token]

    def _expire(self, token, until):
        """At the end of the grace window, a member still away leaves (and the room rekeys)."""
        self.socketio.sleep(max(0.0, until - self.courier.now()) + 0.05)
        if token not in self._timers:
            return  # the room burned meanwhile
        room_id, member_id = self._timers.pop(token)
        room = self.courier.store.get(room_id)
        member = room.members.get(member_id) if room is not None else None
        if member is not None and member.away_until == until:
            self.courier.remove(room_id, member_id, "disconnected")

    def buffer(self, room, event, data):
        """Keep `event` for every away member of `room` (called inside the room's edit).

        A member whose buffer would pass its bound is let go: it has missed too much
        to pick up where it was, and must not hold the room's memory hostage.
        """
        if event not in BUFFERED_EVENTS:
            return
        size = len(json.dumps(data, separators=(",", ":")))
        overflow = [member.member_id for member in room.members.values()
                    if member.away and member.resume_hash and not self._keep(member, event, data, size)]
        self._let_go(room, overflow)

    def buffer_for(self, room, member, event, data):
        """Keep one event addressed to one away member only (its `room_key`)."""
        if member.resume_hash and not self._keep(member, event, data):
            self._let_go(room, [member.member_id])

    def _keep(self, member, event, data, size=None):
        """Add one event to an away member's buffer; False (and the buffer emptied) past its bound."""
        config = self.courier.config
        size = size or len(json.dumps(data, separators=(",", ":")))
        if len(member.buffer) >= config.resume_max_envelopes \
                or member.buffer_bytes + size > config.resume_max_bytes:
            member.buffer.clear()
            member.buffer_bytes = 0
            member.resume_hash = None  # no longer resumable; the caller lets it go
            return False
        member.buffer.append([event, data])
        member.buffer_bytes += size
        return True

    def _let_go(self, room, member_ids):
        """Members that missed too much leave the room (after the current edit)."""
        if member_ids:
            self.socketio.start_background_task(
                self.courier.remove_many, room.room_id, member_ids, "disconnected")

    def leave_by_proof(self, room_id, member_id, proof):
        """A closing page's beacon: with the member's resume secret, the member leaves now.

        The answer never says whether anything matched (the caller answers 204 either way).
        """
        room = self.courier.store.get(room_id)
        member = room.members.get(member_id) if room is not None else None
        expected = (member.resume_hash if member is not None else None) or "-" * 43
        if not hmac.compare_digest(proof_hash(proof), expected):
            return
        if member.sid is not None:
            self.courier.retire(member.sid)
        self.courier.remove(room_id, member_id, "left")

    def _replayed(self, room_id, member, heads):
        """What the relay sent to the member's dead socket before the server noticed it was
        dead (not yet in its buffer), as `message` events, oldest first."""
        kept = {(data["sender"], data["epoch"], data["seq"])
                for event, data in member.buffer if event == "message"}
        recent = self.courier.relay.recent.since(
            room_id, {sender: (epoch, seq) for sender, epoch, seq in heads}, member.member_id)
        return [["message", envelope] for envelope in recent
                if (envelope["sender"], envelope["epoch"], envelope["seq"]) not in kept]

    def resume(self, sid, payload):
        """A new socket proves a member's resume secret: it takes the seat back.

        Unknown room, unknown member, a member not resumable and a wrong proof are
        one and the same refusal, so it tells nothing about who is in a room.
        """
        courier = self.courier
        connection = courier.connections[sid]
        if connection.member_id:
            raise RoomError("already_joined", "This connection has already joined a room.")
        if not courier.join_limiter.allow(sid) or not courier.resume_limiter.allow(connection.address):
            raise RoomError("rate_limited", "Too many joins on this connection. Slow down.")
        with courier.store.edit(payload.room) as room:
            member = room.members.get(payload.member_id) if room is not None else None
            expected = (member.resume_hash if member is not None else None) or "-" * 43
            if not hmac.compare_digest(proof_hash(payload.proof), expected):
                raise RoomError("bad_resume", NOT_RESUMABLE)
            old_sid = member.sid
            missed = self._replayed(room.room_id, member, payload.heads) + member.buffer
            member.sid, member.away_until, member.process = sid, None, courier.process_id
            member.buffer, member.buffer_bytes = [], 0
            connection.room_id, connection.member_id = room.room_id, member.member_id
            courier.relay.open(sid)
            self.socketio.server.enter_room(sid, room.room_id, namespace="/")
            courier.to_room(room, "member_back", {"member_id": member.member_id}, skip_sid=sid)
            others = [m.public() for m in room.members.values() if m is not member]
            ack = {"epoch": room.keys.epoch, "members": others, "missed": missed,
                   "held": member.held_epoch, "locked": room.locked, **courier.times(room)}
        if old_sid is not None:  # its old socket is still half-open somewhere: close it
            courier.retire(old_sid)
        return ack
