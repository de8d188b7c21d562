"""The transcript a member has seen (docs/PROTOCOL.md §6.4-§6.5): per-sender hash chains,
digest heads, and the notices a dropped, changed, reordered or equivocated message raises.

A notice is {"kind", "member_id", "count", "other_id"}: kind is gap, fork, late,
reorder, equivocation or forged_self; count is the size of a gap (None when
unknown); other_id is the digest sender a notice rests on (equivocation,
forged_self, and a gap only a digest revealed).
"""

from collections import OrderedDict

from .crypto import b64u_decode, b64u_encode
from .envelope import FIRST_PREV

KEPT_HASHES = 256  # hashes kept per sender for digest comparison (§6.5)
KEPT_SHOWN = 4096  # text references remembered for `after` (out-of-order display)


def notice(kind, member_id, count=None, other_id=None):
    """One notice for the chat."""
    return {"kind": kind, "member_id": member_id, "count": count, "other_id": other_id}


class Transcript:
    """What this member accepted from each sender (itself included), and what others say they saw."""

    def __init__(self, me):
        """Start empty for member `me`."""
        self.me = me
        self._first_epoch = None  # the first epoch whose key we held: earlier messages never reached us
        self._held_epoch = 0  # the newest epoch whose key we held: no message of a later one exists yet
        self._last = {}  # member_id -> (epoch, seq, hash) of the last envelope accepted, in chain order
        self._marks = {}  # member_id -> (epoch, seq, hash, other_id): a digest's head a gap notice counted up to
        self._hashes = {}  # member_id -> OrderedDict((epoch, seq) -> hash), the newest KEPT_HASHES
        self._pending = {}  # (member_id, epoch, seq) -> (hash, deadline, other_id): digest heads not seen yet
        self._reported = set()  # equivocations already shown
        self._shown = OrderedDict()  # (sender, epoch, seq) of texts shown or sent
        self._awaited = set()  # references that replies named before the text itself was shown
        self.last_shown = None  # `after` of the next text we send

    # --- chains (§6.4) -------------------------------------------------------

    def holding(self, epoch):
        """We hold this epoch's key: heads and references outside the epochs held are not ours to miss."""
        self._first_epoch = epoch if self._first_epoch is None else min(self._first_epoch, epoch)
        self._held_epoch = max(self._held_epoch, epoch)

    def last_accepted(self):
        """[[member_id, epoch, seq], ...] of the last envelope accepted from each member, by member ID."""
        return [[member_id, e, n] for member_id, (e, n, _h) in sorted(self._last.items())]

    def prev(self, member_id):
        """b64u(H) of a member's last envelope in this room, or 32 zero bytes before its first."""
        last = self._last.get(member_id)
        return FIRST_PREV if last is None else b64u_encode(last[2])

    def last(self, member_id):
        """(epoch, seq) of the last envelope in a member's chain, or None."""
        last = self._last.get(member_id)
        return None if last is None else last[:2]

    def sealed(self, epoch, seq, digest):
        """Record one of our own envelopes as sealed (pending): a digest naming it is not "in your name" (§6.6)."""
        self._record(self.me, epoch, seq, digest)

    def sent(self, epoch, seq, digest):
        """Record one of our own envelopes (text or digest) as acknowledged: our head in digests."""
        self._record(self.me, epoch, seq, digest)
        self._last[self.me] = (epoch, seq, digest)

    def hash_of(self, member_id, epoch, seq):
        """The hash accepted for (member, epoch, seq), or None (an exact copy of it is a harmless duplicate)."""
        return self._hashes.get(member_id, {}).get((epoch, seq))

    def received(self, sender, epoch, seq, prev, digest, late):
        """Record an accepted envelope; the notices its place in the sender's chain raises."""
        self._record(sender, epoch, seq, digest)
        notices = self._settle(sender, epoch, seq, digest)
        if late:
            return notices + [notice("late", sender)]  # a skipped key was still held: it belongs further up
        previous = self._last.get(sender)
        if previous is not None and (epoch, seq) <= previous[:2]:
            return notices + [notice("late", sender)]
        self._last[sender] = (epoch, seq, digest)
        mark = self._marks.get(sender)
        if mark is not None and (epoch, seq) <= mark[:2]:
            # One of the messages a digest-derived gap notice counted: it came after all, late.
            forked = previous is not None and (epoch, seq) == (previous[0], previous[1] + 1) \
                and prev != b64u_encode(previous[2])
            same = (epoch, seq) == mark[:2]
            if same:
                del self._marks[sender]
            if forked:
                notices.append(notice("fork", sender))
            if same and digest != mark[2]:
                notices += self._once("equivocation", sender, epoch, seq, mark[3])
            return notices + [notice("late", sender)]
        self._marks.pop(sender, None)
        # Past a reported gap, count only what the notice didn't (its head's hash is the digest's word).
        base = mark if mark is not None and (previous is None or mark[:2] > previous[:2]) else previous
        if base is None:
            # Every epoch we hold we had from its start, so its first messages should all be here.
            return notices + ([notice("gap", sender, seq - 1)] if seq > 1 else [])
        b_epoch, b_seq, b_hash = base[:3]
        linked = prev == b64u_encode(b_hash)
        if epoch == b_epoch:
            if seq == b_seq + 1:
                return notices + ([] if linked else [notice("fork", sender)])
            return notices + [notice("gap", sender, seq - b_seq - 1)]
        if seq == 1:
            return notices + ([] if linked else [notice("gap", sender, None)])  # the end of the last epoch is missing
        return notices + [notice("gap", sender, seq - 1)]

    def _settle(self, member_id, epoch, seq, digest):
        """A message a digest announced has arrived: the same hash settles it, another is equivocation."""
        pending = self._pending.pop((member_id, epoch, seq), None)
        if pending is None or pending[0] == digest:
            return []
        return self._once("equivocation", member_id, epoch, seq, pending[2])

    def _record(self, member_id, epoch, seq, digest):
        """Keep the hash of (epoch, seq) among the member's newest KEPT_HASHES."""
        hashes = self._hashes.setdefault(member_id, OrderedDict())
        hashes[(epoch, seq)] = digest
        while len(hashes) > KEPT_HASHES:
            hashes.popitem(last=False)

    # --- digests (§6.5) ------------------------------------------------------

    def heads(self):
        """[[sender, epoch, seq, b64u(H)], ...] of the last envelope of every sender, self included."""
        return [[member_id, e, n, b64u_encode(h)] for member_id, (e, n, h) in sorted(self._last.items())]

    def compare(self, other_id, heads, now, grace):
        """Compare a digest from `other_id` with what we saw; notices now, pending gaps for later."""
        notices = []
        for member_id, epoch, seq, hash_text in heads:
            claimed = b64u_decode(hash_text)
            seen = self._hashes.get(member_id, {}).get((epoch, seq))
            if seen == claimed:
                continue
            if member_id == self.me:
                if seen is not None or self._beyond(member_id, epoch, seq):
                    notices += self._once("forged_self", member_id, epoch, seq, other_id)
            elif seen is not None:
                notices += self._once("equivocation", member_id, epoch, seq, other_id)
            elif self._beyond(member_id, epoch, seq) and self._first_epoch is not None \
                    and self._first_epoch <= epoch <= self._held_epoch:
                self._pending.setdefault((member_id, epoch, seq), (claimed, now + grace, other_id))
        return notices

    def _once(self, kind, member_id, epoch, seq, other_id):
        """A notice the first time this (kind, message, digest sender) is found."""
        key = (kind, member_id, epoch, seq, other_id)
        if key in self._reported:
            return []
        self._reported.add(key)
        return [notice(kind, member_id, other_id=other_id)]

    def _beyond(self, member_id, epoch, seq):
        """True when (epoch, seq) is past the last envelope we have from the member and past any gap reported."""
        last, mark = self._last.get(member_id), self._marks.get(member_id)
        return (last is None or (epoch, seq) > last[:2]) and (mark is None or (epoch, seq) > mark[:2])

    def pending_notices(self, now):
        """Gaps for digest heads that never arrived within the grace period (one per sender, the furthest)."""
        furthest = {}
        for key, (claimed, deadline, other_id) in list(self._pending.items()):
            if now < deadline:
                continue
            del self._pending[key]
            member_id, epoch, seq = key
            if not self._beyond(member_id, epoch, seq):
                continue  # a later message's chain check covered it
            best = furthest.get(member_id)
            if best is None or (epoch, seq) > best[:2]:
                furthest[member_id] = (epoch, seq, claimed, other_id)
        notices = []
        for member_id, (epoch, seq, claimed, other_id) in furthest.items():
            last, mark = self._last.get(member_id), self._marks.get(member_id)
            base = mark if mark is not None and (last is None or mark[:2] > last[:2]) else last
            count = seq - base[1] if base is not None and base[0] == epoch else seq
            notices.append(notice("gap", member_id, count, other_id))
            # Reported up to there; the chain head stays the last envelope really accepted.
            self._marks[member_id] = (epoch, seq, claimed, other_id)
        return notices

    # --- display order (§6.4, `after`) ----------------------------------------

    def shown(self, ref, late=False):
        """A text was shown (or sent); True when a reply to it was shown before it.

        A late text is shown where it belongs, so it does not become the `after` of our next one.
        """
        ref = tuple(ref)
        self._shown[ref] = None
        while len(self._shown) > KEPT_SHOWN:
            self._shown.popitem(last=False)
        if not late:
            self.last_shown = ref
        if ref in self._awaited:
            self._awaited.discard(ref)
            return True
        return False

    def out_of_order(self, after):
        """True when a text's `after` names a text of an epoch we held that is not shown yet (it is then awaited)."""
        if after is None or self._first_epoch is None or after[1] < self._first_epoch:
            return False
        ref = tuple(after)
        if ref in self._shown:
            return False
        self._awaited.add(ref)
        return True
