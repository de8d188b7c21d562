// The typing indicator's rules (docs/PROTOCOL.md §6.3 `typing` body), no DOM: when our own
// typing may be said (at most once per TYPING_EVERY_MS while typing, never when idle) and
// who is typing now (each said typing lasts TYPING_SHOWN_MS unless their message comes first).

export const TYPING_EVERY_MS = 3000;
export const TYPING_SHOWN_MS = 6000;

/** Our side: input() says whether a `typing` body should go out now. */
export class TypingThrottle {
  #now; #last = -Infinity;

  constructor(now = Date.now) {
    this.#now = now;
  }

  /** The text box changed to `text`: -> true when a typing body is due (something typed, none sent lately). */
  input(text) {
    if (!text.trim()) return false;
    const now = this.#now();
    if (now - this.#last < TYPING_EVERY_MS) return false;
    this.#last = now;
    return true;
  }

  /** Our message went out: the next keystroke may say typing again at once. */
  sent() {
    this.#last = -Infinity;
  }
}

/** Their side: who is typing now. */
export class TypingBoard {
  #now; #typing = new Map(); // memberId -> {name, until}

  constructor(now = Date.now) {
    this.#now = now;
  }

  /** `memberId` said it is typing. */
  typing(memberId, name) {
    this.#typing.set(memberId, { name, until: this.#now() + TYPING_SHOWN_MS });
  }

  /** `memberId` sent its message, left, or the room ended: no longer typing. -> true if it was. */
  stopped(memberId) {
    return this.#typing.delete(memberId);
  }

  /** Names of the members typing now, in the order they started. */
  names() {
    const now = this.#now();
    for (const [id, { until }] of this.#typing) if (until <= now) this.#typing.delete(id);
    return [...this.#typing.values()].map(({ name }) => name);
  }

  /** Milliseconds until the next one expires, or null when nobody types. */
  nextExpiry() {
    const untils = [...this.#typing.values()].map(({ until }) => until);
    return untils.length ? Math.max(0, Math.min(...untils) - this.#now()) : null;
  }

  /** Nobody types any more. */
  clear() {
    this.#typing.clear();
  }
}

/** The line under the log: parts (strings and {name}), or [] when nobody types. */
export function typingParts(names) {
  if (names.length === 0) return [];
  if (names.length === 1) return [{ name: names[0] }, " is typing..."];
  if (names.length === 2) return [{ name: names[0] }, " and ", { name: names[1] }, " are typing..."];
  return ["Several people are typing..."];
}
