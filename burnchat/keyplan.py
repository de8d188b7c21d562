"""Who makes the next room key: the server's side of key epochs (PROTOCOL.md §5.1).

The server never sees a key. It knows, per member, the highest epoch the member
says it holds, and picks which member creates each epoch. In protocol v2 nobody
serves an old key: a member that lacks the key gets a new epoch from another
creator, so one creator cannot starve anyone. Pure code: `plan_key_request`
takes the room's members and the time.
"""

from dataclasses import dataclass, field

from .config import KEY_REQUEST_TIMEOUT_SECONDS

FAILURES_BEFORE_GIVING_UP = 2  # a recipient failing under this many creators is the broken one


@dataclass
class KeyRequest:
    """One outstanding request: `server` must create `epoch` for `recipients`."""

    epoch: int
    server: str
    recipients: tuple
    deadline: float
    delivered: bool = False
    missing: tuple = ()  # recipients that said `key_missing` for this epoch


@dataclass
class KeyState:
    """A room's key bookkeeping: current epoch, outstanding request, who failed."""

    epoch: int = 0
    create_asked: bool = False
    request: KeyRequest | None = None
    passed_over: set = field(default_factory=set)  # creators that failed this round
    failed: dict = field(default_factory=dict)      # recipient -> creators it failed under
    given_up: set = field(default_factory=set)      # recipients whose client is broken
    preferred: str | None = None                    # the kicking admin makes the next epoch
    relink: dict | None = None                      # {"epoch", "by"}: the link changed in that epoch

    def to_dict(self):
        """Plain JSON-ready data (sets become sorted lists)."""
        request = None if self.request is None else {
            **self.request.__dict__, "recipients": list(self.request.recipients),
            "missing": list(self.request.missing)}
        return {"epoch": self.epoch, "create_asked": self.create_asked, "request": request,
                "passed_over": sorted(self.passed_over), "given_up": sorted(self.given_up),
                "failed": {k: sorted(v) for k, v in self.failed.items()},
                "preferred": self.preferred, "relink": self.relink}

    @classmethod
    def from_dict(cls, data):
        """The inverse of to_dict."""
        request = data["request"]
        if request is not None:
            request = KeyRequest(**{**request, "recipients": tuple(request["recipients"]),
                                    "missing": tuple(request["missing"])})
        return cls(epoch=data["epoch"], create_asked=data["create_asked"], request=request,
                   passed_over=set(data["passed_over"]), given_up=set(data["given_up"]),
                   failed={k: set(v) for k, v in data["failed"].items()},
                   preferred=data["preferred"], relink=data.get("relink"))

    def new_epoch(self, membership_changed=True):
        """Move to a fresh epoch: every member needs the new key, nobody has made it yet."""
        self.epoch += 1
        self.create_asked = False
        self.request = None
        if membership_changed:
            # A broken client gets a fresh chance with the new member set.
            self.given_up.clear()
            self.failed.clear()

    def report_missing(self, member_id):
        """A recipient says it lacks the current epoch's key; True when that ends the wait."""
        request = self.request
        if request is None or not request.delivered or member_id not in request.recipients \
                or member_id in self.given_up or member_id in request.missing:
            return False
        request.missing = request.missing + (member_id,)
        return True


@dataclass
class Plan:
    """What the server must do now: maybe ask a creator, naming a creator passed over."""

    request: KeyRequest | None = None
    passed_over: str | None = None


def plan_key_request(keys, members, now):
    """Decide the next key request for a room.

    `members` is the room's members in join order, each with `member_id`,
    `held_epoch` and `away`. Away members (their socket dropped, their seat kept)
    are keyed like the others - their blobs wait for them - but nobody waits on
    them and none of them is asked to create. Mutates `keys` and returns a Plan.
    """
    plan = Plan()
    by_id = {m.member_id: m for m in members}
    present = [m for m in members if not m.away]
    request = keys.request
    if request is not None:
        if request.server in by_id and not request.missing \
                and not _settled(request, by_id, keys.given_up) and now < request.deadline:
            return plan
        plan.passed_over = _close_request(keys, request, by_id)
    if not present or not _needers(keys, present):
        return plan
    if keys.epoch == 0 or keys.create_asked:
        keys.new_epoch(membership_changed=False)  # one epoch, one key: never ask twice
    creator = _creator(present, keys)
    keys.create_asked = True
    keys.preferred = None
    keys.request = KeyRequest(keys.epoch, creator.member_id,
                              tuple(m.member_id for m in members if m is not creator),
                              now + KEY_REQUEST_TIMEOUT_SECONDS)
    plan.request = keys.request
    return plan


def _needers(keys, members):
    """Members that lack the current epoch's key and are not given up on."""
    wanted = max(keys.epoch, 1)  # epoch 0 means no key yet: everyone needs one
    return [m for m in members if m.held_epoch < wanted and m.member_id not in keys.given_up]


def _creator(members, keys):
    """The kicking admin, else the earliest holder of the newest key, else the earliest member;
    creators passed over this round are skipped while anyone else is left."""
    candidates = [m for m in members if m.member_id not in keys.passed_over]
    if not candidates:
        keys.passed_over.clear()  # everyone failed once: start the round again
        candidates = members
    preferred = next((m for m in candidates if m.member_id == keys.preferred), None)
    if preferred is not None:
        return preferred
    newest = max(m.held_epoch for m in candidates)
    return next(m for m in candidates if m.held_epoch == newest)


def _settled(request, by_id, given_up=()):
    """True once every recipient still present (and not given up) holds the requested epoch."""
    return request.delivered and all(
        by_id[r].held_epoch >= request.epoch
        for r in request.recipients if r in by_id and r not in given_up and not by_id[r].away)


def _close_request(keys, request, by_id):
    """End a finished or failed request; returns the creator passed over, if any."""
    keys.request = None
    if _settled(request, by_id, keys.given_up):
        keys.passed_over.clear()
        keys.failed.clear()
        return None
    if request.server not in by_id:
        return None  # the creator left: its removal already started a new epoch
    unkeyed = [r for r in request.recipients if r in by_id and r not in keys.given_up
               and not by_id[r].away and by_id[r].held_epoch < request.epoch]
    if request.delivered:
        for recipient in unkeyed:
            keys.failed.setdefault(recipient, set()).add(request.server)
            if len(keys.failed[recipient]) >= FAILURES_BEFORE_GIVING_UP:
                keys.given_up.add(recipient)  # it failed under two creators: its client is broken
        if all(r in keys.given_up for r in unkeyed):
            return None
    keys.passed_over.add(request.server)
    keys.create_asked = True  # the next plan moves to a new epoch with another creator
    return request.server
