"""An in-memory stand-in for the server's courier, to drive several RoomSessions in tests."""

from burnchat.client import crypto
from burnchat.client.session import RoomSession

ANNOUNCEMENT_KEYS = ("member_id", "ecdh_pub", "sig_pub", "enc_name", "mac")


def announcement_of(join_payload):
    """The announcement part of a join payload (what the server relays)."""
    return {k: join_payload[k] for k in ANNOUNCEMENT_KEYS}


class Room:
    """Sessions joined in order, keyed like the server would key them (§5)."""

    def __init__(self, names=(), secret=None, room_id=None):
        self.room_id = room_id or crypto.random_id()
        self.secret = secret or crypto.random_id()
        self.sessions = {}
        self.announcements = {}
        self.epoch = 0
        for name in names:
            self.join(name)

    def join(self, name, key=None, now=None):
        """A member joins: a new epoch (§5 rule 2), the ack with everyone before it, member_joined and rekey to the others."""
        session = RoomSession(self.room_id, self.secret, **({"now": now} if now else {}))
        ann = announcement_of(session.start(name))
        self.epoch += 1
        session.joined({"epoch": self.epoch, "members": list(self.announcements.values())})
        for other in self.sessions.values():
            other.add_member(ann)
            other.set_epoch(self.epoch)
        key = key or name
        self.sessions[key] = session
        self.announcements[key] = ann
        return session

    def __getitem__(self, key):
        return self.sessions[key]

    def rekey(self, creator_key):
        """`creator_key` creates the current epoch's key (a new epoch if it already has one); everyone accepts it."""
        if any(s.held_epoch == self.epoch for s in self.sessions.values()):
            self.epoch += 1
        for session in self.sessions.values():
            session.set_epoch(self.epoch)
        creator = self.sessions[creator_key]
        others = [s.member_id for k, s in self.sessions.items() if k != creator_key]
        delivery = creator.answer_key_request({"epoch": self.epoch, "create": True, "for": others})
        by_id = {s.member_id: s for s in self.sessions.values()}
        for blob in delivery["blobs"]:
            by_id[blob["to"]].accept_room_key(blob)
        return delivery

    def remove(self, key):
        """A member leaves: the others forget it (member_left) and move to a new epoch (caller rekeys)."""
        gone = self.sessions.pop(key)
        self.announcements.pop(key)
        self.epoch += 1
        for session in self.sessions.values():
            session.remove_member(gone.member_id)
            session.set_epoch(self.epoch)
        return gone
