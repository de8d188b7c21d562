// One joined chat: the RoomSession (all crypto state) and the chat widgets. Server events run
// one at a time through a queue because their handlers await WebCrypto and must see the session
// in event order. The socket's life is in room-connection.js, what a dropped socket means (resume
// or rejoin) in room-resume.js, our outgoing messages in outbox.js, incoming ones in
// room-messages.js, keys in room-keys.js, warnings and the timer in room-integrity.js, the safety
// code in safety-view.js, the people panel in room-people.js, the admin in room-admin.js; the
// page around it (room.js) decides the prejoin and end screens.
import { RoomSession } from "./protocol.js";
import { AdminClaim, UNUSABLE_SALT, claimProof } from "./admin-claim.js";
import { Composer, MessageLog } from "./chat-view.js";
import { EventQueue, request, whenConnected } from "./net.js";
import { Outbox } from "./outbox.js";
import { RoomAdmin } from "./room-admin.js";
import { RoomConnection } from "./room-connection.js";
import { RoomFiles } from "./room-files.js";
import { IntegrityNotices, IntegrityTimer, RejectedCount } from "./room-integrity.js";
import { RoomKeys } from "./room-keys.js";
import { RoomMessages } from "./room-messages.js";
import { RoomPeople } from "./room-people.js";
import { RoomResume } from "./room-resume.js";
import { SafetyView } from "./safety-view.js";
import { part } from "./ui.js";
import { ColourBook } from "./colours.js";
import { RoomAlerts } from "./room-alerts.js";
import { RoomEventLog } from "./room-events.js";
import { RoomTyping } from "./room-typing.js";

const OFFLINE_TEXT = "Offline - your messages will be sent when you're back";

