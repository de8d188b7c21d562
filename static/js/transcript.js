// The transcript one member has seen (docs/PROTOCOL.md §6.4-§6.5): every sender's hash
// chain, digest heads, display order, and the notices a dropped, changed, reordered or
// equivocated message raises. Plain bookkeeping: no crypto, no DOM; time is passed in.

/** Hashes kept per sender for digest comparison, texts remembered for `after`, refs awaited. */
export const KEPT_HASHES = 256, KEPT_SHOWN = 4096, KEPT_AWAITED = 256;

/** One notice for the chat (§10): count is a gap's size (null = unknown), otherId the digest sender a notice rests on. */
export function notice(kind, memberId, { count = null, otherId = null } = {}) {
  return { kind, memberId, count, otherId };
}

/** (epoch, seq) order. */
const after = (e1, n1, e2, n2) => e1 > e2 || (e1 === e2 && n1 > n2);

/** Adds to an insertion-ordered Map or Set, dropping the oldest beyond `limit`. */
function keep(collection, key, value, limit) {
  collection.delete(key);
  if (collection instanceof Map) collection.set(key, value); else collection.add(key);
  while (collection.size > limit) collection.delete(collection.keys().next().value);
}

export class Transcript {
  #me; #firstEpoch = Infinity; #heldEpoch = 0;
  #last = new Map();     // memberId -> {epoch, seq, hash} of its last envelope accepted, in chain order (never a digest's word)
  #marks = new Map();    // memberId -> {epoch, seq, hash, otherId}: a digest's head a gap notice already counted up to
  #hashes = new Map();   // memberId -> Map("epoch:seq" -> hash), the newest KEPT_HASHES
  #pending = new Map();  // "member:epoch:seq" -> {memberId, epoch, seq, hash, otherId, due}: digest heads not seen yet
  #reported = new Set(); // equivocations already shown
  #shown = new Set();    // "sender:epoch:seq" of texts shown or sent
  #awaited = new Set();  // refs that a reply named before the text itself was shown
  lastShown = null;      // `after` of the next text we send

  /** `me` is our member ID. */
  constructor(me) {
    this.#me = me;
  }

  /** An epoch whose key we hold: earlier than the first never reached us by design, later ones don't exist yet. */
  holding(epoch) {
    this.#firstEpoch = Math.min(this.#firstEpoch, epoch);
    this.#heldEpoch = Math.max(this.#heldEpoch, epoch);
  }

