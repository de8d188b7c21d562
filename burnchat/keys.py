"""Key distribution: asking creators for each epoch's key and forwarding the blobs (PROTOCOL.md §5).

The courier owns one of these. It decides nothing itself (keyplan.py does) and
sees nothing of a key: it checks that a delivery is complete and routes each
blob to its one recipient.
"""

from .keyplan import plan_key_request
from .rooms import RoomError
from .supervise import retrying


class KeyDistribution:
    """Epochs, key requests, deliveries and their watchdogs for the courier's rooms."""

    def __init__(self, courier):
        self.courier = courier
        self.socketio = courier.socketio

    def new_epoch(self, room, membership_changed=True):
        """A membership (or link) change: nobody may keep using the key of the old epoch."""
        room.keys.new_epoch(membership_changed)

    def plan(self, room, skip_sid=None):
        """Ask the right member to create the room key, if anyone needs it.

        Each creation is one new epoch, announced to the members (not `skip_sid`,
        a joiner that learns the epoch from its ack) with its creator.
        """
        plan = plan_key_request(room.keys, list(room.members.values()), self.courier.now())
        request = plan.request
        if request is None:
            return
        relink = room.keys.relink
        rekey = {"epoch": request.epoch, "creator": request.server,
                 "passed_over": plan.passed_over,
                 "relink": relink["by"] if relink and relink["epoch"] == request.epoch else None}
        self.socketio.emit("rekey", rekey, to=room.room_id, skip_sid=skip_sid)
        self.courier.presence.buffer(room, "rekey", rekey)
        creator = room.members[request.server]
        self.socketio.emit("key_request", {"epoch": request.epoch, "for": list(request.recipients)},
                           to=creator.sid)
        self.socketio.start_background_task(
            retrying, self.socketio.sleep, self._watchdog, room.room_id, request)

    def held(self, sid, epoch):
        """A member reports the epoch it now holds."""
        connection = self.courier.member_connection(sid)
        with self.courier.store.edit(connection.room_id) as room:
            self.courier.check_live(room)
            if epoch != room.keys.epoch:
                raise RoomError("stale_epoch", "That is not the room's current key epoch.")
            room.members[connection.member_id].held_epoch = epoch
            self.plan(room)

    def missing(self, sid, epoch):
        """A member says it still lacks the current key: the creator is passed over at once."""
        connection = self.courier.member_connection(sid)
        with self.courier.store.edit(connection.room_id) as room:
            self.courier.check_live(room)
            if epoch != room.keys.epoch:
                raise RoomError("stale_epoch", "That is not the room's current key epoch.")
            if room.keys.report_missing(connection.member_id):
                self.plan(room)

    def deliver(self, sid, payload):
        """The creator answers its key_request: forward each blob to its recipient only."""
        connection = self.courier.member_connection(sid)
        with self.courier.store.edit(connection.room_id) as room:
            self.courier.check_live(room)
            request = room.keys.request
            if request is None or request.server != connection.member_id \
                    or request.epoch != payload.epoch or request.delivered:
                raise RoomError("stale_epoch", "No key request for you at that epoch.")
            _check_delivery(payload, connection.member_id, request, room.members)
            request.delivered = True
            room.members[connection.member_id].held_epoch = request.epoch
            shared = {"epoch": payload.epoch, "from": connection.member_id,
                      "roster": payload.roster, "line_macs": payload.line_macs,
                      "commit_sig": payload.commit_sig}
            for blob in payload.blobs:
                target = room.members.get(blob.recipient)
                if target is None:
                    continue
                event = {**shared, "to": blob.recipient, "wrapped": blob.wrapped, "sig": blob.sig}
                if target.away:
                    self.courier.presence.buffer_for(room, target, "room_key", event)
                else:
                    self.socketio.emit("room_key", event, to=target.sid)
            self.plan(room)

    def check_requests(self, room_id):
        """Re-plan after a key request's deadline."""
        with self.courier.store.edit(room_id) as room:
            if room is not None:
                self.plan(room)

    def _watchdog(self, room_id, request):
        """Wake after the request's deadline and hand the job on if it was not done."""
        self.socketio.sleep(max(0.0, request.deadline - self.courier.now()) + 0.05)
        with self.courier.store.edit(room_id) as room:
            if room is not None and room.keys.request == request:
                self.plan(room)


def _check_delivery(payload, creator_id, request, members):
    """A delivery keys every listed recipient still present, once, and no one else (§5.1.4)."""
    if creator_id not in payload.roster:
        raise RoomError("invalid", "The roster must include its creator.")
    addressed = [blob.recipient for blob in payload.blobs]
    if len(addressed) != len(set(addressed)) or not set(addressed) <= set(request.recipients):
        raise RoomError("invalid", "A key blob is not part of the request.")
    unkeyed = {r for r in request.recipients if r in members} - set(addressed)
    if unkeyed:
        raise RoomError("invalid", "Send one key blob for every listed member.")
