// One joined chat: the RoomSession (all crypto state), the chat widgets, and what a
// dropped socket means for them. Server events run one at a time through a queue because
// their handlers await WebCrypto and must see the session in event order. The socket's life
// is in room-connection.js, our outgoing messages in outbox.js, keys in room-keys.js,
// warnings and the timer in room-integrity.js, the safety code in safety-view.js, the admin
// in room-admin.js; the page around it (room.js) decides the prejoin and end screens.
import { HOLD_BACK_MS, RoomSession } from "./protocol.js";
import { AdminClaim } from "./admin-claim.js";
import { Composer, MessageLog } from "./chat-view.js";
import { EventQueue, request, whenConnected } from "./net.js";
import { Outbox } from "./outbox.js";
import { renderPeople } from "./people-view.js";
import { RoomAdmin } from "./room-admin.js";
import { RoomConnection } from "./room-connection.js";
import { IntegrityNotices, IntegrityTimer, RejectedCount } from "./room-integrity.js";
import { RoomKeys } from "./room-keys.js";
import { SafetyView } from "./safety-view.js";
import { errorText, part } from "./ui.js";

const UNCONFIRMED_LABEL = "hasn't confirmed the room key";
const AWAY_LABEL = "reconnecting...";
const OFFLINE_TEXT = "Offline - your messages will be sent when you're back";
const AWAY_TOO_LONG = "You were away too long: messages sent while you were away are gone.";
const BACK_SHOWN_MS = 2500;
const RETRY_BACK_MS = [1000, 3000, 6000, 10000];
const RETRYABLE = new Set(["timeout", "busy", "rate_limited", "member_id_taken", "offline", "internal"]);

