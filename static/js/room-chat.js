// One joined chat: the socket, the RoomSession (all crypto state), and the
// chat widgets. Server events run one at a time through a queue because their
// handlers await WebCrypto and must see the session in event order.
// The page around it (room.js) decides what the prejoin and end screens show.
import { HOLD_BACK_MS, RoomSession } from "./protocol.js";
import { AdminControls } from "./admin-controls.js";
import { Composer, MessageLog } from "./chat-view.js";
import { EventQueue, openSocket, request, whenConnected } from "./net.js";
import { renderPeople } from "./people-view.js";
import { errorText, part, say } from "./ui.js";

const NOTICE_MS = 8000;
const RETRY_REJOIN_MS = 3000;
const RETRYABLE = new Set(["timeout", "busy", "rate_limited", "member_id_taken", "offline"]);

export class RoomChat {
  #root; #roomId; #secret; #pin; #name = "";
  #countdown; #onEnd; #onState;
  #socket = null; #session = null; #queue = new EventQueue();
  #log; #composer; #admin = null; #isAdmin = false;
  #joinedOnce = false; #rejoining = false; #ended = false;
  #safety = ""; #noticeTimer = 0; #heldTimer = 0; #earlier = { rejected: 0, flagged: 0 };

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
    await session.joined(ack);
    this.#onState({ locked: ack.locked, count: (ack.members?.length ?? 0) + 1 });
    this.#refreshPeople();
    this.#refreshRejected();
    await this.#refreshSafety();
    this.#composer.setReady(session.ready);
    this.#queue.resume();
    if (this.#pin) await this.#authAdmin(ack);
    return { ok: true };
  }

