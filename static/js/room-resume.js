// What a dropped socket means for a joined chat (docs/PROTOCOL.md §7.4): the session is kept
// while the server keeps our seat; each new socket takes the seat back (`resume`, with the
// missed events replayed through the chat's own handlers), or joins as a new member once the
// window has passed; the connection banner says which. The socket's own life is in
// room-connection.js; the session and its handlers stay in room-chat.js.
import { request } from "./net.js";
import { errorText, part } from "./ui.js";

const AWAY_TOO_LONG = "You were away too long: messages sent while you were away are gone.";
const BACK_SHOWN_MS = 2500;
const RETRY_BACK_MS = [1000, 3000, 6000, 10000];
const RETRYABLE = new Set(["timeout", "busy", "rate_limited", "member_id_taken", "offline", "internal"]);

export class RoomResume {
  #root; #connection; #queue; #log; #timer; #countdown; #admin; #rejected; #chat;
  #orphans = []; #coming = false; #backTries = 0; #backTimer = 0; #bannerTimer = 0;

  /**
   * The chat's parts (RoomConnection, EventQueue, MessageLog, IntegrityTimer, Countdown, RoomAdmin,
   * RejectedCount) and `chat`, its hooks: session(), socket(), joined(), ended(), setLive(live),
   * keyChanged(), handle(event, data), onState(state), refreshPeople(), forgetSession(),
   * joinSession(), reclaimAdmin(), end(kind, detail).
   */
  constructor({ root, connection, queue, log, timer, countdown, admin, rejected, chat }) {
    this.#root = root;
    this.#connection = connection;
    this.#queue = queue;
    this.#log = log;
    this.#timer = timer;
    this.#countdown = countdown;
    this.#admin = admin;
    this.#rejected = rejected;
    this.#chat = chat;
  }

  /** What we wrote before the seat was lost, for the new session (handed over once). */
  takeOrphans() {
    const orphans = this.#orphans;
    this.#orphans = [];
    return orphans;
  }

  /** The socket dropped: keep the session (the server keeps our seat), write offline meanwhile. */
  lost() {
    if (this.#chat.ended() || !this.#chat.joined()) return;
    this.#chat.setLive(false);
    this.#timer.stop();
    this.#banner("Connection lost - reconnecting...", "lost");
    this.#chat.keyChanged();
  }

  /** A new socket: take the seat back (resume), or join as new when the window has passed. */
  async back() {
    if (!this.#chat.joined() || this.#chat.ended() || this.#coming || !this.#connection.connected) return;
    this.#coming = true;
    clearTimeout(this.#backTimer);
    let result;
    try {
      result = this.#chat.session() ? await this.#resume() : { ok: false, code: "bad_resume" };
      if (result.code === "bad_resume" && !this.#chat.ended()) result = await this.#rejoinAsNew();
    } finally {
      this.#coming = false;
    }
    if (this.#chat.ended()) return;
    if (result.ok) {
      this.#backTries = 0;
      this.#banner(result.resumed ? "You're back" : "Reconnected", "back", BACK_SHOWN_MS);
      this.#timer.start();
      this.#chat.keyChanged();
      await this.#chat.reclaimAdmin();
    } else if (result.code === "no_room") {
      this.#chat.end("burned", "gone");
    } else if (RETRYABLE.has(result.code)) {
      const wait = RETRY_BACK_MS[Math.min(this.#backTries, RETRY_BACK_MS.length - 1)];
      this.#backTries += 1;
      this.#backTimer = setTimeout(() => this.back(), wait); // a no-op unless still connected
    } else if (this.#connection.connected) {
      this.#chat.end("failed", `Couldn't rejoin: ${errorText(result)}`);
    }
  }

  /**
   * Sends `resume` and replays what we missed through the normal handlers, in order, before any
   * event of the new socket: the work runs in the event queue, which holds everything after it.
   */
  #resume() {
    return new Promise((resolve) => {
      this.#queue.push(async () => {
        try {
          resolve(await this.#takeSeatBack());
        } catch {
          resolve({ ok: false, code: "internal" });
        } finally {
          this.#queue.resume();
        }
      }).then(() => resolve({ ok: false, code: "internal" })); // skipped by a reset: settle anyway
      this.#queue.pause();
    });
  }

  /** The `resume` request and its ack: members reconciled, then every missed event in order. */
  async #takeSeatBack() {
    const session = this.#chat.session();
    let payload;
    try {
      payload = session.resumePayload();
    } catch {
      return { ok: false, code: "bad_resume" };
    }
    const ack = await request(this.#chat.socket(), "resume", payload);
    if (!ack.ok || session !== this.#chat.session() || this.#chat.ended()) return ack.ok ? { ok: false, code: "internal" } : ack;
    this.#countdown.update(ack.expires_at, ack.now);
    const names = new Map(session.members().map((member) => [member.memberId, member.name]));
    const { missed, joined, left } = await session.resumed(ack);
    for (const member of joined) this.#log.addSystem([{ name: member.name }, " joined"], "join");
    for (const id of left) if (names.has(id)) this.#log.addSystem([{ name: names.get(id) }, " left"], "leave");
    this.#chat.setLive(true);
    for (const [event, data] of missed) {
      if (session !== this.#chat.session() || this.#chat.ended()) break;
      try {
        await this.#chat.handle(event, data ?? {});
      } catch { /* one bad event must not cost the rest; the handlers report what they refuse */ }
    }
    this.#chat.onState({ locked: ack.locked, count: session.members().length });
    this.#admin.update({ locked: ack.locked, expiresAt: ack.expires_at });
    this.#chat.refreshPeople();
    return { ok: true, resumed: true };
  }

  /** The seat is gone (away past the window): a new member with new keys; what we wrote waits for it. */
  async #rejoinAsNew() {
    const old = this.#chat.session();
    if (old) {
      this.#orphans.push(...old.pending());
      this.#rejected.keep(old);
      old.wipe();
      this.#chat.forgetSession();
      this.#log.addSystem([AWAY_TOO_LONG], "warn");
    }
    return this.#chat.joinSession();
  }

  /** The connection banner: "Connection lost - reconnecting..." or, for a moment, "You're back". */
  #banner(text, tone, ms = 0) {
    const banner = part(this.#root, "connection-banner");
    clearTimeout(this.#bannerTimer);
    banner.textContent = text;
    banner.dataset.tone = tone;
    banner.hidden = false;
    if (ms) this.#bannerTimer = setTimeout(() => { banner.hidden = true; }, ms);
  }

  /** Stops the retry and banner timers and forgets what was waiting for a new seat. */
  wipe() {
    clearTimeout(this.#backTimer);
    clearTimeout(this.#bannerTimer);
    this.#orphans = [];
  }
}