export class RoomChat {
  #root; #roomId; #secret; #pin; #name = "";
  #countdown; #onEnd; #onState;
  #connection; #session = null; #queue = new EventQueue();
  #log; #composer; #admin; #claim; #outbox;
  #notices; #keys; #safety; #timer; #unconfirmed = [];
  #joinedOnce = false; #live = false; #coming = false; #ended = false;
  #orphans = []; #backTries = 0; #backTimer = 0; #bannerTimer = 0;
  #heldTimer = 0; #rejected;
  #handlers = {
    member_joined: (data) => this.#onMemberJoined(data),
    member_left: (data) => this.#onMemberLeft(data),
    member_away: (data) => this.#onAway(data, true),
    member_back: (data) => this.#onAway(data, false),
    rekey: (data) => this.#onRekey(data),
    key_request: (data) => this.#onKeyRequest(data),
    room_key: (data) => this.#onRoomKey(data),
    message: (data) => this.#onMessage(data),
  };

  /**
   * `root`: the room markup; `pin`: the admin PIN when the creator came from the home page
   * (kept in memory only); `countdown`: the page's Countdown; `onEnd(kind, detail)` and
   * `onState({locked, count})` tell the page what happened.
   */
  constructor({ root, roomId, secret, pin = null, countdown, onEnd, onState }) {
    this.#root = root;
    this.#roomId = roomId;
    this.#secret = secret;
    this.#pin = pin;
    this.#countdown = countdown;
    this.#onEnd = onEnd;
    this.#onState = onState;
    this.#connection = new RoomConnection({ onLost: () => this.#onLost(), onBack: () => this.#onBack() });
    this.#log = new MessageLog(part(root, "messages"), part(root, "jump-latest"));
    this.#outbox = new Outbox({
      log: this.#log, session: () => (this.#ended ? null : this.#session), name: () => this.#name,
      emit: (envelope) => request(this.#socket, "message", envelope), online: () => this.#live && this.#connection.connected,
    });
    this.#composer = new Composer(part(root, "composer"), { onSend: async (text) => this.#outbox.write(text) });
    this.#notices = new IntegrityNotices(this.#log, (id) => this.#session?.member(id)?.name ?? null);
    this.#keys = new RoomKeys({
      socket: () => this.#socket, notices: this.#notices, onChange: () => this.#keyChanged(),
      deliver: (envelope) => this.#outbox.deliver(envelope),
    });
    this.#safety = new SafetyView(root);
    this.#rejected = new RejectedCount(part(root, "rejected"));
    this.#timer = new IntegrityTimer({
      schedule: (fn) => this.#queue.push(fn), session: () => (this.#ended ? null : this.#session),
      send: (event, payload) => this.#request(event, payload), notices: this.#notices, after: () => this.#refreshUnconfirmed(),
    });
    this.#admin = new RoomAdmin({
      root, log: this.#log, keys: this.#keys, session: () => this.#session,
      send: (event, payload) => this.#request(event, payload),
      onExtended: (expiresAt, now) => this.#countdown.update(expiresAt, now),
    });
    this.#claim = new AdminClaim(root, { claim: (pin) => this.claimAdmin(pin) });
  }

  // ---- joining ---------------------------------------------------------------------------

  /** Connects and joins as `name`; resolves {ok} or the failed ack ({ok: false, code}). */
  async join(name) {
    this.#name = name;
    const connected = await whenConnected(this.#connection.open((socket) => this.#wireSocket(socket)));
    if (!connected.ok) return this.#dropSocket(connected);
    const result = await this.#joinSession();
    if (!result.ok) return this.#dropSocket(result);
    this.#joinedOnce = true;
    this.#connection.joined();
    return result;
  }

  /** True once the first join succeeded. */
  get joined() {
    return this.#joinedOnce;
  }

  /** True while messages are on screen (a reload would erase them). */
  get hasMessages() {
    return !this.#ended && this.#log.hasMessages();
  }

  /** The current socket, or null. */
  get #socket() {
    return this.#connection.socket;
  }

  /** Puts the cursor in the message box. */
  focus() {
    this.#composer.focus();
  }

  /** Closes the socket after a failed first join so a retry starts clean; passes `result` on. */
  #dropSocket(result) {
    this.#socket?.disconnect();
    return result;
  }

  /** A fresh RoomSession (new keys, new member ID), the `join` request, then the queued events. */
  async #joinSession() {
    this.#queue.reset();
    this.#queue.pause(); // events that arrive before the join ack is processed wait for it
    this.#keys.reset();
    const session = new RoomSession({ roomId: this.#roomId, secret: this.#secret, acks: true });
    let payload;
    try {
      payload = await session.start(this.#name);
    } catch {
      return { ok: false, code: "invalid", error: "Enter a name of 1 to 32 characters." };
    }
    this.#session = session;
    const ack = await request(this.#socket, "join", payload);
    if (!ack.ok || this.#ended) {
      session.wipe();
      this.#session = null;
      this.#queue.reset();
      return ack.ok ? { ok: false, code: "no_room" } : ack;
    }
    this.#countdown.update(ack.expires_at, ack.now);
    try {
      await session.joined(ack);
    } catch {
      session.wipe(); // a server speaking another protocol version: never downgrade
      this.#session = null;
      this.#queue.reset();
      return { ok: false, code: "bad_version" };
    }
    this.#onState({ locked: ack.locked, count: (ack.members?.length ?? 0) + 1 });
    this.#live = true;
    if (this.#orphans.length) this.#outbox.moveTo(this.#orphans, session); // written before the seat was lost
    this.#orphans = [];
    this.#keyChanged();
    this.#rejected.show(this.#session);
    this.#queue.resume();
    this.#timer.start();
    if (this.#pin) await this.#authAdmin(ack);
    return { ok: true };
  }

  /** The creator's PIN (from memory) turns this connection into the room's admin. */
  async #authAdmin(joinAck) {
    if ((await this.#admin.claim(this.#socket, this.#roomId, this.#pin, joinAck)).ok) this.#refreshPeople();
  }

  /** "I'm the admin" in the people panel: the PIN typed by hand, on this member's own socket. */
  async claimAdmin(pin) {
    if (!this.#live || !this.#session) return { ok: false, code: "offline" };
    const ack = await this.#admin.claim(this.#socket, this.#roomId, pin, {}, { report: false });
    if (ack.ok) {
      this.#pin = pin; // in memory only: a resumed or new socket claims it again by itself
      this.#refreshPeople();
    }
    return ack;
  }

  /** Sends an acknowledged request on the current socket (admin controls and the integrity timer use it). */
  #request(event, payload) {
    // A digest is one of our envelopes: its outcome goes back into the session like a text's.
    if (event === "message") return this.#outbox.deliver(payload).then(() => ({ ok: true }));
    if (!this.#socket?.connected) return Promise.resolve({ ok: false, code: "offline" });
    return request(this.#socket, event, payload);
  }

  // ---- socket events ---------------------------------------------------------------------

  /** Routes every server→client event (PROTOCOL.md §7.2). */
  #wireSocket(socket) {
    for (const [event, handler] of Object.entries(this.#handlers)) {
      socket.on(event, (data) => {
        this.#queue.push(() => (this.#session && !this.#ended ? handler(data ?? {}) : undefined));
      });
    }
    // Time, lock, kick and burn need no crypto: handle them at once, ahead of any queued work.
    socket.on("room_state", (data) => this.#onRoomState(data ?? {}));
    socket.on("countdown", (data) => this.#onCountdown(data ?? {}));
    socket.on("kicked", () => this.end("kicked"));
    socket.on("destroyed", (data) => this.end("burned", data?.reason));
  }

  /** member_away / member_back: greyed as "reconnecting..." in the people list, or normal again. */
  #onAway({ member_id: memberId }, away) {
    if (away ? this.#session.markAway(memberId) : this.#session.markBack(memberId)) this.#refreshPeople();
  }

  /** A newcomer's announcement: accepted (system line) or flagged (counter); the key changes for it. */
  async #onMemberJoined(announcement) {
    const member = await this.#session.addMember(announcement);
    if (member) this.#log.addSystem([{ name: member.name }, " joined"], "join");
    this.#keyChanged(); // a newcomer never gets the key used before it came
    this.#rejected.show(this.#session);
  }

  /** Someone left, dropped or was kicked: the old key is done with at once, whether or not the server rekeys. */
  async #onMemberLeft({ member_id: memberId, reason }) {
    const member = this.#session.member(memberId);
    const hadKey = this.#session.ready;
    this.#session.removeMember(memberId);
    // Our own kick is said once our key shows it (#confirmKick): the server's word alone proves nothing.
    const ownKick = reason === "kicked" && this.#admin.kicking(memberId);
    if (member && ownKick) {
      this.#log.addSystem(["Removing ", { name: member.name }, "..."], "quiet");
    } else if (member) {
      const what = reason === "kicked" ? " was removed by the admin" : reason === "disconnected" ? " lost connection" : " left";
      this.#log.addSystem([{ name: member.name }, what], reason === "kicked" ? "warn" : "leave");
    }
    if (hadKey && !this.#session.ready) this.#log.addSystem(["Waiting for a new room key - nothing more is sent under the old one"], "key");
    this.#keyChanged();
    await this.#releaseHeld(); // messages held for a key of the old member set are refused now
  }

  /** A new epoch: lock the composer until its key arrives. */
  async #onRekey(event) {
    this.#keys.onRekey(this.#session, event);
    await this.#releaseHeld();
  }

  /** The server asks us to make this epoch's key (we are its creator). */
  async #onKeyRequest(keyRequest) {
    await this.#keys.onKeyRequest(this.#session, keyRequest);
    await this.#releaseHeld();
  }

  /** A wrapped room key for us: accepted (key_held, confirm) or refused with a warning. */
  async #onRoomKey(event) {
    await this.#keys.onRoomKey(this.#session, event);
    await this.#releaseHeld();
  }

  /** A message: shown only if every §6 check passes, held back while its key is on its way, else counted. */
  async #onMessage(envelope) {
    try {
      const result = await this.#session.open(envelope);
      if (result) this.#showResult(result);
      else this.#armHeldTimer();
    } catch {
      this.#rejected.show(this.#session);
    }
  }

  /** What open() gave: notices as system lines, then a text (with its late / out-of-order note). */
  #showResult(result) {
    this.#notices.show(result.notices);
    if (result.text === undefined) {
      this.#refreshUnconfirmed(); // a confirm or digest: its sender has been heard from
      return;
    }
    const { memberId, name, text, me, late, outOfOrder, afterReplies } = result;
    if (outOfOrder) this.#notices.outOfOrder(memberId);
    const note = late ? "arrived late" : afterReplies ? "arrived after the replies to it" : outOfOrder ? "shown out of order" : "";
    this.#log.addMessage({ senderId: memberId, name, text, me, note, own: false });
    this.#refreshUnconfirmed();
  }

  /** Shows held-back messages whose key is here; counts those stale or waiting too long. */
  async #releaseHeld() {
    const session = this.#session;
    if (!session?.heldCount) return;
    const shown = await session.releaseHeld();
    if (session !== this.#session || this.#ended) return;
    for (const result of shown) this.#showResult(result);
    this.#rejected.show(this.#session);
    if (session.heldCount) this.#armHeldTimer();
  }

  /** Makes sure held-back messages are given up on (and counted) once their time is over. */
  #armHeldTimer() {
    if (this.#heldTimer) return;
    this.#heldTimer = setTimeout(() => {
      this.#heldTimer = 0;
      this.#queue.push(() => (this.#session && !this.#ended ? this.#releaseHeld() : undefined));
    }, HOLD_BACK_MS + 100);
  }

  /** The key, the floor or the members changed: composer, safety code and people list follow. */
  #keyChanged() {
    const session = this.#session;
    if (!session || this.#ended) return;
    const current = this.#keys.canSend(session);
    if (this.#live) this.#composer.setReady(current);
    else this.#composer.setReady(false, OFFLINE_TEXT, { writable: true });
    this.#safety.show(session.safetyCode(), { current });
    this.#refreshUnconfirmed(true);
    this.#outbox.pump(); // a key held, a rekey, a resume: queued texts may go out now
  }

  /** Marks roster members not heard from under the new key in the people list (§5.5). */
  #refreshUnconfirmed(force = false) {
    const silent = this.#session?.unconfirmed() ?? [];
    if (!force && silent.join() === this.#unconfirmed.join()) return;
    this.#unconfirmed = silent;
    this.#refreshPeople();
  }

  /** Lock, head count and expiry changed. */
  #onRoomState({ locked, count, expires_at: expiresAt, now }) {
    if (this.#ended) return;
    this.#countdown.update(expiresAt, now);
    this.#onState({ locked, count });
    this.#admin.update({ locked, expiresAt });
  }

  /** The server's periodic time sync. */
  #onCountdown({ expires_at: expiresAt, now }) {
    if (this.#ended) return;
    this.#countdown.update(expiresAt, now);
    this.#admin.update({ expiresAt });
  }

  // ---- connection loss -------------------------------------------------------------------

  /** The socket dropped: keep the session (the server keeps our seat), write offline meanwhile. */
  #onLost() {
    if (this.#ended || !this.#joinedOnce) return;
    this.#live = false;
    this.#timer.stop();
    this.#banner("Connection lost - reconnecting...", "lost");
    this.#keyChanged();
  }

  /** A new socket: take the seat back (resume), or join as new when the window has passed. */
  async #onBack() {
    if (!this.#joinedOnce || this.#ended || this.#coming || !this.#connection.connected) return;
    this.#coming = true;
    clearTimeout(this.#backTimer);
    let result;
    try {
      result = this.#session ? await this.#resume() : { ok: false, code: "bad_resume" };
      if (result.code === "bad_resume" && !this.#ended) result = await this.#rejoinAsNew();
    } finally {
      this.#coming = false;
    }
    if (this.#ended) return;
    if (result.ok) {
      this.#backTries = 0;
      this.#banner(result.resumed ? "You're back" : "Reconnected", "back", BACK_SHOWN_MS);
      this.#timer.start();
      this.#keyChanged();
      if (this.#pin) await this.#authAdmin({});
    } else if (result.code === "no_room") {
      this.end("burned", "gone");
    } else if (RETRYABLE.has(result.code)) {
      const wait = RETRY_BACK_MS[Math.min(this.#backTries, RETRY_BACK_MS.length - 1)];
      this.#backTries += 1;
      this.#backTimer = setTimeout(() => this.#onBack(), wait); // a no-op unless still connected
    } else if (this.#connection.connected) {
      this.end("failed", `Couldn't rejoin: ${errorText(result)}`);
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
    const session = this.#session;
    let payload;
    try {
      payload = session.resumePayload();
    } catch {
      return { ok: false, code: "bad_resume" };
    }
    const ack = await request(this.#socket, "resume", payload);
    if (!ack.ok || session !== this.#session || this.#ended) return ack.ok ? { ok: false, code: "internal" } : ack;
    this.#countdown.update(ack.expires_at, ack.now);
    const names = new Map(session.members().map((member) => [member.memberId, member.name]));
    const { missed, joined, left } = await session.resumed(ack);
    for (const member of joined) this.#log.addSystem([{ name: member.name }, " joined"], "join");
    for (const id of left) if (names.has(id)) this.#log.addSystem([{ name: names.get(id) }, " left"], "leave");
    this.#live = true;
    for (const [event, data] of missed) {
      if (session !== this.#session || this.#ended) break;
      try {
        await this.#handlers[event]?.(data ?? {});
      } catch { /* one bad event must not cost the rest; the handlers report what they refuse */ }
    }
    this.#onState({ locked: ack.locked, count: session.members().length });
    this.#admin.update({ locked: ack.locked, expiresAt: ack.expires_at });
    this.#refreshPeople();
    return { ok: true, resumed: true };
  }

  /** The seat is gone (away past the window): a new member with new keys; what we wrote waits for it. */
  async #rejoinAsNew() {
    const old = this.#session;
    if (old) {
      this.#orphans.push(...old.pending());
      this.#rejected.keep(old);
      old.wipe();
      this.#session = null;
      this.#keys.reset();
      this.#log.addSystem([AWAY_TOO_LONG], "warn");
    }
    return this.#joinSession();
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

  // ---- what the page shows ---------------------------------------------------------------

  /** Re-renders the people list (with Kick buttons for an admin) and its count. */
  #refreshPeople() {
    const silent = new Set(this.#unconfirmed);
    const people = (this.#session?.members() ?? []).map((person) => {
      if (person.away) return { ...person, label: AWAY_LABEL, labelClass: "tag--away" };
      return silent.has(person.memberId) ? { ...person, label: UNCONFIRMED_LABEL, labelClass: "tag--warn" } : person;
    });
    const onKick = this.#admin.active ? (person, button) => this.#admin.kick(person, button) : null;
    renderPeople(part(this.#root, "people"), people, { onKick });
    this.#claim.show(!this.#admin.active);
    part(this.#root, "people-count").textContent = String(people.length);
  }

  // ---- the end ---------------------------------------------------------------------------

  /** Wipes everything of the room at once (DOM text, keys, socket), then tells the page how it ended. */
  end(kind, detail = null) {
    if (this.#ended) return;
    this.#ended = true;
    this.wipe();
    this.#onEnd(kind, detail);
  }

  /** Removes every message and name from the DOM and forgets every key; used on burn, kick and pagehide. */
  wipe() {
    this.#queue.reset();
    this.#timer.stop();
    this.#keys.reset();
    clearTimeout(this.#heldTimer);
    this.#heldTimer = 0;
    this.#log.clear();
    this.#notices.clear();
    this.#composer.wipe();
    this.#admin.wipe();
    this.#claim.wipe();
    this.#outbox.wipe();
    clearTimeout(this.#backTimer);
    clearTimeout(this.#bannerTimer);
    part(this.#root, "people").replaceChildren();
    this.#safety.wipe();
    this.#rejected.wipe();
    this.#session?.wipe();
    this.#session = null;
    this.#orphans = [];
    this.#pin = this.#secret = null;
    this.#live = false;
    this.#connection.close();
  }

  /** The page is put in the back/forward cache: its socket closes, its seat is kept for the grace window. */
  sleep() {
    this.#connection.sleep();
  }

  /** The page was shown again from the back/forward cache: reconnect (and resume) now. */
  wake() {
    this.#connection.wake();
  }

  /** The page is really going away (not frozen, not cached): give the seat up at once, then wipe. */
  leave() {
    if (this.#ended) return;
    this.#ended = true;
    this.#connection.leave();
    this.wipe();
  }
}