  /** (epoch, seq) of the last envelope accepted from each member: [[memberId, epoch, seq], ...] by ID. */
  lastAccepted() {
    return [...this.#last.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([memberId, { epoch, seq }]) => [memberId, epoch, seq]);
  }

  /** Keeps the hash of (epoch, seq) among the member's newest KEPT_HASHES. */
  #record(memberId, epoch, seq, hash) {
    if (!this.#hashes.has(memberId)) this.#hashes.set(memberId, new Map());
    keep(this.#hashes.get(memberId), `${epoch}:${seq}`, hash, KEPT_HASHES);
  }

  /** Records one of our own envelopes as sealed (pending): a digest naming it is not "in your name" (§6.6). */
  sealed({ epoch, seq, hash }) {
    this.#record(this.#me, epoch, seq, hash);
  }

  /** Records one of our own envelopes (text, confirm or digest) as acknowledged: our head in digests. */
  sent({ epoch, seq, hash }) {
    this.#record(this.#me, epoch, seq, hash);
    this.#last.set(this.#me, { epoch, seq, hash });
  }

  /** The hash we accepted for (member, epoch, seq), or undefined (an exact copy of it is a harmless duplicate). */
  hashOf(memberId, epoch, seq) {
    return this.#hashes.get(memberId)?.get(`${epoch}:${seq}`);
  }

  /** Records an accepted envelope; returns the notices its place in the sender's chain raises (§6.4). */
  received({ memberId, epoch, seq, prev, hash, late }) {
    this.#record(memberId, epoch, seq, hash);
    const notices = this.#settle(memberId, epoch, seq, hash);
    if (late) return [...notices, notice("late", memberId)]; // a skipped key was still held: it belongs further up
    const previous = this.#last.get(memberId);
    if (previous && !after(epoch, seq, previous.epoch, previous.seq)) return [...notices, notice("late", memberId)];
    this.#last.set(memberId, { epoch, seq, hash });
    const mark = this.#marks.get(memberId);
    if (mark && !after(epoch, seq, mark.epoch, mark.seq)) {
      // One of the messages a digest-derived gap notice counted: it came after all, late.
      const forked = previous && epoch === previous.epoch && seq === previous.seq + 1 && prev !== previous.hash;
      const same = epoch === mark.epoch && seq === mark.seq;
      if (same) this.#marks.delete(memberId);
      return [...notices, ...(forked ? [notice("fork", memberId)] : []),
        ...(same && hash !== mark.hash ? this.#once("equivocation", memberId, epoch, seq, mark.otherId) : []), notice("late", memberId)];
    }
    this.#marks.delete(memberId);
    // Past a reported gap, count only what the notice didn't (its head's hash is the digest's word).
    const base = mark && (!previous || after(mark.epoch, mark.seq, previous.epoch, previous.seq)) ? mark : previous;
    // Every epoch we hold we had from its start, so its first messages should all be here.
    if (!base) return seq > 1 ? [...notices, notice("gap", memberId, { count: seq - 1 })] : notices;
    const linked = prev === base.hash;
    if (epoch === base.epoch) {
      if (seq === base.seq + 1) return linked ? notices : [...notices, notice("fork", memberId)];
      return [...notices, notice("gap", memberId, { count: seq - base.seq - 1 })];
    }
    if (seq === 1) return linked ? notices : [...notices, notice("gap", memberId)]; // the end of the last epoch is missing
    return [...notices, notice("gap", memberId, { count: seq - 1 })];
  }

  /** A message a digest announced has arrived: the same hash settles it, another is equivocation. */
  #settle(memberId, epoch, seq, hash) {
    const key = `${memberId}:${epoch}:${seq}`;
    const pending = this.#pending.get(key);
    if (!pending) return [];
    this.#pending.delete(key);
    return pending.hash === hash ? [] : this.#once("equivocation", memberId, epoch, seq, pending.otherId);
  }

  /** [[sender, epoch, seq, hash], ...] of the last envelope of every sender, ourselves included, by sender ID. */
  heads() {
    return [...this.#last.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([memberId, { epoch, seq, hash }]) => [memberId, epoch, seq, hash]);
  }

  /** Compares a digest from `otherId` with what we saw (§6.5): notices now, gaps to wait for. */
  compare(otherId, heads, now, grace) {
    const notices = [];
    for (const [memberId, epoch, seq, hash] of heads) {
      const seen = this.#hashes.get(memberId)?.get(`${epoch}:${seq}`);
      if (seen === hash) continue;
      if (memberId === this.#me) {
        if (seen !== undefined || this.#beyond(memberId, epoch, seq)) notices.push(...this.#once("forged_self", memberId, epoch, seq, otherId));
      } else if (seen !== undefined) {
        notices.push(...this.#once("equivocation", memberId, epoch, seq, otherId));
      } else if (this.#beyond(memberId, epoch, seq) && epoch >= this.#firstEpoch && epoch <= this.#heldEpoch) {
        const key = `${memberId}:${epoch}:${seq}`;
        if (!this.#pending.has(key)) this.#pending.set(key, { memberId, epoch, seq, hash, otherId, due: now + grace });
      }
    }
    return notices;
  }

  /** True when (epoch, seq) is past the last envelope we have from the member and past any gap already reported. */
  #beyond(memberId, epoch, seq) {
    const last = this.#last.get(memberId), mark = this.#marks.get(memberId);
    return (!last || after(epoch, seq, last.epoch, last.seq)) && (!mark || after(epoch, seq, mark.epoch, mark.seq));
  }

  /** A notice the first time this (kind, message, digest sender) is found. */
  #once(kind, memberId, epoch, seq, otherId) {
    const key = `${kind}:${memberId}:${epoch}:${seq}:${otherId}`;
    if (this.#reported.has(key)) return [];
    this.#reported.add(key);
    return [notice(kind, memberId, { otherId })];
  }

  /** Gaps for digest heads that did not arrive within their grace period (§6.5). */
  due(now) {
    const notices = [];
    const furthest = new Map(); // one gap per sender: the furthest head that is still missing
    for (const [key, p] of this.#pending) {
      if (now < p.due) continue;
      this.#pending.delete(key);
      if (!this.#beyond(p.memberId, p.epoch, p.seq)) continue; // a later message's chain check covered it
      const best = furthest.get(p.memberId);
      if (!best || after(p.epoch, p.seq, best.epoch, best.seq)) furthest.set(p.memberId, p);
    }
    for (const p of furthest.values()) {
      const last = this.#last.get(p.memberId), mark = this.#marks.get(p.memberId);
      const base = mark && (!last || after(mark.epoch, mark.seq, last.epoch, last.seq)) ? mark : last;
      notices.push(notice("gap", p.memberId, { count: base?.epoch === p.epoch ? p.seq - base.seq : p.seq, otherId: p.otherId }));
      // Reported up to there; the chain head stays the last envelope really accepted.
      this.#marks.set(p.memberId, { epoch: p.epoch, seq: p.seq, hash: p.hash, otherId: p.otherId });
    }
    return notices;
  }

  /** A text was shown (or sent): true when a reply to it was shown before it. A late one does not become `after`. */
  shown(ref, { late = false } = {}) {
    const key = ref.join(":");
    keep(this.#shown, key, null, KEPT_SHOWN);
    if (!late) this.lastShown = [...ref];
    return this.#awaited.delete(key);
  }

  /** True when a text's `after` names a text of an epoch we held that is not shown yet (it is then awaited). */
  outOfOrder(ref) {
    if (!ref || ref[1] < this.#firstEpoch) return false;
    const key = ref.join(":");
    if (this.#shown.has(key)) return false;
    keep(this.#awaited, key, null, KEPT_AWAITED);
    return true;
  }
}
