"""A compromised server, one behaviour at a time (test-only; never imported by the app).

Each scenario replaces one method of the real courier's parts with what a
malicious or compromised server would do instead (issue 10's attack review).
The clients must notice every one of them on their own.
"""

from burnchat import admin, courier as courier_module
from burnchat.admin import AdminDesk
from burnchat.courier import Courier
from burnchat.keys import KeyDistribution
from burnchat.relay import Relay
from burnchat.rooms import RoomError


def _others(room, *exclude_sids):
    """Members of `room` not on the given sockets, in join order."""
    return [m for m in room.members.values() if m.sid not in exclude_sids]


def phantom_kick():
    """Ack the kick, tell only the admin, keep the member, and let someone else rekey."""
    def kick(self, sid, member_id, join_key_hash=None):
        courier = self.courier
        room = self.room(sid)
        if member_id not in room.members:
            raise RoomError("not_member", "No such member in this room.")
        self.socketio.emit("member_left", {"member_id": member_id, "reason": "kicked"}, to=sid)
        with courier.store.edit(room.room_id) as room:
            courier.keys.new_epoch(room)
            helper = next(m for m in _others(room, sid) if m.member_id != member_id)
            room.keys.preferred = helper.member_id  # a member who still sees the "kicked" one
            courier.keys.plan(room)
            return {"epoch": room.keys.epoch, "creator": True}  # and lie about who makes it
    AdminDesk.kick = kick


def phantom_kick_silent():
    """Ack the kick and tell the admin, and then do nothing at all."""
    def kick(self, sid, member_id, join_key_hash=None):
        room = self.room(sid)
        self.socketio.emit("member_left", {"member_id": member_id, "reason": "kicked"}, to=sid)
        return {"epoch": room.keys.epoch + 1, "creator": True}
    AdminDesk.kick = kick


def ghost(position=3):
    """The `position`-th joiner is announced to the earliest member only, who then keys it."""
    joins, ghosts = {}, set()
    real_join, real_to_room = Courier.join, Courier.to_room

    def join(self, sid, payload):
        joins[payload.room] = joins.get(payload.room, 0) + 1
        if joins[payload.room] == position:
            ghosts.add(payload.member_id)
            room = self.store.get(payload.room)
            if room is not None and room.members:
                room.keys.preferred = next(iter(room.members))
        return real_join(self, sid, payload)

    def to_room(self, room, event, data, skip_sid=None):
        if event == "member_joined" and data.get("member_id") in ghosts:
            first = next(iter(room.members.values()))
            self.socketio.emit(event, data, to=first.sid)
            return
        real_to_room(self, room, event, data, skip_sid)

    Courier.join, Courier.to_room = join, to_room


def drop(nth=2):
    """The `nth` message relayed to the room's newest member never reaches it.

    Only messages the newest member would get count (not its own): counting every
    message in the room would sometimes "drop" one the victim sent itself, which
    reaches everyone else, and then nothing at all would be dropped.
    """
    counts = {}

    def send(self, sid, envelope):
        room = self.courier.room_or_error(self.courier.member_connection(sid).room_id)
        victim = list(room.members.values())[-1]
        targets = _others(room, sid)
        if victim.sid != sid:
            counts[room.room_id] = counts.get(room.room_id, 0) + 1
            if counts[room.room_id] == nth:
                targets = [m for m in targets if m.sid != victim.sid]
        for member in targets:
            self.courier.socketio.emit("message", envelope.wire(), to=member.sid)
    Relay.send = send


