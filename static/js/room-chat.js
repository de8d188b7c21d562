// One joined chat: the socket, the RoomSession (all crypto state), and the
// chat widgets. Server events run one at a time through a queue because their
// handlers await WebCrypto and must see the session in event order. Keys live in
// room-keys.js, warnings and the timer in room-integrity.js, the safety code in
// safety-view.js; the page around it (room.js) decides the prejoin and end screens.
import { HOLD_BACK_MS, RoomSession } from "./protocol.js";
import { Composer, MessageLog } from "./chat-view.js";
import { EventQueue, openSocket, request, whenConnected } from "./net.js";
import { renderPeople } from "./people-view.js";
import { RoomAdmin } from "./room-admin.js";
import { IntegrityNotices, IntegrityTimer, RejectedCount } from "./room-integrity.js";
import { RoomKeys } from "./room-keys.js";
import { SafetyView } from "./safety-view.js";
import { errorText, part } from "./ui.js";

const UNCONFIRMED_LABEL = "hasn't confirmed the room key";
const RETRY_REJOIN_MS = 3000;
const RETRYABLE = new Set(["timeout", "busy", "rate_limited", "member_id_taken", "offline"]);

export class RoomChat {
  #root; #roomId; #secret; #pin; #name = "";
  #countdown; #onEnd; #onState;
  #socket = null; #session = null; #queue = new EventQueue();
  #log; #composer; #admin;
  #notices; #keys; #safety; #timer; #unconfirmed = [];
  #joinedOnce = false; #rejoining = false; #ended = false;
  #heldTimer = 0; #rejected;

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
    this.#log = new MessageLog(part(root, "messages"), part(root, "jump-latest"));
    this.#composer = new Composer(part(root, "composer"), { onSend: (text) => this.#send(text) });
    this.#notices = new IntegrityNotices(this.#log, (id) => this.#session?.member(id)?.name ?? null);
    this.#keys = new RoomKeys({ socket: () => this.#socket, notices: this.#notices, onChange: () => this.#keyChanged() });
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
  }

  // ---- joining ---------------------------------------------------------------------------

  /** Connects and joins as `name`; resolves {ok} or the failed ack ({ok: false, code}). */
  async join(name) {
    this.#name = name;
    if (!this.#socket) {
      this.#socket = openSocket();
      this.#wireSocket(this.#socket);
    } else if (!this.#socket.connected) {
      this.#socket.connect();
    }
    const connected = await whenConnected(this.#socket);
    if (!connected.ok) return this.#dropSocket(connected);
    const result = await this.#joinSession();
    if (!result.ok) return this.#dropSocket(result);
    this.#joinedOnce = true;
    return result;
  }

  /** True once the first join succeeded. */
  get joined() {
    return this.#joinedOnce;
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
    const session = new RoomSession({ roomId: this.#roomId, secret: this.#secret });
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
    this.#keyChanged();
    this.#rejected.show(this.#session);
    this.#queue.resume();
    this.#timer.start();
    if (this.#pin) await this.#authAdmin(ack);
    return { ok: true };
  }

  /** The creator's PIN (from memory) turns this connection into the room's admin. */
  async #authAdmin(joinAck) {
    if (await this.#admin.claim(this.#socket, this.#roomId, this.#pin, joinAck)) this.#refreshPeople();
  }

  /** Sends an acknowledged request on the current socket (admin controls use it). */
  #request(event, payload) {
    if (!this.#socket?.connected) return Promise.resolve({ ok: false, code: "offline" });
    return request(this.#socket, event, payload);
  }

  // ---- socket events ---------------------------------------------------------------------

  /** Routes every server→client event (PROTOCOL.md §7.2). */
  #wireSocket(socket) {
    const queued = (event, handler) => socket.on(event, (data) => {
      this.#queue.push(() => (this.#session && !this.#ended ? handler(data ?? {}) : undefined));
    });
    queued("member_joined", (data) => this.#onMemberJoined(data));
    queued("member_left", (data) => this.#onMemberLeft(data));
    queued("rekey", (data) => this.#onRekey(data));
    queued("key_request", (data) => this.#onKeyRequest(data));
    queued("room_key", (data) => this.#onRoomKey(data));
    queued("message", (data) => this.#onMessage(data));
    // Time, lock, kick and burn need no crypto: handle them at once, ahead of any queued work.
    socket.on("room_state", (data) => this.#onRoomState(data ?? {}));
    socket.on("countdown", (data) => this.#onCountdown(data ?? {}));
    socket.on("kicked", () => this.end("kicked"));
    socket.on("destroyed", (data) => this.end("burned", data?.reason));
    socket.on("disconnect", (reason) => this.#onDisconnect(reason));
    socket.on("connect", () => this.#onReconnect());
    // The browser knows about a lost network long before Socket.IO's ping timeout does.
    window.addEventListener("offline", this.#onBrowserOffline);
    window.addEventListener("online", this.#onBrowserOnline);
  }

  /** Network gone: drop the socket now (the old member is lost anyway) instead of waiting ~45 s. */
  #onBrowserOffline = () => {
    if (this.#joinedOnce && !this.#ended && this.#socket?.connected) this.#socket.disconnect();
  };

  /** Network back: reconnect at once; the "connect" handler rejoins as a new member. */
  #onBrowserOnline = () => {
    if (this.#joinedOnce && !this.#ended && this.#socket && !this.#socket.connected) this.#socket.connect();
  };

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
    this.#composer.setReady(current);
    this.#safety.show(session.safetyCode(), { current });
    this.#refreshUnconfirmed(true);
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

  /** An unexpected disconnect: say so and let Socket.IO reconnect. */
  #onDisconnect(reason) {
    if (this.#ended || !this.#joinedOnce) return;
    this.#queue.reset();
    this.#rejected.keep(this.#session);
    this.#session?.wipe(); // those keys belong to a member the server has already removed
    this.#session = null;
    this.#keys.reset();
    part(this.#root, "connection-banner").hidden = false;
    this.#composer.setReady(false, "Reconnecting...");
    // After a server-side disconnect Socket.IO does not retry by itself (nor after our own, when offline).
    if (reason === "io server disconnect") setTimeout(() => this.#socket?.connect(), 1000);
    else if (reason === "io client disconnect" && navigator.onLine) this.#socket?.connect();
  }

  /** Back online: rejoin as a new member (fresh keys and member ID), keeping the messages on screen. */
  async #onReconnect() {
    if (!this.#joinedOnce || this.#ended || this.#rejoining) return;
    this.#rejoining = true;
    const result = await this.#joinSession();
    this.#rejoining = false;
    if (this.#ended) return;
    if (result.ok) {
      part(this.#root, "connection-banner").hidden = true;
      this.#log.addSystem(["Reconnected: you rejoined with new keys"], "join");
    } else if (result.code === "no_room") {
      this.end("burned", "gone");
    } else if (RETRYABLE.has(result.code) && this.#socket?.connected) {
      setTimeout(() => this.#onReconnect(), RETRY_REJOIN_MS);
    } else if (this.#socket?.connected) {
      this.end("failed", `Couldn't rejoin: ${errorText(result)}`);
    }
  }

  // ---- sending ---------------------------------------------------------------------------

  /** Seals and sends one message; resolves {ok} or {ok: false, message} (the composer keeps the text). */
  async #send(text) {
    const session = this.#session;
    if (!this.#keys.canSend(session) || !this.#socket?.connected) return { ok: false, message: "Not connected yet - your text is kept." };
    let envelope;
    try {
      envelope = await session.seal(text);
    } catch (error) {
      return { ok: false, message: error?.code === "too_long" ? "Too long to send." : "Securing... try again in a moment." };
    }
    const ack = await request(this.#socket, "message", envelope);
    if (!ack.ok) return { ok: false, message: ack.code === "stale_epoch" ? "The room just changed keys - press Send again." : errorText(ack) };
    this.#log.addMessage({ senderId: envelope.sender, name: this.#name, text, own: true });
    return { ok: true };
  }

  // ---- what the page shows ---------------------------------------------------------------

  /** Re-renders the people list (with Kick buttons for an admin) and its count. */
  #refreshPeople() {
    const silent = new Set(this.#unconfirmed);
    const people = (this.#session?.members() ?? []).map((person) => (silent.has(person.memberId)
      ? { ...person, label: UNCONFIRMED_LABEL, labelClass: "tag--warn" } : person));
    const onKick = this.#admin.active ? (person, button) => this.#admin.kick(person, button) : null;
    renderPeople(part(this.#root, "people"), people, { onKick });
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
    part(this.#root, "people").replaceChildren();
    this.#safety.wipe();
    this.#rejected.wipe();
    this.#session?.wipe();
    this.#session = null;
    this.#pin = this.#secret = null;
    const socket = this.#socket;
    this.#socket = null;
    window.removeEventListener("offline", this.#onBrowserOffline);
    window.removeEventListener("online", this.#onBrowserOnline);
    if (socket) {
      socket.off();
      socket.disconnect();
    }
  }
}
