"""The blind courier: room lifecycle, routing of opaque blobs, key requests and the burn.

Socket handlers and views call into this; it talks to the store and emits
through Flask-SocketIO. It never sees a name, a plaintext or a key.
"""

import secrets
from dataclasses import dataclass

from . import pins
from .countdown import run_countdown
from .keyplan import plan_key_request
from .limits import AddressLimiter, TokenBucket
from .rooms import Member, Room, RoomError, new_room_id


@dataclass
class Connection:
    """What the server knows about one socket: its address and what it joined."""

    address: str
    room_id: str | None = None
    member_id: str | None = None
    admin_of: str | None = None


def watch_room(room_id):
    """Socket.IO room of admin pages that watch a room without being members."""
    return f"watch:{room_id}"


class Courier:
    """Owns the rooms of one app and everything that happens to them."""

    def __init__(self, config, store, socketio, now):
        self.config = config
        self.store = store
        self.socketio = socketio
        self.now = now
        self.connections = {}
        self.process_id = secrets.token_hex(8)  # names this process in countdown leases
        self._buckets = {}  # sid -> the member's message TokenBucket (local to its socket)
        self._wakers = {}
        self.creation_limiter = AddressLimiter(now, config.room_creations_per_minute)
        self.connection_limiter = AddressLimiter(now, config.connections_per_minute)
        self.pin_limiter = AddressLimiter(now, config.pin_attempts_per_minute)

    # ---- rooms -------------------------------------------------------------------------

    def create_room(self, ttl_seconds, address, join_key_hash=None):
        """Make a room with a fresh PIN and start its countdown; returns (room, pin)."""
        if not self.config.min_ttl_seconds <= ttl_seconds <= self.config.max_ttl_seconds:
            raise RoomError("invalid", f"ttl_seconds must be from {self.config.min_ttl_seconds} "
                                       f"to {self.config.max_ttl_seconds}.")
        if len(self.store) >= self.config.max_rooms:
            raise RoomError("busy", "Burn Chat is busy. Try again in a minute.")
        if not self.creation_limiter.allow(address):
            raise RoomError("rate_limited", "Too many rooms created from your address. Slow down.")
        pin = pins.new_pin()
        salt, digest = pins.hash_pin(pin)
        now = self.now()
        room = Room(room_id=new_room_id(), pin_salt=salt, pin_hash=digest, created_at=now,
                    expires_at=now + ttl_seconds, join_key_hash=join_key_hash,
                    owner=self.process_id if self.store.shared else None)
        self.store.add(room)
        self.start_countdown(room.room_id)
        return room, pin

    def start_countdown(self, room_id):
        """Run a room's countdown in this process."""
        waker = self._wakers[room_id] = self.socketio.server.eio.create_event()
        self.socketio.start_background_task(run_countdown, self, room_id, waker)

    def countdown_ended(self, room_id, waker):
        """Forget a finished countdown's waker (a room burned elsewhere leaves none behind)."""
        if self._wakers.get(room_id) is waker:
            del self._wakers[room_id]

    def owns(self, room):
        """True when this process runs the room's countdown."""
        return room.owner is None or room.owner == self.process_id

    def run_leases(self):
        """Shared stores only: keep this process's lease alive and adopt rooms of dead processes."""
        while True:
            for room_id in self.store.renew_and_claim(self.process_id):
                if room_id not in self._wakers:
                    self.start_countdown(room_id)
            self.socketio.sleep(self.store.lease_renew_seconds)

    def room_or_error(self, room_id):
        """The live room, or the one error for unknown and burned alike."""
        room = self.store.get(room_id) if room_id else None
        if room is None:
            raise RoomError("no_room", "This room doesn't exist or has burned.")
        return room

    def tick(self, room):
        """Tell a room the time (the countdown task calls this)."""
        self._to_room(room, "countdown", {"expires_at": _ms(room.expires_at), "now": _ms(self.now())})

    def burn(self, room_id, reason, defer=False):
        """Destroy a room: tell everyone, close their connections, forget everything.

        The room leaves the store at once, so nothing more can happen in it and it
        can never burn twice. With `defer`, the goodbyes go out from a background
        task so the caller's acknowledgement reaches its client first.
        """
        room = self.store.pop(room_id)
        if room is None:
            return False
        waker = self._wakers.pop(room_id, None)
        if waker is not None:
            waker.set()
        if defer:
            self.socketio.start_background_task(self._destroy, room, reason)
        else:
            self._destroy(room, reason)
        return True

    def _destroy(self, room, reason):
        """Send `destroyed`, close every connection of the room, then wipe it."""
        self._to_room(room, "destroyed", {"reason": reason})
        self.socketio.sleep(0)  # let the goodbye go out before the disconnects
        sids = [m.sid for m in room.members.values()] + list(room.admin_sids)
        for sid in sids:
            connection = self.connections.get(sid)
            if connection is not None:
                connection.room_id = connection.member_id = connection.admin_of = None
            self.socketio.server.disconnect(sid, namespace="/")
        room.wipe()

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
        self._buckets.pop(sid, None)
        if connection is None:
            return
        if connection.member_id:
            self._remove(connection.room_id, connection.member_id, "disconnected")
        if connection.admin_of:
            with self.store.edit(connection.admin_of) as room:
                if room is not None:
                    room.admin_sids.discard(sid)

    def join(self, sid, payload):
        """Add the socket's member to a room; returns the join ack."""
        connection = self.connections[sid]
        if connection.member_id:
            raise RoomError("already_joined", "This connection has already joined a room.")
        member = Member(payload.member_id, sid, payload.announcement())
        with self.store.edit(payload.room) as room:
            self._check_live(room)
            room.check_join_key(payload.join_key)
            room.add_member(member, self.config.max_members_per_room)
            others = [m.public() for m in room.members.values() if m.member_id != member.member_id]
            connection.room_id, connection.member_id = room.room_id, member.member_id
            self._buckets[sid] = TokenBucket(self.now, self.config.message_rate_per_second,
                                             self.config.message_burst)
            self.socketio.server.enter_room(sid, room.room_id, namespace="/")
            self._to_room(room, "member_joined", member.public(), skip_sid=sid)
            self._new_epoch(room, skip_sid=sid)  # the newcomer learns the epoch from its ack
            self._room_state(room)
            self._plan_keys(room)
            return {"epoch": room.keys.epoch, "members": others, **self._times(room),
                    "locked": room.locked}

    def leave(self, sid):
        """The member asked to leave."""
        connection = self._member_connection(sid)
        room_id, member_id = connection.room_id, connection.member_id
        connection.room_id = connection.member_id = None
        self.socketio.server.leave_room(sid, room_id, namespace="/")
        self._remove(room_id, member_id, "left")

    def _remove(self, room_id, member_id, reason):
        """Take a member out of a room and move the others to a new key epoch."""
        with self.store.edit(room_id) as room:
            if room is None or room.remove_member(member_id) is None:
                return
            self._to_room(room, "member_left", {"member_id": member_id, "reason": reason})
            if room.members:
                self._new_epoch(room)
                self._plan_keys(room)
            else:
                room.keys.request = None
            self._room_state(room)

    # ---- keys and messages --------------------------------------------------------------

    def key_held(self, sid, epoch):
        """A member reports the epoch it now holds."""
        connection = self._member_connection(sid)
        with self.store.edit(connection.room_id) as room:
            self._check_live(room)
            if epoch != room.keys.epoch:
                raise RoomError("stale_epoch", "That is not the room's current key epoch.")
            room.members[connection.member_id].held_epoch = epoch
            self._plan_keys(room)

    def key_deliver(self, sid, payload):
        """A member answers its key_request: forward each blob to its recipient only."""
        connection = self._member_connection(sid)
        with self.store.edit(connection.room_id) as room:
            self._check_live(room)
            request = room.keys.request
            if request is None or request.server != connection.member_id \
                    or request.epoch != payload.epoch:
                raise RoomError("stale_epoch", "No key request for you at that epoch.")
            recipients = set(request.recipients)
            for blob in payload.blobs:
                if blob.sender != connection.member_id or blob.epoch != payload.epoch \
                        or blob.recipient not in recipients:
                    raise RoomError("invalid", "A key blob is not part of the request.")
            present = {r for r in recipients if r in room.members}
            addressed = [blob.recipient for blob in payload.blobs]
            if len(addressed) != len(set(addressed)) or (present and not addressed):
                raise RoomError("invalid", "Send one key blob for each listed member you accept.")
            # A member the sender refused (its announcement failed the link MAC) gets no key
            # this epoch; waiting on it would stall the room.
            room.keys.given_up.update(present - set(addressed))
            request.delivered = True
            if request.create:
                room.members[connection.member_id].held_epoch = request.epoch
            for blob in payload.blobs:
                target = room.members.get(blob.recipient)
                if target is not None:
                    self.socketio.emit("room_key", {
                        "epoch": blob.epoch, "from": blob.sender, "to": blob.recipient,
                        "wrapped": blob.wrapped, "sig": blob.sig}, to=target.sid)
            self._plan_keys(room)

    def relay(self, sid, envelope):
        """Relay a message envelope to every other member of the sender's room."""
        connection = self._member_connection(sid)
        room = self.room_or_error(connection.room_id)
        if envelope.sender != connection.member_id:
            raise RoomError("not_sender", "A message must carry your own member ID.")
        if envelope.epoch != room.keys.epoch:
            raise RoomError("stale_epoch", "The room moved to a new key; wait for it.")
        if connection.member_id not in room.members:
            raise RoomError("not_member", "Join the room first.")
        if not self._buckets[sid].take():
            raise RoomError("rate_limited", "Slow down: you are sending too fast.")
        self.socketio.emit("message", {
            "v": envelope.v, "epoch": envelope.epoch, "sender": envelope.sender,
            "seq": envelope.seq, "iv": envelope.iv, "ct": envelope.ct, "sig": envelope.sig},
            to=room.room_id, skip_sid=sid)

    def check_key_requests(self, room_id):
        """Re-plan after a key request's deadline (its watchdog calls this)."""
        with self.store.edit(room_id) as room:
            if room is not None:
                self._plan_keys(room)

    def _new_epoch(self, room, skip_sid=None):
        """A membership change: nobody may keep using the key of the old member set."""
        room.keys.new_epoch()
        self.socketio.emit("rekey", {"epoch": room.keys.epoch}, to=room.room_id, skip_sid=skip_sid)

    def _plan_keys(self, room):
        """Ask the right member to create or serve the room key, if anyone needs it."""
        plan = plan_key_request(room.keys, list(room.members.values()), self.now())
        if plan.rekey:
            self._to_members(room, "rekey", {"epoch": room.keys.epoch})
        request = plan.request
        if request is None:
            return
        server = room.members[request.server]
        self.socketio.emit("key_request", {"epoch": request.epoch, "create": request.create,
                                           "for": list(request.recipients)}, to=server.sid)
        self.socketio.start_background_task(self._key_watchdog, room.room_id, request)

    def _key_watchdog(self, room_id, request):
        """Wake after the request's deadline and hand the job on if it was not done."""
        self.socketio.sleep(max(0.0, request.deadline - self.now()) + 0.05)
        with self.store.edit(room_id) as room:
            if room is not None and room.keys.request == request:
                self._plan_keys(room)

    # ---- admin --------------------------------------------------------------------------

    def admin_auth(self, sid, room_id, pin):
        """Check a PIN; on success this one connection holds admin rights for the room."""
        connection = self.connections[sid]
        self.room_or_error(room_id)
        if not self.pin_limiter.allow(connection.address):
            raise RoomError("rate_limited", "Too many PIN attempts. Slow down.")
        with self.store.edit(room_id) as room:
            self._check_live(room)
            room.check_pin(pin, connection.address, self.now)  # a failure is kept even as it raises
            room.admin_sids.add(sid)
            connection.admin_of = room.room_id
            if connection.room_id != room.room_id:
                self.socketio.server.enter_room(sid, watch_room(room.room_id), namespace="/")
            return {"members": [m.public() for m in room.members.values()],
                    "locked": room.locked, **self._times(room)}

    def admin_room(self, sid):
        """The room this connection administers, or an error."""
        connection = self.connections[sid]
        room = self.store.get(connection.admin_of) if connection.admin_of else None
        if room is None or sid not in room.admin_sids:
            raise RoomError("not_admin", "Enter the admin PIN first.")
        return room

    def kick(self, sid, member_id):
        """Admin removes a member: it is told, disconnected, and the room rekeys."""
        room = self.admin_room(sid)
        member = room.members.get(member_id)
        if member is None:
            raise RoomError("not_member", "No such member in this room.")
        self.socketio.emit("kicked", {}, to=member.sid)
        connection = self.connections.get(member.sid)
        if connection is not None:
            connection.room_id = connection.member_id = None
        self.socketio.server.leave_room(member.sid, room.room_id, namespace="/")
        self._remove(room.room_id, member_id, "kicked")
        self.socketio.server.disconnect(member.sid, namespace="/")

    def lock(self, sid, locked):
        """Admin locks or unlocks the room for newcomers."""
        with self.store.edit(self.admin_room(sid).room_id) as room:
            self._check_live(room)
            room.locked = locked
            self._room_state(room)

    def extend(self, sid, seconds):
        """Admin adds time; every screen's countdown follows at once."""
        with self.store.edit(self.admin_room(sid).room_id) as room:
            self._check_live(room)
            room.extend(seconds, self.now())
            self._room_state(room)
        waker = self._wakers.get(room.room_id)
        if waker is not None:
            waker.set()
        return self._times(room)

    def burn_now(self, sid):
        """Admin burns the room immediately."""
        room = self.admin_room(sid)
        self.burn(room.room_id, "burned", defer=True)

    # ---- helpers ------------------------------------------------------------------------

    def _check_live(self, room):
        """Refuse when a room being edited is gone (unknown or burned alike)."""
        if room is None:
            raise RoomError("no_room", "This room doesn't exist or has burned.")

    def _member_connection(self, sid):
        """The connection of a joined member, or an error."""
        connection = self.connections[sid]
        if not connection.member_id:
            raise RoomError("not_member", "Join the room first.")
        return connection

    def _times(self, room):
        """Expiry, cap and server time for clients to sync their countdowns."""
        return {"expires_at": _ms(room.expires_at), "max_expires_at": _ms(room.max_expires_at),
                "now": _ms(self.now())}

    def _room_state(self, room):
        """Tell members and admins the room's lock, count and expiry."""
        self._to_room(room, "room_state", {"locked": room.locked, "count": len(room.members),
                                           "expires_at": _ms(room.expires_at), "now": _ms(self.now())})

    def _to_room(self, room, event, data, skip_sid=None):
        """Emit to the room's members and to admin pages watching it."""
        self.socketio.emit(event, data, to=[room.room_id, watch_room(room.room_id)], skip_sid=skip_sid)

    def _to_members(self, room, event, data):
        """Emit to the room's members only."""
        self.socketio.emit(event, data, to=room.room_id)


def _ms(seconds):
    """Seconds on the clock to integer milliseconds for the wire."""
    return int(seconds * 1000)
