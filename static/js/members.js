// Who is in the room as this member accepts it (docs/PROTOCOL.md §4, §7.4): accepted members in
// join order (us included), the IDs never accepted again, who is away, and the names shown with
// look-alike duplicates numbered. Plain bookkeeping: protocol.js opens announcements and raises the floor.
import { ProtocolError, nameForComparison } from "./crypto.js";

export class Members {
  #all = new Map();         // memberId -> opened announcement (+ isSelf), in join order
  #removed = new Set();     // member IDs that left or were removed: never accepted again
  #away = new Set();        // members whose socket dropped and who may resume

  /** True for an accepted member (or us). */
  has(memberId) { return this.#all.has(memberId); }
  /** The opened announcement (+ isSelf) of an accepted member, or undefined. */
  get(memberId) { return this.#all.get(memberId); }
  /** Accepted members, us included. */
  get size() { return this.#all.size; }
  /** Accepted member IDs in join order. */
  ids() { return [...this.#all.keys()]; }
  /** Accepted members (us included) as epoch.js takes a roster. */
  roster() { return [...this.#all.values()]; }
  /** True for an ID that left or was removed. */
  wasRemoved(memberId) { return this.#removed.has(memberId); }

  /** A second announcement for a known, removed or own ID could swap keys or revive someone: refuse it. */
  refuseKnownId(memberId, selfId) {
    if (memberId === selfId || this.#all.has(memberId) || this.#removed.has(memberId)) {
      throw new ProtocolError("duplicate_member");
    }
  }

  /** Accepts an opened announcement (ours with isSelf true). */
  add(member, isSelf = false) {
    this.#all.set(member.memberId, { ...member, isSelf });
  }

  /** Forgets a member; its ID is never accepted again. -> false if it was not accepted. */
  remove(memberId) {
    this.#removed.add(memberId);
    this.#away.delete(memberId);
    return this.#all.delete(memberId);
  }

  /** A member listing (join or resume ack) says whether that member is away. */
  noteAway(announcement, selfId) {
    const id = announcement?.member_id;
    if (announcement?.away === true) this.markAway(id, selfId); else if (this.#all.has(id)) this.#away.delete(id);
  }

  /** `member_away`: its socket dropped, it keeps its seat and keys. False if unknown (or us). */
  markAway(memberId, selfId) {
    if (memberId === selfId || !this.#all.has(memberId)) return false;
    this.#away.add(memberId);
    return true;
  }

  /** `member_back`: it resumed. False if it was not away. */
  markBack(memberId) {
    return this.#away.delete(memberId);
  }

  /**
   * Accepted members in join order. Look-alike duplicate names are numbered by member ID order (the lowest
   * ID plain, then "name (2)", "name (3)", ...), so every member numbers them alike whatever order the
   * server lists them in; `duplicate` is true for each of them (show the fingerprint then).
   */
  list() {
    const groups = new Map();
    for (const m of this.#all.values()) {
      const key = nameForComparison(m.name);
      groups.set(key, [...(groups.get(key) ?? []), m.memberId]);
    }
    for (const ids of groups.values()) ids.sort();
    return [...this.#all.values()].map((m) => {
      const ids = groups.get(nameForComparison(m.name));
      const rank = ids.indexOf(m.memberId) + 1;
      const name = rank === 1 ? m.name : `${m.name} (${rank})`;
      return {
        memberId: m.memberId, name, fingerprint: m.fingerprint, isSelf: m.isSelf, away: this.#away.has(m.memberId),
        duplicate: ids.length > 1,
      };
    });
  }
}