export class RoomChat {
  #roomId; #secret; #pinProof; #pinSalt; #name = "";
  #countdown; #onEnd; #onState; #onLink; #announce = null;
  #connection; #session = null; #queue = new EventQueue();
  #log; #composer; #admin; #claim; #people; #outbox; #messages; #resume;
  #notices; #keys; #safety; #timer; #rejected; #files;
  #colours = new ColourBook(); #alerts; #events; #typing; // #14: colours, background alerts, room events, typing
  #joinedOnce = false; #live = false; #ended = false;
  #handlers = {
    member_joined: (data) => this.#onMemberJoined(data),
    member_left: (data) => this.#onMemberLeft(data),
    member_away: (data) => this.#onAway(data, true),
    member_back: (data) => this.#onAway(data, false),
    rekey: (data) => this.#onRekey(data),
    key_request: (data) => this.#onKeyRequest(data),
    room_key: (data) => this.#onRoomKey(data),
    message: (data) => this.#messages.open(data),
    member_announced: (data) => this.#onAnnounced(data),
  };

  /**
   * `root`: the room markup; `pinProof`: the admin PIN's proof (§8.1) when the creator came
   * from the home page (kept in memory only); `pinSalt`: the room's PIN salt, for a PIN typed
   * here; `countdown`: the page's Countdown; `onEnd(kind, detail)` and
   * `onState({locked, count})` tell the page what happened; `onLink(secret)`: the room's link changed (§5.6).
   */
  constructor({ root, roomId, secret, pinProof = null, pinSalt, countdown, onEnd, onState, onLink = () => {} }) {
    this.#onLink = onLink;
    this.#roomId = roomId;
    this.#secret = secret;
    this.#pinProof = pinProof;
    this.#pinSalt = pinSalt;
    this.#countdown = countdown;
    this.#onEnd = onEnd;
    this.#onState = onState;
    this.#connection = new RoomConnection({ onLost: () => this.#resume.lost(), onBack: () => this.#resume.back() });
    this.#log = new MessageLog(part(root, "messages"), part(root, "jump-latest"), { hueOf: (id) => this.#colours.hueOf(id) });
    this.#alerts = new RoomAlerts(root);
    this.#events = new RoomEventLog(this.#log);
    this.#outbox = new Outbox({
      log: this.#log, session: () => (this.#ended ? null : this.#session), name: () => this.#name,
      emit: (envelope) => request(this.#socket, "message", envelope), online: () => this.#live && this.#connection.connected,
      onRelink: (relink) => this.#relinked(relink, null),
    });
    this.#composer = new Composer(part(root, "composer"), { onSend: async (text) => { this.#typing.sent(); return this.#outbox.write(text); } });
    this.#typing = new RoomTyping({
      root, session: () => (this.#ended ? null : this.#session), deliver: (envelope) => this.#outbox.deliver(envelope),
      canSend: () => Boolean(this.#live && this.#connection.connected && this.#session && this.#keys.canSend(this.#session)),
    });
    this.#files = new RoomFiles({
      root, log: this.#log, outbox: this.#outbox, socket: () => this.#socket, roomId,
      maxBytes: Number(root.closest("main")?.dataset.maxFileBytes) || undefined,
      myId: () => this.#session?.memberId, myName: () => this.#name,
    });
    this.#notices = new IntegrityNotices(this.#log, (id) => this.#session?.member(id)?.name ?? null);
    this.#keys = new RoomKeys({
      socket: () => this.#socket, notices: this.#notices, onChange: () => this.#keyChanged(),
      deliver: (envelope) => this.#outbox.deliver(envelope),
    });
    this.#safety = new SafetyView(root);
    this.#rejected = new RejectedCount(part(root, "rejected"));
    this.#timer = new IntegrityTimer({
      schedule: (fn) => this.#queue.push(fn), session: () => (this.#ended ? null : this.#session),
      send: (event, payload) => this.#request(event, payload), notices: this.#notices, after: () => this.#people.refreshUnconfirmed(),
    });
    this.#admin = new RoomAdmin({
      root, log: this.#log, keys: this.#keys, session: () => this.#session,
      send: (event, payload) => this.#request(event, payload),
      onExtended: (expiresAt, now) => this.#countdown.update(expiresAt, now),
      relink: {
        prepare: () => this.#session.prepareRelink(),
        cancel: () => this.#session?.cancelRelink(),
      },
    });
    this.#claim = new AdminClaim(root, { claim: (pin) => this.claimAdmin(pin) });
    this.#people = new RoomPeople({ root, session: () => this.#session, admin: this.#admin, claim: this.#claim, colours: this.#colours });
    this.#messages = new RoomMessages({
      session: () => this.#session, ended: () => this.#ended, schedule: (fn) => this.#queue.push(fn), log: this.#log,
      notices: this.#notices, rejected: this.#rejected, heard: () => this.#people.refreshUnconfirmed(),
      onText: (result) => { this.#typing.stopped(result.memberId); this.#alerts.message(result); },
      onTyping: (result) => this.#typing.heard(result.memberId, result.name),
      onRelink: (relink, name) => this.#relinked(relink, name),
      files: this.#files,
    });
    this.#resume = new RoomResume({
      root, connection: this.#connection, queue: this.#queue, log: this.#log, timer: this.#timer,
      countdown, admin: this.#admin, rejected: this.#rejected, chat: {
        session: () => this.#session, socket: () => this.#socket, joined: () => this.#joinedOnce,
        ended: () => this.#ended, setLive: (live) => { this.#live = live; }, keyChanged: () => this.#keyChanged(),
        handle: (event, data) => this.#handlers[event]?.(data), onState: (state) => this.#onState(state),
        refreshPeople: () => this.#people.refresh(), joinSession: () => this.#joinSession(),
        forgetSession: () => { this.#session = null; this.#keys.reset(); },
        reclaimAdmin: async () => { if (this.#pinProof) await this.#authAdmin({}); },
        end: (kind, detail) => this.end(kind, detail),
      },
    });
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
    session.maxFileBytes = this.#files.maxBytes;
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
    this.#events.state({ locked: ack.locked, expiresAt: ack.expires_at }, { quiet: true });
    this.#live = true;
    const orphans = this.#resume.takeOrphans();
    if (orphans.length) this.#outbox.moveTo(orphans, session); // written before the seat was lost
    this.#keyChanged();
    this.#rejected.show(this.#session);
    this.#queue.resume();
    this.#timer.start();
    if (this.#pinProof) await this.#authAdmin(ack);
    return { ok: true };
  }

  /** The creator's PIN proof (from memory) turns this connection into the room's admin. */
  async #authAdmin(joinAck) {
    if ((await this.#admin.claim(this.#socket, this.#roomId, this.#pinProof, joinAck)).ok) this.#people.refresh();
  }

  /** "I'm the admin" in the people panel: the PIN typed by hand, on this member's own socket. */
  async claimAdmin(pin) {
    if (!this.#live || !this.#session) return { ok: false, code: "offline" };
    const proof = await claimProof(pin, this.#pinSalt);
    if (!proof) return UNUSABLE_SALT;
    if (!this.#live || !this.#session) return { ok: false, code: "offline" };
    const ack = await this.#admin.claim(this.#socket, this.#roomId, proof, {}, { report: false });
    if (ack.ok) {
      this.#pinProof = proof; // in memory only: a resumed or new socket claims it again by itself
      this.#people.refresh();
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
    // File chunks go through the queue after the metadata that announced them; the ack (our flow
    // control, §6.7) is sent once the chunk is handled.
    socket.on("file_chunk", (data, ack) => {
      this.#queue.push(() => (this.#session && !this.#ended ? this.#files.chunk(data ?? {}) : undefined))
        .finally(() => ack?.({ ok: true }));
    });
    socket.on("file_cancel", (data) => {
      this.#queue.push(() => (this.#session && !this.#ended ? this.#files.cancelled(data ?? {}) : undefined));
    });
    socket.on("destroyed", (data) => this.end("burned", data?.reason));
    socket.on("admin_joined", () => { if (this.#session && !this.#ended) this.#events.adminJoined(); });
  }

  /** member_away / member_back: greyed as "reconnecting..." in the people list, or normal again. */
  #onAway({ member_id: memberId }, away) {
    if (away ? this.#session.markAway(memberId) : this.#session.markBack(memberId)) this.#people.refresh();
  }

  /** A newcomer's announcement: accepted (system line) or flagged (counter); the key changes for it. */
  async #onMemberJoined(announcement) {
    const member = await this.#session.addMember(announcement);
    if (member) this.#events.person(member.name, "joined");
    this.#keyChanged(); // a newcomer never gets the key used before it came
    this.#rejected.show(this.#session);
  }

  /** Someone left, dropped or was kicked: the old key is done with at once, whether or not the server rekeys. */
  async #onMemberLeft({ member_id: memberId, reason }) {
    const member = this.#session.member(memberId);
    const hadKey = this.#session.ready;
    this.#session.removeMember(memberId);
    this.#files.memberLeft(memberId);
    // Our own kick is said once our key shows it (#confirmKick): the server's word alone proves nothing.
    const ownKick = reason === "kicked" && this.#admin.kicking(memberId);
    if (member && ownKick) {
      this.#log.addSystem(["Removing ", { name: member.name }, "..."], "quiet");
    } else if (member) {
      if (reason === "kicked") this.#log.addSystem([{ name: member.name }, " was removed by the admin"], "warn");
      else this.#events.person(member.name, reason === "disconnected" ? "lost connection" : "left");
    }
    this.#typing.stopped(memberId);
    if (hadKey && !this.#session.ready) this.#log.addSystem(["Waiting for a new room key - nothing more is sent under the old one"], "key");
    this.#keyChanged();
    await this.#messages.releaseHeld(); // messages held for a key of the old member set are refused now
  }

  /** A new epoch: lock the composer until its key arrives. */
  async #onRekey(event) {
    this.#keys.onRekey(this.#session, event);
    await this.#messages.releaseHeld();
  }

  /** The server asks us to make this epoch's key (we are its creator). */
  async #onKeyRequest(keyRequest) {
    await this.#keys.onKeyRequest(this.#session, keyRequest);
    await this.#messages.releaseHeld();
  }

  /** A wrapped room key for us: accepted (key_held, confirm) or refused with a warning. */
  async #onRoomKey(event) {
    await this.#keys.onRoomKey(this.#session, event);
    await this.#messages.releaseHeld();
  }

  /**
   * The room's link changed (§5.6): the new secret replaces the old one for Copy link and any rejoin,
   * and our announcement under it goes to the server for newcomers. `by` is the sender's name (null: us).
   */
  async #relinked({ secret, announce, joined = [] }, by) {
    this.#secret = secret;
    this.#onLink(secret);
    this.#announce = announce;
    const what = "The old link no longer lets anyone in - Copy link gives the new one.";
    if (by === null) {
      this.#admin.linkChanged();
      this.#log.addSystem(["You changed the room's link. ", what], "key");
    } else {
      this.#log.addSystem([{ name: by }, " changed the room's link. ", what], "key");
    }
    for (const member of joined) this.#log.addSystem([{ name: member.name }, " joined"], "join");
    this.#rejected.show(this.#session);
    this.#keyChanged();
    await this.#sendAnnounce();
  }

  /** Our announcement under the new link, until the server has it (a resume sends it again). */
  async #sendAnnounce() {
    if (!this.#announce || !this.#live) return;
    const ack = await request(this.#socket, "announce", this.#announce);
    if (ack.ok || !["offline", "timeout"].includes(ack.code)) this.#announce = null;
  }

  /** `member_announced`: a member's announcement under the new link, checked against what we know. */
  async #onAnnounced(announcement) {
    const known = this.#session.member(announcement?.member_id);
    const member = await this.#session.memberAnnounced(announcement);
    if (member && !known) this.#log.addSystem([{ name: member.name }, " joined"], "join");
    if (!member) this.#rejected.show(this.#session);
    this.#keyChanged();
  }

  /** The key, the floor or the members changed: composer, safety code and people list follow. */
  #keyChanged() {
    const session = this.#session;
    if (!session || this.#ended) return;
    const current = this.#keys.canSend(session);
    if (this.#live) this.#composer.setReady(current);
    else this.#composer.setReady(false, OFFLINE_TEXT, { writable: true });
    this.#files.setReady(this.#live && current);
    this.#safety.show(session.safetyCode(), { current });
    this.#people.refreshUnconfirmed(true);
    this.#outbox.pump(); // a key held, a rekey, a resume: queued texts may go out now
    this.#sendAnnounce(); // after a resume, if the first try found us offline
  }

  /** Lock, head count and expiry changed. */
  #onRoomState({ locked, count, expires_at: expiresAt, now }) {
    if (this.#ended) return;
    this.#countdown.update(expiresAt, now);
    this.#onState({ locked, count });
    this.#admin.update({ locked, expiresAt });
    this.#events.state({ locked, expiresAt });
  }

  /** The server's periodic time sync. */
  #onCountdown({ expires_at: expiresAt, now }) {
    if (this.#ended) return;
    this.#countdown.update(expiresAt, now);
    this.#admin.update({ expiresAt });
  }

  /** The countdown's time left (every tick): "Room burns in 1 minute" goes in the log once. */
  tick(left) {
    if (this.#live && !this.#ended) this.#events.tick(left);
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
    this.#messages.wipe();
    this.#log.clear();
    this.#files.wipe();
    this.#notices.clear();
    this.#composer.wipe();
    this.#admin.wipe();
    this.#claim.wipe();
    this.#outbox.wipe();
    this.#resume.wipe();
    this.#people.wipe();
    this.#safety.wipe();
    this.#rejected.wipe();
    this.#alerts.wipe();
    this.#typing.wipe();
    this.#events.reset();
    this.#colours.clear();
    this.#session?.wipe();
    this.#session = null;
    this.#pinProof = this.#secret = this.#announce = null;
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
    this.#beaconLeave();
    this.#connection.leave();
    this.wipe();
  }

  /** The socket may not get `leave` out before the page is gone; a beacon always does (§7.4). */
  #beaconLeave() {
    try {
      const { room, member_id, proof } = this.#session.resumePayload();
      navigator.sendBeacon("/api/leave", new Blob([JSON.stringify({ room, member_id, proof })], { type: "application/json" }));
    } catch {
      // not joined yet (no seat to give up), or wiped already
    }
  }
}
