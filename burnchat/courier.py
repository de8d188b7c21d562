"""The blind courier: room lifecycle, membership and the burn, and the facade of its parts.

Socket handlers and views call into this; it talks to the store and emits
through Flask-SocketIO. It never sees a name, a plaintext or a key. Its parts
each own one concern: `keys` (key epochs, keys.py), `relay` (messages,
relay.py), `files` (file chunks, filerelay.py) and `admin` (PIN-holder actions, admin.py).
"""

import secrets
from dataclasses import dataclass

from .admin import AdminDesk, set_link, watch_room
from .config import PROTOCOL_VERSION
from .countdown import Countdowns
from .filerelay import FileRelay
from .heartbeat import Heartbeat
from .keys import KeyDistribution
from .limits import AddressLimiter, LiveRooms
from .presence import Presence
from .relay import Relay
from .rooms import Member, Room, RoomError, b64u_bytes, new_room_id
from .supervise import retrying


@dataclass(slots=True)  # one per socket: no per-instance __dict__ (docs/BENCHMARKS.md)
class Connection:
    """What the server knows about one socket: its address and what it joined."""

    address: str
    room_id: str | None = None
    member_id: str | None = None
    admin_of: str | None = None


class Courier:
    """Owns the rooms of one app and everything that happens to them."""

    def __init__(self, config, store, socketio, now):
        self.config = config
        self.store = store
        self.socketio = socketio
        self.now = now
        self.connections = {}
        self.process_id = secrets.token_hex(8)  # names this process in countdown leases
        # All of this process's countdowns, in one background task (countdown.py).
        self.countdowns = Countdowns(self, socketio.server.eio.create_event(),
                                     socketio.start_background_task, socketio.sleep)
        self.creation_limiter = AddressLimiter(now, config.room_creations_per_minute)
        self.connection_limiter = AddressLimiter(now, config.connections_per_minute)
        self.pin_limiter = AddressLimiter(now, config.pin_attempts_per_minute)
        self.join_limiter = AddressLimiter(now, config.joins_per_minute)  # counted per socket
        self.live_rooms = LiveRooms(config.rooms_per_address)
        self.keys = KeyDistribution(self)
        self.relay = Relay(self)
        self.files = FileRelay(self)
        self.admin = AdminDesk(self)
        self.presence = Presence(self)
        self.resume_limiter = AddressLimiter(now, config.connections_per_minute)

    # ---- rooms -------------------------------------------------------------------------

    def create_room(self, ttl_seconds, address, pin_salt, pin_verifier, join_key_hash=None):
        """Make a room and start its countdown. The PIN came as its salt and verifier (b64u,
        PROTOCOL.md §8.1): the creator's client made it, and nobody here ever sees it."""
        if not self.config.min_ttl_seconds <= ttl_seconds <= self.config.max_ttl_seconds:
            raise RoomError("invalid", f"ttl_seconds must be from {self.config.min_ttl_seconds} "
                                       f"to {self.config.max_ttl_seconds}.")
        self._check_room_capacity(address)
        if not self.creation_limiter.allow(address):
            raise RoomError("rate_limited", "Too many rooms created from your address. Slow down.")
        now = self.now()
        room = Room(room_id=new_room_id(), pin_salt=b64u_bytes(pin_salt),
                    pin_hash=b64u_bytes(pin_verifier), created_at=now,
                    expires_at=now + ttl_seconds, join_key_hash=join_key_hash,
                    owner=self.process_id if self.store.shared else None)
        self.store.add(room)
        self.live_rooms.add(address, room.room_id)
        self.start_countdown(room.room_id)
        return room

    def _check_room_capacity(self, address):
        """Refuse a new room while the server, or this address, holds as many live rooms as allowed."""
        if len(self.store) >= self.config.max_rooms:
            raise RoomError("busy", "Burn Chat is busy. Try again in a minute.")
        if self.live_rooms.full(address, lambda room_id: self.store.get(room_id) is not None):
            raise RoomError("rate_limited", "Your address has too many live rooms. Burn one first.")

    def start_countdown(self, room_id):
        """Run a room's countdown in this process."""
        self.countdowns.start(room_id)

    def owns(self, room):
        """True when this process runs the room's countdown."""
        return room.owner is None or room.owner == self.process_id

    def run_leases(self):
        """Shared stores only: this process's heartbeat, dead processes, lost rooms (heartbeat.py)."""
        Heartbeat(self).run()

    def adopt(self, room_id):
        """Run the countdown of a room whose owner died, unless it already runs here."""
        if room_id not in self.countdowns:
            self.start_countdown(room_id)

    def room_or_error(self, room_id):
        """The live room, or the one error for unknown and burned alike."""
        room = self.store.get(room_id) if room_id else None
        if room is None:
            raise RoomError("no_room", "This room doesn't exist or has burned.")
        return room

    def tick(self, room):
        """Tell a room the time (the countdown task calls this)."""
        self.to_room(room, "countdown", {"expires_at": _ms(room.expires_at), "now": _ms(self.now())})

    def burn(self, room_id, reason, defer=False):
        """Destroy a room: tell everyone, close their connections, forget everything.

        The room leaves the store at once, so nothing more can happen in it and it
        can never burn twice. With `defer`, the goodbyes go out from a background
        task so the caller's acknowledgement reaches its client first.
        """
        room = self.store.pop(room_id)
        self.relay.recent.forget(room_id)
        self.files.forget_room(room_id)
        self.presence.forget_room(room_id)
        if room is None:
            return False
        self.live_rooms.release(room_id)
        self.countdowns.cancel(room_id)
        if defer:
            self.socketio.start_background_task(self._destroy, room, reason)
        else:
            self._destroy(room, reason)
        return True

    def _destroy(self, room, reason):
        """Send `destroyed`, close every connection of the room, then wipe it."""
        self.to_room(room, "destroyed", {"reason": reason})
        self.socketio.sleep(0)  # let the goodbye go out before the disconnects
        sids = [m.sid for m in room.members.values() if m.sid is not None] + list(room.admin_sids)
        for sid in sids:
            connection = self.connections.get(sid)
            if connection is not None:
                connection.room_id = connection.member_id = connection.admin_of = None
            self.socketio.server.disconnect(sid, namespace="/")
        room.wipe()

    def lose_room(self, room_id):
        """Redis lost the room: tell this process's sockets in it, then close them.

        Every process does this for its own sockets, so nothing goes through the queue.
        """
        self.relay.recent.forget(room_id)
        self.files.forget_room(room_id)
        self.presence.forget_room(room_id)
        self.live_rooms.release(room_id)
        self.countdowns.cancel(room_id)
        sids = [sid for sid, c in self.connections.items() if room_id in (c.room_id, c.admin_of)]
        self.socketio.emit("destroyed", {"reason": "lost"}, to=[room_id, watch_room(room_id)],
                           ignore_queue=True)
        self.socketio.sleep(0)  # let the goodbye go out before the disconnects
        for sid in sids:
            connection = self.connections.get(sid)
            if connection is not None:
                connection.room_id = connection.member_id = connection.admin_of = None
            self.socketio.server.disconnect(sid, namespace="/", ignore_queue=True)

    def burn_all(self, reason):
        """Burn every room (process shutdown)."""
        for room_id in self.store.room_ids():
            self.burn(room_id, reason)

    # ---- connections and members --------------------------------------------------------

    def connect(self, sid, address):
        """Admit a new socket, or refuse it when the address or the server is over its limit."""
        if len(self.connections) >= self.config.max_connections:
            raise RoomError("busy", "Burn Chat is busy. Try again in a minute.")
        if not self.connection_limiter.allow(address):
            raise RoomError("rate_limited", "Too many connections from your address. Slow down.")
        self.connections[sid] = Connection(address)

    def disconnect(self, sid):
        """A socket went away: it leaves whatever it was in."""
        connection = self.connections.pop(sid, None)
        self.relay.close(sid)
        self.files.close(sid, connection)
        self.join_limiter.forget(sid)
        if connection is None:
            return
        try:
            self._forget(sid, connection)
        except Exception:  # the store is failing: retry in the background, or the member is a ghost
            self.socketio.start_background_task(
                retrying, self.socketio.sleep, self._forget, sid, connection)

    def _forget(self, sid, connection):
        """Take a closed socket's member and admin rights out of their rooms."""
        if connection.member_id:
            self.presence.drop(connection.room_id, connection.member_id, sid)
        if connection.admin_of:
            with self.store.edit(connection.admin_of) as room:
                if room is not None:
                    room.admin_sids.discard(sid)

    def join(self, sid, payload):
        """Add the socket's member to a room; returns the join ack."""
        connection = self.connections[sid]
        if connection.member_id:
            raise RoomError("already_joined", "This connection has already joined a room.")
        if not self.join_limiter.allow(sid):
            raise RoomError("rate_limited", "Too many joins on this connection. Slow down.")
        member = Member(payload.member_id, sid, payload.announcement(),
                        process=self.process_id, resume_hash=payload.resume_hash)
        with self.store.edit(payload.room) as room:
            self.check_live(room)
            room.check_join_key(payload.join_key)
            room.add_member(member, self.config.max_members_per_room)
            others = [m.public() for m in room.members.values() if m.member_id != member.member_id]
            connection.room_id, connection.member_id = room.room_id, member.member_id
            self.relay.open(sid)
            self.socketio.server.enter_room(sid, room.room_id, namespace="/")
            self.to_room(room, "member_joined", member.public(), skip_sid=sid)
            self.keys.new_epoch(room)
            self.room_state(room)
            self.keys.plan(room, skip_sid=sid)  # the newcomer learns the epoch from its ack
            return {"v": PROTOCOL_VERSION, "epoch": room.keys.epoch, "members": others,
                    **self.times(room), "locked": room.locked}

    def leave(self, sid):
        """The member asked to leave."""
        connection = self.member_connection(sid)
        room_id, member_id = connection.room_id, connection.member_id
        connection.room_id = connection.member_id = None
        self.socketio.server.leave_room(sid, room_id, namespace="/")
        self.remove(room_id, member_id, "left")

    def reannounce(self, sid, enc_name, mac):
        """A member's announcement under the new link (§5.6): kept for joiners, relayed to the room."""
        connection = self.member_connection(sid)
        with self.store.edit(connection.room_id) as room:
            self.check_live(room)
            member = room.members.get(connection.member_id)
            if member is None:  # removed meanwhile (on this process or another)
                raise RoomError("not_member", "Join the room first.")
            if not member.announce_due:
                raise RoomError("invalid", "The link hasn't changed since you announced yourself.")
            member.announcement = {**member.announcement, "enc_name": enc_name, "mac": mac}
            member.announce_due = False
            self.to_room(room, "member_announced", member.announcement, skip_sid=sid)

    def remove(self, room_id, member_id, reason, creator=None, relink=None):
        """Take a member out of a room and move the others to a new key epoch.

        `creator`, when given, is the member asked to make that epoch (a kicking admin);
        `relink` ({"hash", "by"}) changes the link in the same edit (admin.set_link).
        """
        self.remove_many(room_id, [member_id], reason, creator, relink)

    def remove_process(self, room_id, process_id):
        """A dead process's members leave a room together, with one rekey for those left.

        Their sockets are closed too, through the queue, in case that process lives on.
        """
        room = self.store.get(room_id)
        gone = [m for m in room.members.values() if m.process == process_id] if room else []
        leaving = [m.member_id for m in gone if not m.resume_hash]
        if leaving:
            self.remove_many(room_id, leaving, "disconnected")
        # Resumable members keep their seats here: they may come back through this process.
        self.presence.make_away(room_id, [m.member_id for m in gone if m.resume_hash])
        for member in gone:
            if member.sid is not None:
                self.socketio.server.disconnect(member.sid, namespace="/")

    def remove_many(self, room_id, member_ids, reason, creator=None, relink=None):
        """Take members out of a room and move the others to one new key epoch."""
        with self.store.edit(room_id) as room:
            gone = [m for m in member_ids if room is not None and room.remove_member(m) is not None]
            if not gone:
                return
            for member_id in gone:
                self.to_room(room, "member_left", {"member_id": member_id, "reason": reason})
                self.files.member_gone(room_id, member_id)
            if room.members:
                self.keys.new_epoch(room)
                room.keys.preferred = creator
                if relink is not None:
                    set_link(room, relink["hash"], relink["by"])
                self.keys.plan(room)
            else:
                room.keys.request = None
            self.room_state(room)

    # ---- helpers ------------------------------------------------------------------------

    def wake_countdown(self, room_id):
        """Make the room's countdown look at its expiry again at once (extend)."""
        self.countdowns.wake(room_id)

    def check_live(self, room):
        """Refuse when a room being edited is gone (unknown or burned alike)."""
        if room is None:
            raise RoomError("no_room", "This room doesn't exist or has burned.")

    def member_connection(self, sid):
        """The connection of a joined member, or an error."""
        connection = self.connections[sid]
        if not connection.member_id:
            raise RoomError("not_member", "Join the room first.")
        return connection

    def times(self, room):
        """Expiry, cap and server time for clients to sync their countdowns."""
        return {"expires_at": _ms(room.expires_at), "max_expires_at": _ms(room.max_expires_at),
                "now": _ms(self.now())}

    def room_state(self, room):
        """Tell members and admins the room's lock, count and expiry."""
        self.to_room(room, "room_state", {"locked": room.locked, "count": len(room.members),
                                           "expires_at": _ms(room.expires_at), "now": _ms(self.now())})

    def to_room(self, room, event, data, skip_sid=None):
        """Emit to the room's members and to admin pages watching it; away members keep it."""
        self.socketio.emit(event, data, to=[room.room_id, watch_room(room.room_id)], skip_sid=skip_sid)
        self.presence.buffer(room, event, data)

    def retire(self, sid):
        """A member's old socket, replaced by a resumed one: close it without a departure."""
        connection = self.connections.get(sid)
        if connection is not None:
            connection.room_id = connection.member_id = None
        self.socketio.server.disconnect(sid, namespace="/")


def _ms(seconds):
    """Seconds on the clock to integer milliseconds for the wire."""
    return int(seconds * 1000)
