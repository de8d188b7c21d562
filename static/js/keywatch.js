// What the room's keys say about the relay (docs/PROTOCOL.md §5.5): members we have not heard
// from under a key we hold, rekeys nothing explains, and two keys for one epoch. Plain
// bookkeeping for protocol.js: no crypto, no DOM; time comes from the injected `now`.

/** Silence before a member is "not heard from"; rekeys for no reason that make a notice, within a window. */
export const CONFIRM_MS = 5000, CHURN_REKEYS = 3, CHURN_WINDOW_MS = 30000;

export class KeyWatch {
  #now;
  // memberId -> since when we hold a key whose roster has them without a valid message from them under
  // a key we hold. It survives new epochs (a relay that rekeys every few seconds must not restart it).
  #silent = new Map();
  #noticed = new Set();     // members already named in an "unconfirmed" notice (until heard again)
  #changed = true;          // a membership change (or a pass-over) since the last rekey
  #churn = [];              // times of recent rekeys nothing explained
  #churnNoticed = false;
  #queued = [];             // notices for pendingNotices()

  /** `now`: the clock (ms). */
  constructor(now) {
    this.#now = now;
  }

  /** A key is held: its roster's members start being silent, unless they already were (that clock keeps running). */
  held(rosterIds, me) {
    const now = this.#now();
    const roster = new Set(rosterIds);
    for (const id of this.#silent.keys()) if (!roster.has(id)) this.#silent.delete(id);
    for (const id of rosterIds) if (id !== me && !this.#silent.has(id)) this.#silent.set(id, now);
  }

  /** A valid message (any body) from `memberId` under the key we hold. */
  heard(memberId) {
    this.#silent.delete(memberId);
    this.#noticed.delete(memberId);
  }

  /** A member joined or left: the next rekey has a reason. */
  membershipChanged(memberId = null) {
    this.#changed = true;
    if (memberId !== null) this.heard(memberId); // gone: nothing more to hear
  }

  /** `rekey` to a newer epoch: one with no membership change and nobody passed over counts toward CHURN_REKEYS. */
  rekey({ passedOver = null } = {}) {
    const reason = this.#changed || typeof passedOver === "string";
    this.#changed = false;
    if (reason) return;
    const now = this.#now();
    this.#churn = this.#churn.filter((t) => now - t < CHURN_WINDOW_MS);
    if (this.#churn.length === 0) this.#churnNoticed = false; // a quiet window ended the last episode
    this.#churn.push(now);
    if (this.#churn.length >= CHURN_REKEYS && !this.#churnNoticed) {
      this.#churnNoticed = true;
      this.#queued.push({ kind: "rekey_churn", memberId: null, count: this.#churn.length, otherId: null });
    }
  }

  /** A second valid key for an epoch we hold, with another commitment: proof the room was split. */
  twoKeys(creatorId, heldCreatorId, epoch) {
    this.#queued.push({ kind: "two_keys", memberId: creatorId, count: null, otherId: heldCreatorId, epoch });
  }

  /** Members of `rosterIds` still in `members` (a Set or Map) silent for CONFIRM_MS or longer. */
  silent(rosterIds, members, me) {
    const now = this.#now();
    return rosterIds.filter((id) => id !== me && members.has(id) && this.#silent.has(id) && now - this.#silent.get(id) >= CONFIRM_MS);
  }

  /** Queued notices, then {kind: "unconfirmed", memberIds} when someone silent was not named yet. */
  notices(silent) {
    const out = this.#queued;
    this.#queued = [];
    if (silent.some((id) => !this.#noticed.has(id))) {
      for (const id of silent) this.#noticed.add(id);
      out.push({ kind: "unconfirmed", memberId: null, count: null, otherId: null, memberIds: silent });
    }
    return out;
  }
}
