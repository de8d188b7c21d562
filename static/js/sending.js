// Acknowledged sending (docs/PROTOCOL.md §6.6): the outbox of texts not sealed yet, the envelopes
// in flight whose outcome the server has not given, and our chain head `acked`. Plain bookkeeping,
// no keys: protocol.js seals and tells this module what it sealed and what the server answered.
// `acked` moves only on an acknowledgement, so a refused envelope never leaves a hole in our chain.
import { MAX_TEXT_BYTES, ProtocolError, utf8Length } from "./crypto.js";
import { ZERO_HASH } from "./ratchet.js";

/** Refusals after which the very same envelope is sent again (§6.6); stale_epoch re-seals, any other code fails. */
export const TRANSIENT_REFUSALS = new Set(["rate_limited", "busy", "internal", "timeout", "offline", "no_answer"]);

/** The UI's view of a pending text. */
function info(item, state, extra = {}) {
  return { localId: item.localId, text: item.text, me: item.me, state, ...extra };
}

export class Sending {
  #acks;                    // true: the caller reports every envelope's outcome (sent / refused)
  #flight = [];             // [{envelope, hash, kind, item, again}]: sealed, outcome not known (or to send again)
  #outbox = [];             // [{localId, text, me}]: texts not sealed yet, in order
  #localIds = 0;
  #staleEpoch = 0;          // the newest epoch the server refused as stale: nothing more is sealed under it
  acked = ZERO_HASH;        // hash of our last acknowledged envelope (any epoch): the next one's prev
  sentCount = 0;            // our texts the server acknowledged

  constructor(acks) {
    this.#acks = Boolean(acks);
  }

  /** True when the caller reports outcomes (else every envelope counts as acknowledged when sealed). */
  get acks() { return this.#acks; }
  /** Texts waiting to be sealed. */
  get queued() { return this.#outbox.length; }

  /** True when a new envelope may be sealed under `epoch`: no outcome awaited and the epoch not refused as stale. */
  canSealUnder(epoch) {
    return this.#flight.length === 0 && epoch > this.#staleEpoch;
  }

  /** A text to send: checked (empty, too_long) and given a local ID. */
  item(text, me) {
    const size = typeof text === "string" ? utf8Length(text) : 0;
    if (size === 0) throw new ProtocolError("empty");
    if (size > MAX_TEXT_BYTES) throw new ProtocolError("too_long");
    this.#localIds += 1;
    return { localId: `p${this.#localIds}`, text, me: Boolean(me) };
  }

  /** A file's metadata body to send (§6.7), queued and resent like a text. */
  fileItem(body) {
    this.#localIds += 1;
    return { localId: `p${this.#localIds}`, text: "", me: false, file: body };
  }

  /** Puts `item` at the end of the outbox (or back at its front, `first`). */
  enqueue(item, { first = false } = {}) {
    if (first) this.#outbox.unshift(item); else this.#outbox.push(item);
  }

  /** The next queued text, taken off the outbox, or undefined. */
  nextQueued() {
    return this.#outbox.shift();
  }

  /** A sealed envelope: -> the entry, in flight with acks; without acks the caller acknowledges it at once. */
  track(envelope, hash, kind, item = null) {
    const entry = { envelope, hash, kind, item, again: false };
    if (this.#acks) this.#flight.push(entry);
    return entry;
  }

  /** The server took `entry`: it is our chain head; -> true for a text (counted as sent). */
  acknowledge(entry) {
    this.acked = entry.hash;
    if (entry.kind !== "text" && entry.kind !== "file") return false;
    this.sentCount += 1;
    return true;
  }

  /** Everything in flight went out on a dropped socket: all of it is to be sent again, unchanged. */
  resendAll() {
    for (const entry of this.#flight) entry.again = true;
  }

  /**
   * With acks, before sealing anything new (§6.6): {wait: true} while an outcome is awaited or the
   * first envelope's epoch was refused as stale; {envelope} to send again unchanged; else {} (and the
   * envelopes of an epoch older than `heldEpoch` are requeued: {digestDropped} says a digest was among them).
   */
  resendable(heldEpoch) {
    if (this.#flight.some((entry) => !entry.again)) return { wait: true };
    const first = this.#flight[0];
    if (first && heldEpoch > first.envelope.epoch) return { digestDropped: this.requeueStale(first.envelope.epoch) }; // the room moved on
    if (first) {
      if (first.envelope.epoch <= this.#staleEpoch) return { wait: true };
      first.again = false;
      return { envelope: first.envelope };
    }
    return {};
  }

  /** The index in flight of one of our envelopes, or -1. */
  #find(envelope) {
    return this.#flight.findIndex(({ envelope: e }) => e.epoch === envelope?.epoch && e.seq === envelope?.seq && e.sig === envelope?.sig);
  }

  /** The server acknowledged `envelope`: -> its entry taken out of flight, or null when not pending. */
  takeSent(envelope) {
    const index = this.#find(envelope);
    return index < 0 ? null : this.#flight.splice(index, 1)[0];
  }

  /**
   * The server refused `envelope` with `code`: -> {result, digestDropped} where result is the text's
   * view with state retry / queued / failed (null for a confirm, a digest or an envelope not pending).
   */
  refused(envelope, code) {
    const index = this.#find(envelope);
    if (index < 0) return { result: null, digestDropped: false };
    const entry = this.#flight[index];
    let state = "retry", digestDropped = false;
    if (code === "stale_epoch") {
      digestDropped = this.requeueStale(entry.envelope.epoch);
      state = "queued";
    } else if (TRANSIENT_REFUSALS.has(code)) {
      entry.again = true;
    } else {
      this.#flight.splice(index, 1);
      state = "failed";
    }
    return { result: entry.item ? info(entry.item, state, state === "failed" ? { code } : {}) : null, digestDropped };
  }

  /** The server is past `epoch`: what we sealed under it never went out; its texts are queued again, first. -> true if a digest was dropped. */
  requeueStale(epoch) {
    this.#staleEpoch = Math.max(this.#staleEpoch, epoch);
    const stale = this.#flight.filter((entry) => entry.envelope.epoch <= epoch);
    this.#flight = this.#flight.filter((entry) => entry.envelope.epoch > epoch);
    this.#outbox.unshift(...stale.filter((entry) => entry.item).map((entry) => entry.item));
    return stale.some((entry) => entry.kind === "digest");
  }

  /** Our texts not acknowledged yet, in send order: [{localId, text, me, state: "sending" | "retry" | "queued"}]. */
  pending() {
    return [
      ...this.#flight.filter((entry) => entry.item).map((entry) => info(entry.item, entry.again ? "retry" : "sending")),
      ...this.#outbox.map((item) => info(item, "queued")),
    ];
  }
}
