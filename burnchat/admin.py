"""Admin actions: claiming rights with the PIN, then kick, lock, extend and burn (PROTOCOL.md §7.1).

Admin rights belong to one connection (the room page of the creator, or the
admin page). The courier owns one of these.
"""

from .rooms import RoomError, b64u_bytes


def set_link(room, join_key_hash, by):
    """Only the new link admits from now on; every member re-announces under it (PROTOCOL.md §5.6).

    Called inside the room's edit, after its new epoch began: that epoch's `rekey`
    names `by`, the one member whose `link` message the others accept.
    """
    room.join_key_hash = join_key_hash
    room.keys.relink = {"epoch": room.keys.epoch, "by": by}
    for member in room.members.values():
        member.announce_due = True


def watch_room(room_id):
    """Socket.IO room of admin pages that watch a room without being members."""
    return f"watch:{room_id}"


class AdminDesk:
    """Everything a connection holding a room's PIN may do to that room."""

    def __init__(self, courier):
        self.courier = courier
        self.socketio = courier.socketio

    def auth(self, sid, room_id, proof):
        """Check a PIN's proof (§8.1); on success this one connection holds admin rights."""
        courier = self.courier
        connection = courier.connections[sid]
        courier.room_or_error(room_id)
        if not courier.pin_limiter.allow(connection.address):
            raise RoomError("rate_limited", "Too many PIN attempts. Slow down.")
        with courier.store.edit(room_id) as room:
            courier.check_live(room)
            # A failure is kept even as it raises.
            room.check_pin(b64u_bytes(proof), connection.address, courier.now)
            first_time = sid not in room.admin_sids
            room.admin_sids.add(sid)
            connection.admin_of = room.room_id
            if connection.room_id != room.room_id:
                self.socketio.server.enter_room(sid, watch_room(room.room_id), namespace="/")
            # The room is told someone holds the PIN now (a quiet line in the log), never who;
            # once per connection, so claiming again (a resumed page) says nothing new.
            if first_time:
                courier.to_room(room, "admin_joined", {}, skip_sid=sid)
            return {"members": [m.public() for m in room.members.values()],
                    "locked": room.locked, **courier.times(room)}

    def room(self, sid):
        """The room this connection administers, or an error."""
        connection = self.courier.connections[sid]
        room = self.courier.store.get(connection.admin_of) if connection.admin_of else None
        if room is None or sid not in room.admin_sids:
            raise RoomError("not_admin", "Enter the admin PIN first.")
        return room

    def kick(self, sid, member_id, join_key_hash=None):
        """Remove a member: it is told and disconnected, and the room moves to a new epoch.

        When the admin is a member of the room, its own client makes that epoch,
        so its page can see for itself that the new key leaves the member out.
        With `join_key_hash` the link changes in the same step (relink), so the
        kicked member's copy of the link admits nobody from then on.
        """
        courier = self.courier
        room = self.room(sid)
        member = room.members.get(member_id)
        if member is None:
            raise RoomError("not_member", "No such member in this room.")
        creator = self._own_member(sid, room, required=join_key_hash is not None)
        if join_key_hash is not None and member_id == creator:
            raise RoomError("invalid", "You can't ban yourself: only you would hold the new link.")
        if member.sid is not None:  # an away member has no socket (`to=None` would mean everyone)
            self.socketio.emit("kicked", {}, to=member.sid)
            connection = courier.connections.get(member.sid)
            if connection is not None:
                connection.room_id = connection.member_id = None
            self.socketio.server.leave_room(member.sid, room.room_id, namespace="/")
        relink = None if join_key_hash is None else {"hash": join_key_hash, "by": creator}
        courier.remove(room.room_id, member_id, "kicked", creator=creator, relink=relink)
        if member.sid is not None:
            self.socketio.server.disconnect(member.sid, namespace="/")
        return self._epoch_answer(room.room_id, creator)

    def relink(self, sid, join_key_hash):
        """Change the room's link: a new epoch made by the admin's client carries the new secret."""
        courier = self.courier
        room_id = self.room(sid).room_id
        with courier.store.edit(room_id) as room:
            courier.check_live(room)
            creator = self._own_member(sid, room, required=True)
            courier.keys.new_epoch(room, membership_changed=False)
            room.keys.preferred = creator
            set_link(room, join_key_hash, creator)
            courier.keys.plan(room)
        return self._epoch_answer(room_id, creator)

    def _own_member(self, sid, room, required):
        """The admin connection's member ID in `room`, or None (an /admin page); `required` refuses that."""
        admin = self.courier.connections[sid]
        member_id = admin.member_id if admin.room_id == room.room_id else None
        if required and member_id is None:
            raise RoomError("not_member", "Change the link from the room page: only a member can "
                                          "hand the new link to the others.")
        return member_id

    def _epoch_answer(self, room_id, creator):
        """The admin action's ack: the new epoch, and whether the admin's own client makes it."""
        room = self.courier.store.get(room_id)
        epoch = room.keys.epoch if room is not None else 0
        made_by_us = room is not None and room.keys.request is not None \
            and room.keys.request.server == creator
        return {"epoch": epoch, "creator": made_by_us}

    def lock(self, sid, locked):
        """Lock or unlock the room for newcomers."""
        courier = self.courier
        with courier.store.edit(self.room(sid).room_id) as room:
            courier.check_live(room)
            room.locked = locked
            courier.room_state(room)

    def extend(self, sid, seconds):
        """Add time; every screen's countdown follows at once."""
        courier = self.courier
        with courier.store.edit(self.room(sid).room_id) as room:
            courier.check_live(room)
            room.extend(seconds, courier.now())
            courier.room_state(room)
        courier.wake_countdown(room.room_id)
        return courier.times(room)

    def burn(self, sid):
        """Burn the room immediately."""
        self.courier.burn(self.room(sid).room_id, "burned", defer=True)
