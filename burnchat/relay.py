"""Relaying message envelopes to a room, with each member's send budget (PROTOCOL.md §6).

The relay also remembers, briefly, what it relayed in each room: a phone whose
socket died silently keeps being sent messages until the server notices (up to
the ping timeout), and a member resuming says what it last got (§7.4).
"""

from collections import OrderedDict, deque

from .limits import TokenBucket
from .rooms import RoomError

RECENT_PER_ROOM = 64            # envelopes remembered per room
RECENT_BYTES_PER_ROOM = 256 * 1024
RECENT_BYTES_TOTAL = 64 * 1024 * 1024  # past this, nothing more is remembered until some expires


class _RoomLog:
    """One room's remembered envelopes (time, size, envelope), oldest first, and their total size."""

    __slots__ = ("entries", "size")

    def __init__(self):
        self.entries = deque()
        self.size = 0


class RecentLog:
    """The envelopes relayed in each room in the last `window` seconds, bounded (RAM only)."""

    def __init__(self, now, window):
        self._now = now
        self._window = window
        self._rooms = OrderedDict()  # room ID -> _RoomLog, oldest room first
        self._bytes = 0

    def add(self, room_id, envelope):
        """Remember one relayed envelope (its size is the relayed ciphertext's)."""
        self._expire()
        size = len(envelope["ct"]) + 200
        if self._window <= 0 or self._bytes + size > RECENT_BYTES_TOTAL:
            return
        log = self._rooms.pop(room_id, None) or _RoomLog()
        log.entries.append((self._now(), size, envelope))
        log.size += size
        self._bytes += size
        while len(log.entries) > RECENT_PER_ROOM or log.size > RECENT_BYTES_PER_ROOM:
            dropped = log.entries.popleft()[1]
            log.size -= dropped
            self._bytes -= dropped
        self._rooms[room_id] = log  # most recently used last

    def since(self, room_id, heads, exclude_sender):
        """Envelopes newer than `heads` ({sender: (epoch, seq)}) from anyone but `exclude_sender`.

        A sender missing from `heads` was never heard from: only what it sent in or after
        the newest epoch the member names is replayed (older ones it could not open anyway).
        """
        self._expire()
        floor = max((epoch for epoch, _ in heads.values()), default=0)
        replay = []
        log = self._rooms.get(room_id)
        for _, _, envelope in log.entries if log else ():
            sender, position = envelope["sender"], (envelope["epoch"], envelope["seq"])
            if sender == exclude_sender:
                continue
            if position > heads.get(sender, (floor, 0)):
                replay.append(envelope)
        return replay

    def forget(self, room_id):
        """The room burned: nothing of it stays."""
        log = self._rooms.pop(room_id, None)
        if log:
            self._bytes -= log.size

    def _expire(self):
        """Drop the rooms whose newest envelope is older than the window."""
        cutoff = self._now() - self._window
        while self._rooms:
            room_id, log = next(iter(self._rooms.items()))
            if log.entries and log.entries[-1][0] >= cutoff:
                break
            self.forget(room_id)


class Relay:
    """Checks the little the server can check of an envelope, then sends it to the others."""

    def __init__(self, courier):
        self.courier = courier
        self._buckets = {}  # sid -> the member's message TokenBucket (local to its socket)
        self.recent = RecentLog(courier.now, courier.config.resume_seconds)

    def open(self, sid):
        """A member joined on `sid`: give it a fresh send budget."""
        config = self.courier.config
        self._buckets[sid] = TokenBucket(self.courier.now, config.message_rate_per_second,
                                         config.message_burst)

    def close(self, sid):
        """The socket went away: forget its budget."""
        self._buckets.pop(sid, None)

    def send(self, sid, envelope):
        """Relay an envelope to every other member of the sender's room."""
        connection = self.courier.member_connection(sid)
        room = self.courier.room_or_error(connection.room_id)
        if envelope.sender != connection.member_id:
            raise RoomError("not_sender", "A message must carry your own member ID.")
        if envelope.epoch != room.keys.epoch:
            raise RoomError("stale_epoch", "The room moved to a new key; wait for it.")
        if connection.member_id not in room.members:
            raise RoomError("not_member", "Join the room first.")
        if not self._buckets[sid].take():
            raise RoomError("rate_limited", "Slow down: you are sending too fast.")
        wire = envelope.wire()
        self.courier.socketio.emit("message", wire, to=room.room_id, skip_sid=sid)
        self.recent.add(room.room_id, wire)
        if any(member.away for member in room.members.values()):
            with self.courier.store.edit(room.room_id) as editing:  # away members keep it
                if editing is not None:
                    self.courier.presence.buffer(editing, "message", wire)
