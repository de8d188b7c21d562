// What happens to the room, as quiet lines in the log (lock, unlock, extend, an admin joining,
// "Room burns in 1 minute"), and runs of joins or leaves folded into one line ("Ana, Ben and
// 5 others joined"). The rules are plain functions; RoomEventLog writes through the MessageLog.
import { formatDuration } from "./ui.js";

const SHOWN_NAMES = 2;            // names spelled out in a folded line before "and N others"
const EXTENSION_MIN_MS = 20_000;  // a later expiry by less than this is clock sync, not an extension
const LAST_MINUTE_MS = 60_000;

/** Parts of a folded line: [{name}, ", ", {name}, " and 5 others joined"] (strings and user names). */
export function runParts(names, verb) {
  const parts = [];
  const spelled = names.length <= SHOWN_NAMES + 1 ? names : names.slice(0, SHOWN_NAMES);
  const others = names.length - spelled.length;
  spelled.forEach((name, index) => {
    if (index > 0) parts.push(index === spelled.length - 1 && others === 0 ? " and " : ", ");
    parts.push({ name });
  });
  if (others > 0) parts.push(` and ${others} other${others === 1 ? "" : "s"}`);
  parts.push(` ${verb}`);
  return parts;
}

/** The room events between two states {locked, expiresAt}: [{kind: "locked" | "unlocked"}, {kind: "extended", seconds}]. */
export function stateEvents(before, after) {
  const events = [];
  if (typeof before.locked === "boolean" && typeof after.locked === "boolean" && before.locked !== after.locked) {
    events.push({ kind: after.locked ? "locked" : "unlocked" });
  }
  if (Number.isFinite(before.expiresAt) && Number.isFinite(after.expiresAt)
    && after.expiresAt - before.expiresAt >= EXTENSION_MIN_MS) {
    events.push({ kind: "extended", seconds: Math.round((after.expiresAt - before.expiresAt) / 60_000) * 60 });
  }
  return events;
}

/** True when the time left just went from over a minute to a minute or less. */
export function enteredLastMinute(before, after) {
  return Number.isFinite(before) && before > LAST_MINUTE_MS && after > 0 && after <= LAST_MINUTE_MS;
}

const SENTENCES = {
  locked: () => "The admin locked the room - nobody new can join",
  unlocked: () => "The admin unlocked the room - people with the link can join again",
  extended: ({ seconds }) => `The admin added ${formatDuration(seconds)}`,
};

export class RoomEventLog {
  #log; #run = null; #state = {}; #left = null;

  /** `log`: the MessageLog (addSystem returns the line it added). */
  constructor(log) {
    this.#log = log;
  }

  /** Someone joined (`verb` "joined") or went ("left", "lost connection"): folded into the run above if it is the last line. */
  person(name, verb) {
    const run = this.#run;
    if (run && run.verb === verb && run.line.isConnected && run.line === run.line.parentNode.lastElementChild) {
      run.names.push(name);
      this.#log.rewriteSystem(run.line, runParts(run.names, verb));
      return;
    }
    const line = this.#log.addSystem(runParts([name], verb), verb === "joined" ? "join" : "leave");
    this.#run = { verb, names: [name], line };
  }

  /** The room's state from a join ack (remembered, not said) or from `room_state` (changes said). */
  state({ locked, expiresAt }, { quiet = false } = {}) {
    const next = {
      locked: typeof locked === "boolean" ? locked : this.#state.locked,
      expiresAt: Number.isFinite(expiresAt) ? expiresAt : this.#state.expiresAt,
    };
    if (!quiet) for (const event of stateEvents(this.#state, next)) this.#log.addSystem([SENTENCES[event.kind](event)], "event");
    this.#state = next;
  }

  /** Someone claimed the admin rights with the PIN (the room's page or the admin page). */
  adminJoined() {
    this.#log.addSystem(["An admin joined (with the room's PIN)"], "event");
  }

  /** The countdown's time left: says "Room burns in 1 minute" once each time it enters the last minute. */
  tick(left) {
    if (enteredLastMinute(this.#left, left)) this.#log.addSystem(["Room burns in 1 minute"], "event");
    this.#left = left;
  }

  /** Forgets the run and the state (the room ended, or a new session). */
  reset() {
    this.#run = null;
    this.#state = {};
    this.#left = null;
  }
}
