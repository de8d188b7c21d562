"""What the room's keys say about the relay (docs/PROTOCOL.md §5.5), mirroring static/js/keywatch.js.

Members not heard from under a key we hold, rekeys nothing explains, and two keys for one
epoch. Plain bookkeeping for session.py: no crypto, no I/O; time comes from `now`.
"""

CONFIRM_SECONDS = 5  # silence under the keys we hold before a member is "not heard from"
CHURN_REKEYS = 3  # rekeys with no membership change and nobody passed over...
CHURN_WINDOW_SECONDS = 30  # ...within this long: "The server keeps changing the room key for no reason"


def watch_notice(kind, member_id=None, count=None, other_id=None, **extra):
    """A notice in the transcript's shape ({"kind", "member_id", "count", "other_id"}) plus extra fields."""
    return {"kind": kind, "member_id": member_id, "count": count, "other_id": other_id, **extra}


class KeyWatch:
    """Silence per member across epochs, pointless rekeys, and second keys for an epoch held."""

    def __init__(self, now):
        """Start with nobody silent; `now` is the clock (seconds)."""
        self._now = now
        # member_id -> since when we hold a key whose roster has them without a valid message from
        # them under a key we hold. It survives new epochs: a relay that rekeys every few seconds
        # must not restart it.
        self._silent = {}
        self._noticed = set()  # members already named in an "unconfirmed" notice (until heard again)
        self._changed = True  # a membership change since the last rekey
        self._churn = []  # times of recent rekeys nothing explained
        self._churn_noticed = False
        self._queued = []  # notices for pending_notices()

    def held(self, roster_ids, me):
        """A key is held: its roster's members start being silent, unless they already were."""
        now = self._now()
        for member_id in [m for m in self._silent if m not in roster_ids]:
            del self._silent[member_id]
        for member_id in roster_ids:
            if member_id != me:
                self._silent.setdefault(member_id, now)

    def heard(self, member_id):
        """A valid message (any body) from `member_id` under the key we hold."""
        self._silent.pop(member_id, None)
        self._noticed.discard(member_id)

    def membership_changed(self, member_id=None):
        """A member joined or left (`member_id`: who left): the next rekey has a reason."""
        self._changed = True
        if member_id is not None:
            self.heard(member_id)  # gone: nothing more to hear

    def rekey(self, passed_over=None):
        """`rekey` to a newer epoch: one with no membership change and nobody passed over counts."""
        reason = self._changed or isinstance(passed_over, str)
        self._changed = False
        if reason:
            return
        now = self._now()
        self._churn = [t for t in self._churn if now - t < CHURN_WINDOW_SECONDS]
        if not self._churn:
            self._churn_noticed = False  # a quiet window ended the last episode
        self._churn.append(now)
        if len(self._churn) >= CHURN_REKEYS and not self._churn_noticed:
            self._churn_noticed = True
            self._queued.append(watch_notice("rekey_churn", count=len(self._churn)))

    def two_keys(self, creator_id, held_creator_id, epoch):
        """A second valid key for an epoch we hold, with another commitment: proof the room was split."""
        self._queued.append(watch_notice("two_keys", creator_id, other_id=held_creator_id, epoch=epoch))

    def silent(self, roster_ids, members, me):
        """Members of `roster_ids` still in `members` silent for CONFIRM_SECONDS or longer."""
        now = self._now()
        return [m for m in roster_ids
                if m != me and m in members and m in self._silent and now - self._silent[m] >= CONFIRM_SECONDS]

    def notices(self, silent, names):
        """Queued notices, then an "unconfirmed" one (member_ids, names) when someone silent was not named yet."""
        out, self._queued = self._queued, []
        if any(m not in self._noticed for m in silent):
            self._noticed.update(silent)
            out.append(watch_notice("unconfirmed", member_ids=list(silent), names=names))
        return out
