// Our messages on their way out (docs/PROTOCOL.md §6.6). A written text is queued in the
// RoomSession and shown at once as a pending bubble (a clock); while the socket is up, one
// envelope at a time goes out and its ack decides: sent (the bubble becomes a normal one), a
// passing refusal or no answer (the same envelope again, after a resume or a short wait),
// stale_epoch (protocol.js seals the text again under the next key), anything else (said on the
// bubble). Confirms and digests take the same road: with acks, an envelope whose outcome is never
// reported would stop everything after it.
import { TRANSIENT_REFUSALS } from "./protocol.js";
import { errorText } from "./ui.js";

const RETRY_MS = [1000, 2000, 4000, 8000]; // rate_limited, busy, a lost ack on a live socket: try again later

/** "/me waves" is an action ({text: "waves", me: true}); "//me" sends "/me" as it is typed; anything else a text. */
export function readCommand(line) {
  const action = /^\/me\s+(\S[\s\S]*)$/u.exec(line);
  if (action) return { text: action[1], me: true };
  return { text: line.startsWith("//") ? line.slice(1) : line, me: false };
}

/** The words on a bubble that finally can't be sent. */
function failedText(code) {
  if (code === "gone") return "you were away too long, and it may not have reached everyone";
  if (code === "not_member") return "you're not in this room any more";
  if (code === "no_room") return "the room burned";
  return errorText({ code }).replace(/\.$/, "");
}

export class Outbox {
  #log; #session; #emit; #online; #name; #onRelink;
  #bubbles = new Map(); // localId -> bubble node, for the current session only
  #files = new Map();   // localId -> onOutcome(state, reason) of a file's metadata (room-files.js)
  #pumping = false; #again = false; #retries = 0; #retryTimer = 0;

  /**
   * `log`: the MessageLog; `session()`: the current RoomSession or null; `emit(envelope)`: sends one
   * `message` and resolves its ack (never buffered offline, see net.js request); `online()`: true
   * while the socket is joined and usable; `name()`: our display name for the bubbles;
   * `onRelink(relink)`: the server took our link message (§5.6), so the new link is ours now.
   */
  constructor({ log, session, emit, online, name, onRelink = () => {} }) {
    this.#onRelink = onRelink;
    this.#log = log;
    this.#session = session;
    this.#emit = emit;
    this.#online = online;
    this.#name = name;
  }

  /** A text from the composer: queued and shown as pending at once -> {ok} or {ok: false, message}. */
  write(line) {
    const session = this.#session();
    if (!session) return { ok: false, message: "Not connected yet - your text is kept." };
    const { text, me } = readCommand(line);
    let localId;
    try {
      localId = session.queue(text, { me });
    } catch (error) {
      return { ok: false, message: error?.code === "too_long" ? "Message too long (4,096 bytes max)." : "Not connected yet - your text is kept." };
    }
    this.#show(localId, text, me);
    this.pump();
    return { ok: true };
  }

  /** A file's metadata body (files.js): queued like a text; `onOutcome("sent" | "failed", reason)`. */
  writeFile(body, onOutcome) {
    const session = this.#session();
    if (!session) return { ok: false, message: "Not connected yet." };
    const localId = session.queueFile(body);
    this.#files.set(localId, onOutcome);
    this.pump();
    return { ok: true };
  }

  /** A pending bubble for our text `localId`. */
  #show(localId, text, me = false) {
    const item = this.#log.addMessage({ senderId: this.#session()?.memberId, name: this.#name(), text, me, own: true, pending: true });
    this.#bubbles.set(localId, item);
  }

  /** An envelope the session already sealed (a confirm, a digest): sent now, its outcome reported. */
  async deliver(envelope) {
    const session = this.#session();
    if (session) await this.#send(session, envelope);
    this.pump();
  }

  /** Sends whatever the session has ready, in order, one outcome at a time; safe to call any time. */
  async pump() {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        await this.#drain();
      } while (this.#again);
    } finally {
      this.#pumping = false;
    }
  }

  async #drain() {
    for (;;) {
      const session = this.#session();
      if (!session || !this.#online()) return;
      let batch;
      try {
        batch = await session.takeResendable();
      } catch {
        return; // wiped meanwhile, or nothing sealable yet: the next key or outcome pumps again
      }
      if (batch.length === 0) return;
      for (const envelope of batch) {
        if (!(await this.#send(session, envelope))) return;
      }
    }
  }

  /** One envelope out and its outcome into the session; false when sending should pause. */
  async #send(session, envelope) {
    const ack = await this.#emit(envelope);
    if (session !== this.#session()) return false;
    if (ack.ok) {
      this.#retries = 0;
      const info = await session.sent(envelope);
      if (info?.relink) this.#onRelink(info.relink);
      else if (info) this.#settle(info.localId, "sent");
      return true;
    }
    const code = ack.code || "internal";
    const info = await session.refused(envelope, code);
    if (info?.state === "failed") this.#settle(info.localId, "failed", failedText(info.code));
    if (!TRANSIENT_REFUSALS.has(code)) return true;
    // Offline: the resume sends it again. On a live socket (rate_limited, busy, a lost ack): after a pause.
    if (this.#online()) this.#retryLater();
    return false;
  }

  /** Pumps again after a growing pause (never more than one timer). */
  #retryLater() {
    if (this.#retryTimer) return;
    const wait = RETRY_MS[Math.min(this.#retries, RETRY_MS.length - 1)];
    this.#retries += 1;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = 0;
      this.pump();
    }, wait);
  }

  /** A bubble reaches its final state. */
  #settle(localId, state, reason = "") {
    const file = this.#files.get(localId);
    this.#files.delete(localId);
    file?.(state, reason);
    const item = this.#bubbles.get(localId);
    if (!item) return;
    this.#bubbles.delete(localId);
    this.#log.setSendState(item, state, reason);
  }

  /**
   * The seat was lost (away too long): `pending` ([{localId, text, me, state}] of the old session, taken
   * before its wipe) moves to `next`. Texts never sent are queued there, in order, on their bubbles;
   * those already on the wire may or may not have arrived, so they are marked, never sent twice.
   */
  moveTo(pending, next) {
    const old = this.#bubbles;
    this.#bubbles = new Map();
    for (const { localId, text, me, state } of pending) {
      const item = old.get(localId);
      old.delete(localId);
      if (!item) continue;
      if (state !== "queued") {
        this.#log.setSendState(item, "failed", failedText("gone"));
        continue;
      }
      try {
        this.#bubbles.set(next.queue(text, { me }), item);
      } catch {
        this.#log.setSendState(item, "failed", failedText("internal"));
      }
    }
    for (const item of old.values()) this.#log.setSendState(item, "failed", failedText("gone"));
  }

  /** The texts that will never go out now (`failed`: [{localId}]), said on their bubbles. */
  fail(failed, code) {
    for (const { localId } of failed) this.#settle(localId, "failed", failedText(code));
  }

  /** True while a text of ours is waiting or on its way. */
  get busy() {
    return this.#bubbles.size > 0;
  }

  /** Forgets every bubble (the log is cleared) and the retry timer. */
  wipe() {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = 0;
    this.#retries = 0;
    this.#bubbles = new Map();
    this.#files = new Map();
  }
}