def equivocate(window=0.3):
    """A colluding sender sends two versions of one message: the earliest other member gets
    the first, everybody else the second.

    The relay cannot know whether a second version will follow, so it holds every message
    for `window` seconds (everyone's, in order): if a second version under the same
    (sender, epoch, seq) comes meanwhile, the earliest other member gets the first and
    the rest the second, at the same moment; otherwise everyone gets the one there is.
    (Sending the first to everyone at once would let the later members see it, and then
    refuse the second as a replay: no one would see two versions.)
    """
    pending = {}  # (room ID, sender, epoch, seq) -> [first wire, second wire or None]

    def release(courier, room_id, sid, key):
        courier.socketio.sleep(window)
        first, second = pending.pop(key)
        room = courier.store.get(room_id)
        if room is None:
            return
        others = _others(room, sid)
        for index, member in enumerate(others):
            wire = first if index == 0 or second is None else second
            courier.socketio.emit("message", wire, to=member.sid)

    def send(self, sid, envelope):
        courier = self.courier
        room = courier.room_or_error(courier.member_connection(sid).room_id)
        key = (room.room_id, envelope.sender, envelope.epoch, envelope.seq)
        if key in pending:
            pending[key][1] = envelope.wire()
            return
        pending[key] = [envelope.wire(), None]
        courier.socketio.start_background_task(release, courier, room.room_id, sid, key)
    Relay.send = send


def split():
    """From the fourth member on, two creators make one epoch each for their half of the
    room, and nothing crosses between the halves."""
    second = {}  # room ID -> (epoch, second creator's member ID)
    real_plan = KeyDistribution.plan

    def halves(room):
        ids = list(room.members)
        return set(ids[: len(ids) // 2]), set(ids[len(ids) // 2:])

    def same_half(room, a, b):
        first, _ = halves(room)
        return (a in first) == (b in first)

    def plan(self, room, skip_sid=None):
        real_plan(self, room, skip_sid)
        request = room.keys.request
        if request is None or len(room.members) < 4 or request.delivered:
            return
        _, other_half = halves(room)
        creator = sorted(other_half, key=list(room.members).index)[0]
        second[room.room_id] = (request.epoch, creator)
        others = [m for m in room.members if m != creator]
        self.socketio.emit("key_request", {"epoch": request.epoch, "for": others},
                           to=room.members[creator].sid)

    def deliver(self, sid, payload):
        connection = self.courier.member_connection(sid)
        room = self.courier.store.get(connection.room_id)
        sender = connection.member_id
        if second.get(room.room_id) == (payload.epoch, sender):
            room.members[sender].held_epoch = payload.epoch
        else:
            request = room.keys.request
            if request is None or request.server != sender:
                raise RoomError("stale_epoch", "No key request for you at that epoch.")
            request.delivered = True
            room.members[sender].held_epoch = payload.epoch
        shared = {"epoch": payload.epoch, "from": sender, "roster": payload.roster,
                  "line_macs": payload.line_macs, "commit_sig": payload.commit_sig}
        for blob in payload.blobs:
            target = room.members.get(blob.recipient)
            if target is not None and same_half(room, sender, blob.recipient):
                self.socketio.emit("room_key", {**shared, "to": blob.recipient,
                                                "wrapped": blob.wrapped, "sig": blob.sig},
                                   to=target.sid)

    def send(self, sid, envelope):
        room = self.courier.room_or_error(self.courier.member_connection(sid).room_id)
        for member in _others(room, sid):
            if len(room.members) < 4 or same_half(room, envelope.sender, member.member_id):
                self.courier.socketio.emit("message", envelope.wire(), to=member.sid)

    KeyDistribution.plan, KeyDistribution.deliver, Relay.send = plan, deliver, send


def old_link_lives():
    """Ban: accept the new link, but keep admitting the old one, so the banned member walks back in."""
    real_set_link = admin.set_link

    def set_link(room, join_key_hash, by):
        kept = room.join_key_hash
        real_set_link(room, join_key_hash, by)
        room.join_key_hash = kept
    admin.set_link = set_link
    courier_module.set_link = set_link


SCENARIOS = {"phantom_kick": phantom_kick, "phantom_kick_silent": phantom_kick_silent,
             "ghost": ghost, "drop": drop, "equivocate": equivocate, "split": split,
             "old_link_lives": old_link_lives}


def install(name):
    """Turn the real server into the compromised one of scenario `name`."""
    SCENARIOS[name]()
