// What a lying relay leaves behind, said in the chat (docs/PROTOCOL.md §5.3-§5.5, §6.4-§6.5):
// roster mismatches, gaps, forks, equivocation, late and reordered messages, members not
// heard from under a new key, a creator passed over twice. And the one timer that asks the
// session, about once a second, for what is due: key_missing, a transcript digest, notices
// whose grace ran out. Text goes through MessageLog.addSystem (textContent only).

import { say } from "./ui.js";

const TICK_MS = 1000;
export const MISMATCH_TEXT = "The members you see don't match what others see - someone may be in the middle";

/** "Ana", "Ana and Ben", "Ana, Ben and Cy" as addSystem parts (names stay user text). */
function listParts(names) {
  const parts = [];
  names.forEach((name, i) => {
    if (i > 0) parts.push(i === names.length - 1 ? " and " : ", ");
    parts.push({ name });
  });
  return parts;
}

/** "1 message" / "N messages". */
function messages(count) {
  return `${count} message${count === 1 ? "" : "s"}`;
}

export class IntegrityNotices {
  #log; #nameOf; #said = new Set();

  /** `log`: the MessageLog; `nameOf(memberId)`: the display name, or null for someone not (or no longer) seen. */
  constructor(log, nameOf) {
    this.#log = log;
    this.#nameOf = nameOf;
  }

