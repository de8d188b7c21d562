"""An in-memory stand-in for the server's courier, to drive several RoomSessions in tests.

It is honest by default; a test plays the malicious relay by calling the pieces
(announcements, rekey, room_key events, envelopes) selectively.
"""

from burnchat.client import crypto
from burnchat.client.session import RoomSession

ANNOUNCEMENT_KEYS = ("member_id", "ecdh_pub", "sig_pub", "enc_name", "mac")


def announcement_of(join_payload):
    """The announcement part of a join payload (what the server relays)."""
    return {k: join_payload[k] for k in ANNOUNCEMENT_KEYS}


def room_key_events(delivery, creator_id):
    """What the server sends each recipient of a `key_deliver` (§5.3): to_id -> `room_key` event."""
    shared = {k: delivery[k] for k in ("epoch", "roster", "line_macs", "commit_sig")}
    return {blob["to"]: {**shared, "from": creator_id, **blob} for blob in delivery["blobs"]}


class Clock:
    """A hand-moved monotonic clock (seconds) for the session's timers."""

    def __init__(self, start=100.0):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds):
        """Move time forward."""
        self.now += seconds


class Room:
    """Sessions joined in order, keyed like an honest server would key them (§5.1)."""

    def __init__(self, names=(), secret=None, room_id=None, now=None):
        self.room_id = room_id or crypto.random_id()
        self.secret = secret or crypto.random_id()
        self.now = now
        self.sessions = {}
        self.announcements = {}
        self.epoch = 0
        for name in names:
            self.join(name)

    def join(self, name, key=None, now=None):
        """A member joins: a new epoch, the ack with everyone before it, member_joined and rekey to the others."""
        clock = now or self.now
        session = RoomSession(self.room_id, self.secret, **({"now": clock} if clock else {}))
        ann = announcement_of(session.start(name))
        self.epoch += 1
        session.joined({"epoch": self.epoch, "members": list(self.announcements.values())})
        for other in self.sessions.values():
            other.add_member(ann)
            other.on_rekey({"epoch": self.epoch, "creator": None, "passed_over": None})
        key = key or name
        self.sessions[key] = session
        self.announcements[key] = ann
        return session

    def __getitem__(self, key):
        return self.sessions[key]

    def by_id(self, member_id):
        """The session of a member ID."""
        return next(s for s in self.sessions.values() if s.member_id == member_id)

    def request(self, creator_key, epoch=None):
        """Ask `creator_key` to make `epoch` (the current one by default); its `key_deliver` payload."""
        creator = self.sessions[creator_key]
        others = [s.member_id for k, s in self.sessions.items() if k != creator_key]
        return creator.answer_key_request({"epoch": epoch or self.epoch, "for": others})

    def rekey(self, creator_key, confirm=True):
        """`creator_key` makes the current epoch (a new epoch if it is already held); everyone accepts it (and confirms)."""
        if any(s.held_epoch == self.epoch for s in self.sessions.values()):
            self.epoch += 1
            for session in self.sessions.values():
                session.on_rekey({"epoch": self.epoch, "creator": None, "passed_over": None})
        delivery = self.request(creator_key)
        for to_id, event in room_key_events(delivery, self[creator_key].member_id).items():
            self.by_id(to_id).accept_room_key(event)
        if confirm:
            self.confirm_all()
        return delivery

    def confirm_all(self):
        """Everyone holding the current key sends its `confirm` (§5.5) to everyone else."""
        for key, session in self.sessions.items():
            sealed = session.make_confirm()
            if sealed is not None:
                session.sent(sealed)  # the server took it (a no-op without acks)
                for other_key, other in self.sessions.items():
                    if other_key != key:
                        other.open(sealed)

    def remove(self, key):
        """A member leaves: the others forget it (member_left) and move to a new epoch (caller rekeys)."""
        gone = self.sessions.pop(key)
        self.announcements.pop(key)
        self.epoch += 1
        for session in self.sessions.values():
            session.remove_member(gone.member_id)
            session.on_rekey({"epoch": self.epoch, "creator": None, "passed_over": None})
        return gone

    def send(self, sender_key, text, to=None):
        """`sender_key` sends `text`; relayed to `to` (default everyone else); {key: open result}."""
        sealed = self[sender_key].seal(text)
        targets = to if to is not None else [k for k in self.sessions if k != sender_key]
        return sealed, {k: self[k].open(sealed) for k in targets}
