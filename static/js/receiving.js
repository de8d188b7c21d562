// What arrives before it is opened (docs/PROTOCOL.md §5.5, §6.4): the cheap envelope checks that
// need no crypto, and the bounded buffer of messages held back until their epoch's key arrives.
// protocol.js opens what passes and keeps the transcript.
import { PROTOCOL_VERSION, ProtocolError } from "./crypto.js";

/** Messages that may wait for their epoch's key, and for how long (ms). */
export const MAX_HELD_MESSAGES = 64, HOLD_BACK_MS = 10000;

/** True for a message from a member (`members`: members.js) under an epoch above `heldEpoch` and not below `floor`. */
export function shouldHold(envelope, members, heldEpoch, floor) {
  const sender = members.get(envelope?.sender);
  const epoch = envelope?.epoch;
  return envelope?.v === PROTOCOL_VERSION && Boolean(sender && !sender.isSelf) && Number.isSafeInteger(epoch)
    && epoch > heldEpoch && epoch >= floor;
}

/** §6.4 checks 1 and 2 (the cheap ones) against the key held (or null) -> {sender, chain}. */
export function checkEnvelope(envelope, members, key, floor) {
  if (envelope?.v !== PROTOCOL_VERSION) throw new ProtocolError("bad_version");
  const sender = members.get(envelope.sender);
  if (!sender || sender.isSelf) throw new ProtocolError("not_member");
  // Below the floor is stale for good (a removal or a join happened since); no key yet is "not ready".
  if (!(envelope.epoch >= floor) || (key && envelope.epoch !== key.epoch)) throw new ProtocolError("bad_epoch");
  if (!key) throw new ProtocolError("not_ready");
  const chain = key.chains.get(sender.memberId);
  if (!chain) throw new ProtocolError("not_member"); // not in the roster the key was made for
  return { sender, chain };
}

/** Messages under an epoch whose key is on its way, in arrival order, each until its deadline. */
export class HeldBack {
  #held = [];               // [{envelope, until}]
  #now;

  /** `now`: the clock (ms). */
  constructor(now) {
    this.#now = now;
  }

  /** Messages held. */
  get count() { return this.#held.length; }

  /** Keeps a message until its key arrives (bounded); a full buffer rejects it. -> null (nothing to show yet). */
  hold(envelope) {
    if (this.#held.length >= MAX_HELD_MESSAGES) throw new ProtocolError("not_ready");
    this.#held.push({ envelope, until: this.#now() + HOLD_BACK_MS });
    return null;
  }

  /** Takes every held message out, in arrival order -> [{envelope, until}]; keep() puts back what still waits. */
  takeAll() {
    const waiting = this.#held;
    this.#held = [];
    return waiting;
  }

  /** Puts back a message taken by takeAll() that still waits for its key, with its deadline. */
  keep(entry) {
    this.#held.push(entry);
  }
}
