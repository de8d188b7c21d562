"""Relaying message envelopes to a room, with each member's send budget (PROTOCOL.md §6)."""

from .limits import TokenBucket
from .rooms import RoomError


class Relay:
    """Checks the little the server can check of an envelope, then sends it to the others."""

    def __init__(self, courier):
        self.courier = courier
        self._buckets = {}  # sid -> the member's message TokenBucket (local to its socket)

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
        if any(member.away for member in room.members.values()):
            with self.courier.store.edit(room.room_id) as editing:  # away members keep it
                if editing is not None:
                    self.courier.presence.buffer(editing, "message", wire)