  /** The creator's PIN (from memory) turns this connection into the room's admin. */
  async #authAdmin(joinAck) {
    const ack = await request(this.#socket, "admin_auth", { room: this.#roomId, pin: this.#pin });
    if (!ack.ok) {
      this.#log.addSystem([`Admin controls unavailable: ${errorText(ack)}`], "warn");
      return;
    }
    if (!this.#admin) {
      this.#admin = new AdminControls(part(this.#root, "admin-controls"), {
        request: (event, payload) => this.#request(event, payload),
        onExtended: (expiresAt, now) => this.#countdown.update(expiresAt, now),
      });
    }
    this.#isAdmin = true;
    this.#admin.update({ locked: ack.locked ?? joinAck.locked, expiresAt: ack.expires_at, maxExpiresAt: ack.max_expires_at });
    part(this.#root, "admin-slot").hidden = false;
    this.#refreshPeople();
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
    this.#composer.setReady(this.#session.ready); // a newcomer never gets the key used before it came
    this.#refreshRejected();
    this.#refreshPeople();
    await this.#refreshSafety();
  }

  /** Someone left, dropped or was kicked: the old key is done with at once, whether or not the server rekeys. */
  async #onMemberLeft({ member_id: memberId, reason }) {
    const member = this.#session.member(memberId);
    const hadKey = this.#session.ready;
    this.#session.removeMember(memberId);
    if (member) {
      const what = reason === "kicked" ? " was removed by the admin" : reason === "disconnected" ? " lost connection" : " left";
      this.#log.addSystem([{ name: member.name }, what], reason === "kicked" ? "warn" : "leave");
    }
    if (hadKey && !this.#session.ready) this.#log.addSystem(["New room key: people who left can't read what follows"], "key");
    this.#composer.setReady(this.#session.ready);
    await this.#releaseHeld(); // messages held for a key of the old member set are refused now
    this.#refreshPeople();
    await this.#refreshSafety();
  }

  /** A new epoch: lock the composer until its key arrives. */
  async #onRekey({ epoch }) {
    this.#session.setEpoch(epoch);
    this.#composer.setReady(this.#session.ready);
    await this.#releaseHeld();
  }

  /** The server asks us to create or share the current key. */
  async #onKeyRequest(keyRequest) {
    try {
      const delivery = await this.#session.answerKeyRequest(keyRequest);
      this.#composer.setReady(this.#session.ready);
      await request(this.#socket, "key_deliver", delivery);
      await this.#releaseHeld();
    } catch {
      // Unanswered requests pass to someone else after 2 s (PROTOCOL.md §5 rule 4).
    }
  }

  /** A wrapped room key for us: accept it and tell the server we hold it. */
  async #onRoomKey(blob) {
    try {
      const epoch = await this.#session.acceptRoomKey(blob);
      this.#composer.setReady(this.#session.ready);
      await request(this.#socket, "key_held", { epoch });
    } catch {
      // A blob that fails any check is dropped; the server asks again if we still lack the key.
    }
    await this.#releaseHeld();
  }

  /** A message: shown only if every §6 check passes, held back while its key is on its way, else counted. */
  async #onMessage(envelope) {
    try {
      const message = await this.#session.open(envelope);
      if (message) this.#showMessage(message);
      else this.#armHeldTimer();
    } catch {
      this.#refreshRejected();
    }
  }

  /** One verified message from someone else. */
  #showMessage({ memberId, name, text }) {
    this.#log.addMessage({ senderId: memberId, name, text, own: false });
  }

  /** Shows held-back messages whose key is here; counts those stale or waiting too long. */
  async #releaseHeld() {
    const session = this.#session;
    if (!session?.heldCount) return;
    const shown = await session.releaseHeld();
    if (session !== this.#session || this.#ended) return;
    for (const message of shown) this.#showMessage(message);
    this.#refreshRejected();
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

  /** Lock, head count and expiry changed. */
  #onRoomState({ locked, count, expires_at: expiresAt, now }) {
    if (this.#ended) return;
    this.#countdown.update(expiresAt, now);
    this.#onState({ locked, count });
    this.#admin?.update({ locked, expiresAt });
  }

  /** The server's periodic time sync. */
  #onCountdown({ expires_at: expiresAt, now }) {
    if (this.#ended) return;
    this.#countdown.update(expiresAt, now);
    this.#admin?.update({ expiresAt });
  }

  // ---- connection loss -------------------------------------------------------------------

  /** An unexpected disconnect: say so and let Socket.IO reconnect. */
  #onDisconnect(reason) {
    if (this.#ended || !this.#joinedOnce) return;
    this.#queue.reset();
    this.#keepCounts();
    this.#session?.wipe(); // those keys belong to a member the server has already removed
    this.#session = null;
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
    if (!session?.ready || !this.#socket?.connected) return { ok: false, message: "Not connected yet - your text is kept." };
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
    const people = this.#session?.members() ?? [];
    const onKick = this.#isAdmin ? (person, button) => this.#admin.kick(person, button) : null;
    renderPeople(part(this.#root, "people"), people, { onKick });
    part(this.#root, "people-count").textContent = String(people.length);
  }

  /** Recomputes the safety code; flags a change so people know to compare again. */
  async #refreshSafety() {
    const session = this.#session;
    const code = await session.safetyCode();
    if (session !== this.#session || this.#ended) return;
    part(this.#root, "safety-code").textContent = code;
    if (this.#safety && this.#safety !== code) this.#flash(part(this.#root, "safety-changed"));
    this.#safety = code;
  }

  /** Shows a notice for a few seconds. */
  #flash(element) {
    element.hidden = false;
    clearTimeout(this.#noticeTimer);
    this.#noticeTimer = setTimeout(() => { element.hidden = true; }, NOTICE_MS);
  }

  /** Remembers a finished session's counters so the indicator keeps counting across rejoins. */
  #keepCounts() {
    if (!this.#session) return;
    this.#earlier.rejected += this.#session.rejectedCount;
    this.#earlier.flagged += this.#session.flaggedCount;
  }

  /** The "N messages rejected" / "N forged announcements blocked" indicator. */
  #refreshRejected() {
    const rejected = this.#earlier.rejected + (this.#session?.rejectedCount ?? 0);
    const flagged = this.#earlier.flagged + (this.#session?.flaggedCount ?? 0);
    const texts = [];
    if (rejected) texts.push(`${rejected} message${rejected === 1 ? "" : "s"} rejected`);
    if (flagged) texts.push(`${flagged} forged announcement${flagged === 1 ? "" : "s"} blocked`);
    say(part(this.#root, "rejected"), texts.join(" · "));
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
    clearTimeout(this.#heldTimer);
    this.#heldTimer = 0;
    this.#log.clear();
    this.#composer.wipe();
    part(this.#root, "people").replaceChildren();
    part(this.#root, "safety-code").textContent = "";
    part(this.#root, "safety-changed").hidden = true;
    part(this.#root, "rejected").hidden = true;
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