  /** A name part for `memberId`; someone we can't name is "someone". */
  #who(memberId) {
    const name = this.#nameOf(memberId);
    return name ? { name } : "someone";
  }

  /** Adds a line once per `key` (a relay that repeats itself must not flood the chat). */
  #once(key, parts, tone) {
    if (this.#said.has(key)) return;
    this.#said.add(key);
    this.#log.addSystem(parts, tone);
  }

  /** Shows each notice of protocol.js (open(), releaseHeld(), pendingNotices()) as a system line. */
  show(notices = []) {
    for (const notice of notices) this.#showOne(notice);
  }

  #showOne({ kind, memberId, count, otherId, memberIds }) {
    const who = this.#who(memberId);
    switch (kind) {
      case "gap":
        this.#log.addSystem(count ? [`${messages(count)} from `, who, " didn't reach you"] : ["Some messages from ", who, " didn't reach you"], "warn");
        break;
      case "fork":
        this.#log.addSystem(["Messages from ", who, " were changed on the way"], "warn");
        break;
      case "equivocation":
        this.#log.addSystem(["You and ", this.#who(otherId), " saw different messages from ", who], "warn");
        break;
      case "forged_self":
        this.#log.addSystem([this.#who(otherId), " saw a message in your name you didn't send"], "warn");
        break;
      case "late":
        this.#log.addSystem(["A message from ", who, " arrived late"], "quiet");
        break;
      case "reorder":
        this.#log.addSystem(["A message from ", who, " arrived after the replies to it"], "quiet");
        break;
      case "unconfirmed":
        this.unconfirmed(memberIds ?? []);
        break;
      case "rekey_churn":
        this.#once("rekey_churn", ["The server keeps changing the room key for no reason - someone may be tampering with this room"], "warn");
        break;
      case "two_keys":
        this.#log.addSystem([who, " and ", this.#who(otherId), " handed out two different keys for one room key change - the room may be split, someone may be in the middle"], "warn");
        break;
      default:
        break; // a kind this page doesn't know yet: nothing it could say about it
    }
  }

  /** A text whose `after` names a message not shown yet. */
  outOfOrder(memberId) {
    this.#log.addSystem(["The next message from ", this.#who(memberId), " is shown out of order: what it answers hasn't reached you"], "quiet");
  }

  /** "Not heard from <names> under the new key..." (once per epoch, protocol.js decides when). */
  unconfirmed(memberIds) {
    const names = memberIds.map((id) => this.#nameOf(id)).filter(Boolean);
    if (names.length === 0) return;
    this.#log.addSystem(["Not heard from ", ...listParts(names), " under the new key - if this lasts, someone may be in the middle"], "warn");
  }

  /** A room_key whose roster is not ours (§5.3): who differs, each unseen member as "someone you don't see". */
  rosterMismatch({ unseen = [], left_out: leftOut = [], differs = [] } = {}) {
    const key = `mismatch:${[...unseen].sort()}|${[...leftOut].sort()}|${[...differs].sort()}`;
    const who = [];
    if (unseen.length) who.push([unseen.length === 1 ? "someone you don't see" : `${unseen.length} people you don't see`]);
    for (const id of leftOut) who.push([this.#who(id), " (left out)"]);
    for (const id of differs) who.push([this.#who(id), " (different keys or name)"]);
    const parts = [`${MISMATCH_TEXT}.`];
    who.forEach((entry, i) => parts.push(i === 0 ? " Who differs: " : ", ", ...entry));
    this.#once(key, parts, "warn");
  }

  /** A creator passed over for the second time (§5.5). */
  passedOver(member) {
    this.#once(`passed:${member.memberId}`, ["The server says ", { name: member.name }, "'s device didn't hand out the room key; the room moved on without it."], "warn");
  }

  /** Forgets what was said (the log was cleared). */
  clear() {
    this.#said.clear();
  }
}

/**
 * One interval for everything time-based in a joined room (§5.5, §6.5): key_missing once the
 * key is late, a transcript digest when one is due, notices whose grace ran out. Each tick is
 * run through the chat's event queue so it sees the session in event order, and never doubled.
 */
export class IntegrityTimer {
  #schedule; #session; #send; #notices; #after; #interval = 0; #busy = false;

  /**
   * `schedule(fn)`: queues fn (EventQueue.push); `session()`: the current RoomSession or null;
   * `send(event, payload)`: an acknowledged request (null when offline); `notices`:
   * IntegrityNotices; `after()`: runs at the end of each tick (the people list's silent members).
   */
  constructor({ schedule, session, send, notices, after }) {
    this.#schedule = schedule;
    this.#session = session;
    this.#send = send;
    this.#notices = notices;
    this.#after = after;
  }

  /** Starts ticking (idempotent). */
  start() {
    if (this.#interval) return;
    this.#interval = setInterval(() => this.#run(), TICK_MS);
  }

  #run() {
    if (this.#busy) return;
    this.#busy = true;
    Promise.resolve(this.#schedule(() => this.#tick())).finally(() => { this.#busy = false; });
  }

  /** One tick's work; stops short when the session changed meanwhile (rejoin, burn). */
  async #tick() {
    const session = this.#session();
    if (!session || !this.#interval) return;
    const missing = session.keyMissing();
    if (missing !== null) await this.#send("key_missing", { epoch: missing });
    const digest = await session.makeDigest().catch(() => null);
    if (digest && session === this.#session()) await this.#send("message", digest);
    if (session !== this.#session() || !this.#interval) return;
    this.#notices.show(session.pendingNotices());
    this.#after();
  }

  /** Stops (burn, kick, pagehide, connection lost); start() begins again after a rejoin. */
  stop() {
    clearInterval(this.#interval);
    this.#interval = 0;
    this.#busy = false;
  }
}

/** The "N messages rejected · N forged announcements blocked" pill, counting across rejoins. */
export class RejectedCount {
  #pill; #earlier = { rejected: 0, flagged: 0 };

  constructor(pill) {
    this.#pill = pill;
  }

  /** A session ends (connection lost): its counts carry over to the next one. */
  keep(session) {
    if (!session) return;
    this.#earlier.rejected += session.rejectedCount;
    this.#earlier.flagged += session.flaggedCount;
  }

  /** Shows the counts of `session` plus the earlier ones (hidden while both are zero). */
  show(session) {
    const rejected = this.#earlier.rejected + (session?.rejectedCount ?? 0);
    const flagged = this.#earlier.flagged + (session?.flaggedCount ?? 0);
    const texts = [];
    if (rejected) texts.push(`${rejected} message${rejected === 1 ? "" : "s"} rejected`);
    if (flagged) texts.push(`${flagged} forged announcement${flagged === 1 ? "" : "s"} blocked`);
    say(this.#pill, texts.join(" · "));
  }

  /** Hides the pill (the room ended). */
  wipe() {
    this.#pill.hidden = true;
  }
}
