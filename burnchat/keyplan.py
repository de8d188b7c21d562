"""Who hands the room key to whom: the server's side of key epochs (PROTOCOL.md §5).

The server never sees a key. It only knows, per member, the highest epoch the
member says it holds, and decides which member should create or serve the key
next. Pure code: `plan_key_request` takes the room and the time.
"""

from dataclasses import dataclass, field

from .config import KEY_REQUEST_TIMEOUT_SECONDS


@dataclass
class KeyRequest:
    """One outstanding request: `server` must create or serve `epoch` for `recipients`."""

    epoch: int
    server: str
    create: bool
    recipients: tuple
    deadline: float
    delivered: bool = False


@dataclass
class KeyState:
    """A room's key bookkeeping: current epoch, outstanding request, members skipped."""

    epoch: int = 0
    create_asked: bool = False
    request: KeyRequest | None = None
    skipped: set = field(default_factory=set)   # members that failed to answer this round
    given_up: set = field(default_factory=set)  # recipients that never confirmed this epoch

    def to_dict(self):
        """Plain JSON-ready data (sets become sorted lists)."""
        request = None if self.request is None else {
            **self.request.__dict__, "recipients": list(self.request.recipients)}
        return {"epoch": self.epoch, "create_asked": self.create_asked, "request": request,
                "skipped": sorted(self.skipped), "given_up": sorted(self.given_up)}

    @classmethod
    def from_dict(cls, data):
        """The inverse of to_dict."""
        request = data["request"]
        if request is not None:
            request = KeyRequest(**{**request, "recipients": tuple(request["recipients"])})
        return cls(epoch=data["epoch"], create_asked=data["create_asked"], request=request,
                   skipped=set(data["skipped"]), given_up=set(data["given_up"]))

    def new_epoch(self):
        """Move to a fresh epoch: every member needs the new key, nobody has made it yet."""
        self.epoch += 1
        self.create_asked = False
        self.request = None
        self.given_up.clear()


@dataclass
class Plan:
    """What the server must do now: maybe announce a new epoch, maybe send a request."""

    rekey: bool = False
    request: KeyRequest | None = None


def plan_key_request(keys, members, now):
    """Decide the next key request for a room.

    `members` is the room's members in join order, each with `member_id` and
    `held_epoch`. Mutates `keys` and returns a Plan.
    """
    plan = Plan()
    by_id = {m.member_id: m for m in members}
    request = keys.request
    if request is not None:
        if request.server in by_id and not _settled(request, by_id, keys.given_up) \
                and now < request.deadline:
            return plan
        _close_request(keys, request, by_id, plan)
    wanted = max(keys.epoch, 1)  # epoch 0 means no key yet: everyone needs one
    needers = [m for m in members
               if m.held_epoch < wanted and m.member_id not in keys.given_up]
    if not needers:
        keys.skipped.clear()
        return plan
    holders = [m for m in members if keys.epoch and m.held_epoch == keys.epoch
               and m.member_id not in keys.skipped]
    if holders:
        keys.request = KeyRequest(keys.epoch, holders[0].member_id, False,
                                  tuple(m.member_id for m in needers),
                                  now + KEY_REQUEST_TIMEOUT_SECONDS)
    else:
        if keys.create_asked or keys.epoch == 0:
            keys.new_epoch()
            plan.rekey = True
        creator = _creator(members, keys.skipped)
        keys.create_asked = True
        keys.request = KeyRequest(keys.epoch, creator.member_id, True,
                                  tuple(m.member_id for m in members if m is not creator),
                                  now + KEY_REQUEST_TIMEOUT_SECONDS)
    plan.request = keys.request
    return plan


def _creator(members, skipped):
    """Who makes a new key: the earliest member among those holding the newest key
    (proven keyed members), else the earliest member; members that failed are passed over."""
    candidates = [m for m in members if m.member_id not in skipped] or members
    newest = max(m.held_epoch for m in candidates)
    return next(m for m in candidates if m.held_epoch == newest)


def _settled(request, by_id, given_up=()):
    """True once every recipient still present (and not given up) holds the requested epoch."""
    return request.delivered and all(
        by_id[r].held_epoch >= request.epoch
        for r in request.recipients if r in by_id and r not in given_up)


def _close_request(keys, request, by_id, plan):
    """End a finished or failed request, blaming whoever let it fail."""
    keys.request = None
    if _settled(request, by_id, keys.given_up):
        keys.skipped.clear()
        return
    present = [by_id[r] for r in request.recipients if r in by_id]
    confirmed = [m for m in present if m.held_epoch >= request.epoch]
    if not request.delivered or (present and not confirmed):
        # Nothing arrived, or nobody could open what did: the asked member failed.
        keys.skipped.add(request.server)
        if request.create:
            # Never let two different keys share one epoch number.
            keys.new_epoch()
            plan.rekey = True
        return
    for member in present:
        if member.held_epoch < request.epoch:
            keys.given_up.add(member.member_id)  # others could open it: this client is broken
