"""The transcript a member has seen (docs/PROTOCOL.md §6.4-§6.5): per-sender hash chains,
digest heads, and the notices a dropped, changed, reordered or equivocated message raises.

A notice is {"kind", "member_id", "count", "other_id"}: kind is gap, fork, late,
reorder, equivocation or forged_self; count is the size of a gap (None when
unknown); other_id is the digest sender for equivocation and forged_self.
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
        self._last = {}  # member_id -> (epoch, seq, hash) of the last envelope in chain order
        self._hashes = {}  # member_id -> OrderedDict((epoch, seq) -> hash), the newest KEPT_HASHES
        self._pending = {}  # member_id -> [epoch, seq, deadline, other_id]: digest heads not seen yet
        self._reported = set()  # equivocations already shown
        self._shown = OrderedDict()  # (sender, epoch, seq) of texts shown or sent
        self._awaited = set()  # references that replies named before the text itself was shown
        self.last_shown = None  # `after` of the next text we send

    # --- chains (§6.4) -------------------------------------------------------

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
        if late:
            return [notice("late", sender)]  # a skipped key was still held: it belongs further up
        previous = self._last.get(sender)
        self._last[sender] = (epoch, seq, digest)
        if previous is None:
            # Every epoch we hold we had from its start, so its first messages should all be here.
            return [notice("gap", sender, seq - 1)] if seq > 1 else []
        p_epoch, p_seq, p_hash = previous
        linked = prev == b64u_encode(p_hash)
        if epoch == p_epoch:
            if seq == p_seq + 1:
                return [] if linked else [notice("fork", sender)]
            return [notice("gap", sender, seq - p_seq - 1)]
        if seq == 1:
            return [] if linked else [notice("gap", sender, None)]  # the end of the last epoch is missing
        return [notice("gap", sender, seq - 1)]

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
            elif self._beyond(member_id, epoch, seq):
                self._expect(member_id, epoch, seq, now + grace, other_id)
        return notices

    def _once(self, kind, member_id, epoch, seq, other_id):
        """A notice the first time this (kind, message, digest sender) is found."""
        key = (kind, member_id, epoch, seq, other_id)
        if key in self._reported:
            return []
        self._reported.add(key)
        return [notice(kind, member_id, other_id=other_id)]

    def _beyond(self, member_id, epoch, seq):
        """True when (epoch, seq) is past the last envelope we have from the member."""
        last = self.last(member_id)
        return last is None or (epoch, seq) > last

    def _expect(self, member_id, epoch, seq, deadline, other_id):
        """Wait for a message a digest says exists; the earliest deadline and the furthest head count."""
        pending = self._pending.get(member_id)
        if pending is None:
            self._pending[member_id] = [epoch, seq, deadline, other_id]
        elif (epoch, seq) > (pending[0], pending[1]):
            pending[0], pending[1] = epoch, seq

    def pending_notices(self, now):
        """Gaps for digest heads that never arrived within the grace period."""
        notices = []
        for member_id, (epoch, seq, deadline, _other) in list(self._pending.items()):
            if now < deadline:
                continue
            del self._pending[member_id]
            if not self._beyond(member_id, epoch, seq):
                continue
            last = self.last(member_id)
            count = seq - last[1] if last and last[0] == epoch else seq
            notices.append(notice("gap", member_id, count))
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
        """True when a text's `after` names a text not shown yet (which is then awaited)."""
        if after is None:
            return False
        ref = tuple(after)
        if ref in self._shown:
            return False
        self._awaited.add(ref)
        return True
