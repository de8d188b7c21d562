// One room's protocol state (docs/PROTOCOL.md §4-§6, API in §10): who is an
// accepted member, which epoch is held, which messages may be shown, and the
// notices a lying relay raises. No DOM, no network: the UI feeds it server
// events and sends what it returns. Time comes from the injected `now`.
//
// The epoch floor (§5.5) keeps a lying server from keeping members on a key that
// a removed member, or a newcomer, should not have; the roster commitment (epoch.js)
// keeps it from giving members different views of who is in the room.
//
// Sending (§6.6): an envelope is pending until the caller reports the server's answer
// (sent / refused); the outbox and what is in flight live in sending.js, the accepted members
// and their shown names in members.js, the reading of a resume ack in resume-state.js.
import {
  PROTOCOL_VERSION, ProtocolError, b64uDecode, b64uEncode, randomId, validateName,
  deriveLinkKeys, deriveJoinKey, generateIdentity, sealAnnouncement, openAnnouncement, fingerprint,
} from "./crypto.js";
import { createEpoch, openEpoch } from "./epoch.js";
import { sealMessage, openMessage, envelopeHash } from "./ratchet.js";
import { Transcript, notice } from "./transcript.js";
import { KeyWatch } from "./keywatch.js";
import { Sending } from "./sending.js";
import { Members } from "./members.js";
import { HeldBack, shouldHold, checkEnvelope } from "./receiving.js";
import { newResumeSecret, resumeHeads, readResumeAck, missedEvents } from "./resume-state.js";
import { LinkChange } from "./relink.js";
import { checkFileBody, DEFAULT_MAX_FILE_BYTES } from "./files.js";

export { CONFIRM_MS } from "./keywatch.js";
export { TRANSIENT_REFUSALS } from "./sending.js";
export { MAX_RESUME_HEADS } from "./resume-state.js";
export { MAX_HELD_MESSAGES, HOLD_BACK_MS } from "./receiving.js";
/** key_missing delay, digest pace and grace (§5.5, §6.5). */
export const KEY_MISSING_MS = 3000, DIGEST_INTERVAL_MS = 5000, DIGEST_GRACE_MS = 3000;

/** Throws bad_encoding unless `text` is a 16-byte b64u identifier. */
function requireId(text) {
  if (b64uDecode(text).length !== 16) throw new ProtocolError("bad_encoding");
  return text;
}

/** Throws bad_epoch unless `epoch` is a usable epoch number (>= min). */
function requireEpoch(epoch, min) {
  if (!Number.isSafeInteger(epoch) || epoch < min) throw new ProtocolError("bad_epoch");
  return epoch;
}

export class RoomSession {
  #roomId; #secret; #linkKeys = null; #joinKey = null; #identity = null; #self = null; #now;
  #members = new Members(); // accepted members in join order, the removed, the away (members.js)
  #listed = false;          // true once the join ack's member list is in: later arrivals raise the floor
  #key = null;              // the held epoch: EpochKeys + {confirmed, delivery}
  #watch;                   // members silent under the keys we hold, rekeys for no reason, two keys (keywatch.js)
  #held;                    // messages under an epoch whose key is on its way (receiving.js)
  #transcript = null;
  #acks;                    // true: the caller reports every envelope's outcome (sent / refused)
  #sending;                 // outbox, envelopes in flight, our acknowledged chain head (sending.js, §6.6)
  #resume = null;           // the resume secret R (b64u), until wipe (§7.4)
  #passedOver = new Map();  // memberId -> times rekey named it passed over
  #relink = new LinkChange(); // a link change we make or await (relink.js, §5.6)
  #wait = { target: 0, since: 0 }; #reportedMissing = new Set();
  #textSinceDigest = false; #lastDigestAt = -Infinity;
  #queue = Promise.resolve();
  #epoch = 0; #floor = 0; #rejected = 0; #flagged = 0;
  memberId = null;
  maxFileBytes = DEFAULT_MAX_FILE_BYTES; // the biggest file body accepted (the page sets the server's limit)

  /**
   * Checks the link's room ID and secret; nothing is derived until start(). `now` is the clock (ms).
   * `acks`: the caller reports every envelope's outcome with sent() / refused() (§6.6); without it
   * every envelope counts as acknowledged when sealed (the v2.0 behaviour, no resending).
   */
  constructor({ roomId, secret, now = Date.now, acks = false }) {
    this.#roomId = requireId(roomId);
    this.#secret = requireId(secret);
    this.#now = now;
    this.#acks = Boolean(acks);
    this.#watch = new KeyWatch(now);
    this.#held = new HeldBack(now);
    this.#sending = new Sending(this.#acks);
  }

  /** The highest epoch known: join reply, `rekey`, or a key held. */
  get epoch() { return this.#epoch; }
  /** The lowest epoch whose key may be used (§5.5). */
  get floor() { return this.#floor; }
  /** True while this member holds a key of an epoch at or above the floor made for members all still here (else "Securing..."). */
  get ready() {
    return this.#key !== null && this.#key.epoch >= this.#floor && this.#key.rosterIds.every((id) => this.#members.has(id));
  }
  /** Messages dropped by open() and releaseHeld(). */
  get rejectedCount() { return this.#rejected; }
  /** Announcements dropped by addMember(). */
  get flaggedCount() { return this.#flagged; }
  /** Messages held back until their epoch's key arrives. */
  get heldCount() { return this.#held.count; }
  /** Our texts the server acknowledged. */
  get sentCount() { return this.#sending.sentCount; }

  /** Runs state-changing async work one call at a time, so chains, prev and the transcript stay in order. */
  #serial(fn) {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Makes the identity, link keys, join key, member ID and resume secret; returns the `join` payload (§7.4). */
  async start(name) {
    const displayName = validateName(name);
    this.#linkKeys = await deriveLinkKeys(this.#secret, this.#roomId);
    this.#joinKey = (await deriveJoinKey(this.#secret)).joinKey;
    this.#secret = null; // the derived keys are all we need; don't keep S around
    this.#identity = await generateIdentity();
    this.memberId = randomId();
    this.#transcript = new Transcript(this.memberId);
    const { ecdhPub, sigPub } = this.#identity;
    const announcement = await sealAnnouncement({
      linkKeys: this.#linkKeys, roomId: this.#roomId, memberId: this.memberId, identity: this.#identity, name: displayName,
    });
    this.#self = { memberId: this.memberId, name: displayName, ecdhPub, sigPub, fingerprint: await fingerprint(ecdhPub, sigPub) };
    const { secret: resume, hash: resumeHash } = await newResumeSecret();
    this.#resume = resume;
    return { v: PROTOCOL_VERSION, room: this.#roomId, ...announcement, join_key: this.#joinKey, resume_hash: resumeHash };
  }

  /**
   * The `resume` payload {room, member_id, proof, heads} for a new socket (§7.4): heads = [sender, epoch, seq]
   * of the last envelope accepted from each other member heard from (at most MAX_RESUME_HEADS), so the server
   * replays what went to the dead socket. not_ready before start() or after wipe().
   */
  resumePayload() {
    if (!this.#identity || !this.#resume) throw new ProtocolError("not_ready");
    const heads = resumeHeads(this.#transcript.lastAccepted(), this.memberId, (id) => this.#members.has(id));
    return { room: this.#roomId, member_id: this.memberId, proof: this.#resume, heads };
  }

  /**
   * Takes the `resume` ack (§7.4) -> {missed, joined, left}. `missed` is the events to feed, in order,
   * to the normal handlers (ack.missed, then a `rekey` to ack.epoch when no missed rekey reached it).
   * Members the ack lists and no missed event explains are reconciled first under the normal floor
   * rules: newcomers added (`joined`: members), the vanished removed (`left`: IDs). Every envelope
   * still awaiting its outcome went out on the dropped socket: takeResendable() sends it again, unchanged.
   */
  resumed(ack) {
    return this.#serial(async () => {
      if (!this.#identity || !this.#listed) throw new ProtocolError("not_ready");
      if (!Array.isArray(ack?.members)) throw new ProtocolError("bad_encoding");
      const { missed, listed, joinedLater, leftLater } = readResumeAck(ack);
      const joined = [], left = [];
      for (const announcement of ack.members) {
        const id = announcement?.member_id;
        if (this.#members.has(id) || this.#members.wasRemoved(id) || joinedLater.has(id)) continue;
        const member = await this.#addMember(announcement);
        if (member) joined.push(member);
      }
      for (const id of this.#members.ids()) {
        if (id !== this.memberId && !listed.has(id) && !leftLater.has(id) && this.removeMember(id)) left.push(id);
      }
      for (const announcement of ack.members) this.#members.noteAway(announcement, this.memberId);
      this.#sending.resendAll();
      return { missed: missedEvents(missed, ack.epoch, this.#epoch), joined, left };
    });
  }

  /** `member_away`: its socket dropped, it keeps its seat and keys (members() shows it away). False if unknown. */
  markAway(memberId) {
    return this.#members.markAway(memberId, this.memberId);
  }

  /** `member_back`: it resumed. False if it was not away. */
  markBack(memberId) {
    return this.#members.markBack(memberId);
  }

  /** Takes the join ack: current epoch and the earlier members in join order; we come last. */
  joined(ack) {
    return this.#serial(async () => {
      if (ack?.v !== undefined && ack.v !== PROTOCOL_VERSION) throw new ProtocolError("bad_version");
      this.setEpoch(ack.epoch);
      for (const announcement of ack.members ?? []) await this.#addMember(announcement);
      for (const announcement of ack.members ?? []) this.#members.noteAway(announcement, this.memberId);
      this.#members.add(this.#self, true);
      this.#listed = true;
      this.#noteWait();
      return this.members();
    });
  }

  /** Accepts a member's announcement (MAC, name) or flags it; returns the member or null. */
  addMember(announcement) {
    return this.#serial(() => this.#addMember(announcement));
  }

  async #addMember(announcement) {
    if (this.#deferred(announcement)) return null;
    try {
      this.#members.refuseKnownId(announcement?.member_id, this.memberId);
      const opened = await openAnnouncement({ linkKeys: this.#linkKeys, roomId: this.#roomId, announcement });
      this.#members.refuseKnownId(opened.memberId, this.memberId); // another copy may have been accepted while we awaited
      this.#members.add(opened);
      this.#watch.membershipChanged();
      if (this.#listed) this.#raiseFloor(); // a newcomer must not get a key used before it came
      return this.member(opened.memberId);
    } catch {
      this.#flagged += 1;
      return null;
    }
  }

  /** Forgets a member who left or was kicked; its ID is never accepted again. */
  removeMember(memberId) {
    if (memberId === this.memberId || typeof memberId !== "string") return false;
    if (!this.#members.remove(memberId)) return false;
    this.#watch.membershipChanged(memberId);
    this.#raiseFloor(); // nothing more under a key the removed member holds, rekey or not
    return true;
  }

  /** A membership change: only a key newer than every epoch known may be used from now on. */
  #raiseFloor() {
    this.#floor = Math.max(this.#floor, this.#epoch) + 1;
    this.#noteWait();
  }

  /** Moves to a newer epoch (join ack, `rekey`); never goes back. */
  setEpoch(epoch) {
    requireEpoch(epoch, 0);
    this.#epoch = Math.max(this.#epoch, epoch);
    this.#floor = Math.max(this.#floor, epoch);
    this.#noteWait();
    return this.#epoch;
  }

  /** `rekey`: moves to its epoch and counts who was passed over; from the second time, returns that member. */
  onRekey({ epoch, passed_over: passedOver = null, relink = null } = {}) {
    const newer = Number.isSafeInteger(epoch) && epoch > this.#epoch;
    this.setEpoch(epoch);
    if (newer) this.#watch.rekey({ passedOver });
    if (newer) this.#relink.noteRekey(epoch, relink, this.memberId, (id) => this.#members.has(id));
    if (typeof passedOver !== "string") return { passedOverTwice: null };
    const count = (this.#passedOver.get(passedOver) ?? 0) + 1;
    this.#passedOver.set(passedOver, count);
    return { passedOverTwice: count >= 2 ? this.member(passedOver) : null };
  }

  /**
   * The admin changes the room's link (§5.6): a fresh link secret S' -> {secret, joinKeyHash}; send
   * joinKeyHash with admin_kick or admin_relink, and cancelRelink() if the server refuses. Once a
   * `rekey` names us, takeResendable() seals S' in a `link` message; sent() then answers {relink}.
   */
  prepareRelink() {
    if (!this.#identity || !this.#acks) throw new ProtocolError("not_ready");
    return this.#relink.prepare(this.#members.ids());
  }

  /** The server refused our admin_kick / admin_relink: the link stays as it was. */
  cancelRelink() {
    this.#relink.cancel();
  }

  /** True while a link change is under way (§5.6): newcomers wait to be checked under the new link. */
  get changingLink() {
    return this.#relink.changing;
  }

  /**
   * Moves to link secret `secret`: announcements are checked under it from now on, and ours is sealed
   * again -> {secret, announce: {enc_name, mac}} (send `announce`; show the new link).
   */
  async #adoptLink(secret) {
    const linkKeys = await deriveLinkKeys(secret, this.#roomId);
    const { joinKey } = await deriveJoinKey(secret);
    if (!this.#identity) throw new ProtocolError("not_ready"); // wiped while we awaited
    this.#linkKeys = linkKeys;
    this.#joinKey = joinKey;
    const { enc_name: encName, mac } = await sealAnnouncement({
      linkKeys, roomId: this.#roomId, memberId: this.memberId, identity: this.#identity, name: this.#self.name,
    });
    const joined = [];
    for (const announcement of this.#relink.takeDeferred()) {
      const known = this.#members.has(announcement?.member_id);
      const member = await this.#announced(announcement);
      if (member && !known) joined.push(member);
    }
    return { secret, announce: { enc_name: encName, mac }, joined };
  }

  /**
   * `member_announced` (§5.6): a member's announcement under the new link. A member we accept must keep
   * its keys and name (else flagged); one we never accepted (its old announcement failed under our link)
   * is taken like a newcomer. -> the member or null.
   */
  memberAnnounced(announcement) {
    return this.#serial(() => (this.#deferred(announcement) ? null : this.#announced(announcement)));
  }

  async #announced(announcement) {
    const id = announcement?.member_id;
    const known = this.#members.get(id);
    if (!known) return id === this.memberId || this.#members.wasRemoved(id) ? null : this.#addMember(announcement);
    try {
      const opened = await openAnnouncement({ linkKeys: this.#linkKeys, roomId: this.#roomId, announcement });
      if (opened.ecdhPub === known.ecdhPub && opened.sigPub === known.sigPub && opened.name === known.name) {
        return this.member(id);
      }
    } catch {
      // a MAC or name that fails under the new link: flagged below
    }
    this.#flagged += 1;
    return null;
  }

  /** While the link changes, an announcement waits to be checked under the new link (true); past the cap it is flagged. */
  #deferred(announcement) {
    if (!this.#relink.changing) return false;
    if (!this.#relink.defer(announcement)) this.#flagged += 1;
    return true;
  }

  /** Starts the key_missing clock when the epoch we wait for changes. */
  #noteWait() {
    const target = Math.max(this.#epoch, this.#floor);
    if (target !== this.#wait.target) this.#wait = { target, since: this.#now() };
  }

  /** The epoch to report as `key_missing` once KEY_MISSING_MS passed without a usable key, else null (once per epoch). */
  keyMissing() {
    this.#noteWait();
    const { target, since } = this.#wait;
    if (this.ready || !this.#listed || target < 1 || this.#reportedMissing.has(target)) return null;
    if (this.#now() - since < KEY_MISSING_MS) return null;
    this.#reportedMissing.add(target);
    return target;
  }

  /** A key made or accepted must be of an epoch at or above the floor and newer than the one held. */
  #requireNewEpoch(epoch) {
    if (!this.#identity) throw new ProtocolError("not_ready"); // wiped (or never started) meanwhile
    if (epoch < this.#floor || epoch <= (this.#key?.epoch ?? 0)) throw new ProtocolError("bad_epoch");
  }

  /**
   * After the await: a key made or opened for a roster that is no longer exactly the members we accept
   * (someone left or joined meanwhile) is stale - a later epoch comes; it is never held.
   */
  #requireCurrentRoster(keys) {
    const ids = keys.rosterIds;
    if (ids.length !== this.#members.size || !ids.every((id) => this.#members.has(id))) {
      for (const chain of keys.chains.values()) chain.drop();
      throw new ProtocolError("bad_epoch");
    }
  }

  /** Keeps `keys` as the held epoch, dropping every older epoch's chains (§5.3). */
  #holdKey(keys, delivery = null) {
    for (const chain of this.#key?.chains.values() ?? []) chain.drop();
    this.#key = { ...keys, confirmed: false, delivery };
    this.#epoch = Math.max(this.#epoch, keys.epoch);
    this.#transcript.holding(keys.epoch);
    this.#watch.held(keys.rosterIds, this.memberId);
  }

  /** Answers `key_request`: makes (and holds) epoch `epoch` for everyone we accept; -> the key_deliver payload. */
  answerKeyRequest({ epoch } = {}) {
    return this.#serial(async () => {
      if (!this.#identity) throw new ProtocolError("not_ready");
      requireEpoch(epoch, 1);
      // Asked again for the epoch we made (our delivery was refused or lost): the same key, never a second one.
      if (this.#key?.epoch === epoch && this.#key.delivery && epoch >= this.#floor) return this.#key.delivery;
      this.#requireNewEpoch(epoch);
      const { delivery, keys } = await createEpoch({
        roomId: this.#roomId, epoch, identity: this.#identity, creatorId: this.memberId, roster: this.#members.roster(),
      });
      this.#requireNewEpoch(epoch); // again: a join or leave while we awaited made this roster stale
      this.#requireCurrentRoster(keys);
      this.#holdKey(keys, delivery);
      return delivery;
    });
  }

  /** Accepts a `room_key` (§5.3); returns the epoch now held (emit key_held). Throws roster_mismatch with .detail. */
  acceptRoomKey(event) {
    return this.#serial(async () => {
      if (!this.#identity) throw new ProtocolError("not_ready");
      if (event?.to !== this.memberId) throw new ProtocolError("wrong_recipient");
      const creator = this.#members.get(event?.from);
      if (!creator || creator.isSelf) throw new ProtocolError("not_member");
      requireEpoch(event.epoch, 1);
      // The epoch we hold, again: checked in full, since a second valid key for it proves a split.
      const again = this.#key !== null && event.epoch === this.#key.epoch && event.epoch >= this.#floor;
      if (!again) this.#requireNewEpoch(event.epoch); // stale: a later change made it obsolete
      const keys = await openEpoch({
        roomId: this.#roomId, roomKeyEvent: event, identity: this.#identity, myId: this.memberId, roster: this.#members.roster(),
      });
      if (again) return this.#secondKey(keys);
      this.#requireNewEpoch(keys.epoch);
      this.#requireCurrentRoster(keys);
      this.#holdKey(keys);
      return keys.epoch;
    });
  }

  /** A valid key for the epoch we hold: the same one is a harmless copy, another one proves a split (two_keys). */
  #secondKey(keys) {
    for (const chain of keys.chains.values()) chain.drop();
    const held = this.#key;
    if (held?.epoch === keys.epoch && b64uEncode(held.authenticator) !== b64uEncode(keys.authenticator)) {
      this.#watch.twoKeys(keys.creatorId, held.creatorId, keys.epoch);
    }
    throw new ProtocolError("bad_epoch"); // one epoch never has two keys: we keep ours
  }

  /** IDs of the held key's roster, or null (the admin shows "Removed" once it excludes the kicked member). */
  keyRosterIds() {
    return this.#key ? [...this.#key.rosterIds] : null;
  }

  /** The safety code of the held key: {epoch, digits, qr}, or null. */
  safetyCode() {
    return this.#key ? { epoch: this.#key.epoch, digits: this.#key.safetyCode, qr: this.#key.safetyQr } : null;
  }

  /** True when a new envelope may be sealed now: ready, no outcome awaited, and the held epoch not refused as stale. */
  #canSeal() {
    return this.ready && this.#sending.canSealUnder(this.#key.epoch);
  }

  /** Seals `body` as our next envelope of the held epoch, chained on our last acknowledged one; pending (§6.6). */
  async #sealBody(body, kind, item = null) {
    const { epoch, chains } = this.#key;
    const { envelope, hash } = await sealMessage({
      roomId: this.#roomId, epoch, chain: chains.get(this.memberId), identity: this.#identity, sender: this.memberId,
      prev: this.#sending.acked, body,
    });
    if (!this.#identity) throw new ProtocolError("not_ready"); // wiped while we awaited
    const entry = this.#sending.track(envelope, hash, kind, item);
    this.#transcript.sealed({ epoch, seq: envelope.seq, hash });
    if (!this.#acks) this.#acknowledge(entry);
    return envelope;
  }

  /** The server took `entry`: it becomes our chain head, our digest head and (a text) the `after` of our next. */
  #acknowledge(entry) {
    const { envelope: { epoch, seq }, hash, item } = entry;
    const text = this.#sending.acknowledge(entry);
    this.#transcript.sent({ epoch, seq, hash });
    if (!text) return null;
    this.#transcript.shown([this.memberId, epoch, seq]);
    this.#textSinceDigest = true;
    return { localId: item.localId, text: item.text, me: item.me, epoch, seq, ...(item.file ? { file: item.file } : {}) };
  }

  #sealText(item) {
    if (item.file) return this.#sealBody(item.file, "file", item);
    return this.#sealBody({ t: "text", text: item.text, after: this.#transcript.lastShown, me: item.me }, "text", item);
  }

  async #confirm() {
    if (!this.#canSeal() || this.#key.confirmed) return null;
    this.#key.confirmed = true;
    return this.#sealBody({ t: "confirm" }, "confirm");
  }

  /**
   * Our `confirm` for the held epoch (§5.5), to send right after holding it; null once sealed, while
   * securing, or (acks) while an older envelope's outcome is awaited - takeResendable() seals it then.
   */
  makeConfirm() {
    return this.#serial(() => this.#confirm());
  }

  /**
   * Encrypts and signs a text now -> envelope (pending with acks). not_ready while securing, before
   * makeConfirm(), while texts are queued, or (acks) while an envelope's outcome is awaited: queue() it then.
   */
  seal(text, { me = false } = {}) {
    return this.#serial(async () => {
      if (!this.#canSeal() || !this.#key.confirmed || this.#sending.queued > 0) throw new ProtocolError("not_ready");
      return this.#sealText(this.#sending.item(text, me));
    });
  }

  /** Queues a file's metadata body (files.js prepareFile, §6.7) like a text -> its local ID. */
  queueFile(body) {
    if (!this.#transcript) throw new ProtocolError("not_ready");
    const item = this.#sending.fileItem(body);
    this.#sending.enqueue(item);
    return item.localId;
  }

  /** Queues a text (offline, securing or not) -> its local ID; takeResendable() seals it in order. */
  queue(text, { me = false } = {}) {
    if (!this.#transcript) throw new ProtocolError("not_ready");
    const item = this.#sending.item(text, me);
    this.#sending.enqueue(item);
    return item.localId;
  }

  /**
   * What to send now, in order (§6.6): with acks at most one envelope, and none while an outcome is
   * awaited - an envelope refused for a passing reason (unchanged), our confirm, or the next queued
   * text sealed under the held epoch (a text the server refused as stale is sealed again this way).
   * Without acks, every queued text at once. Call it after each outcome, after holding a key and on resume.
   */
  takeResendable() {
    return this.#serial(async () => {
      if (!this.#identity || !this.ready) return [];
      if (!this.#acks) {
        const out = [];
        if (!this.#key.confirmed) return out;
        while (this.#sending.queued > 0) out.push(await this.#sealText(this.#sending.nextQueued()));
        return out;
      }
      const { wait, envelope, digestDropped } = this.#sending.resendable(this.#key.epoch);
      if (wait) return [];
      if (envelope) return [envelope];
      if (digestDropped) this.#textSinceDigest = true; // a fresh one replaces it
      if (!this.#canSeal()) return [];
      if (!this.#key.confirmed) return [await this.#confirm()];
      const link = this.#relink.bodyFor(this.#key.epoch, this.#key.rosterIds);
      if (link) return [await this.#sealBody(link, "link")];
      const item = this.#sending.nextQueued();
      if (!item) return [];
      try {
        return [await this.#sealText(item)];
      } catch (error) {
        this.#sending.enqueue(item, { first: true });
        throw error;
      }
    });
  }

  /**
   * The server acknowledged `envelope` ({ok: true}): our chain moves past it. -> {localId, text, me,
   * epoch, seq} for a text, null for a confirm, a digest or an envelope not pending.
   */
  sent(envelope) {
    return this.#serial(async () => {
      const entry = this.#sending.takeSent(envelope);
      if (!entry) return null;
      const shown = this.#acknowledge(entry);
      const ours = entry.kind === "link" ? this.#relink.takeOurs() : null;
      if (ours) return { relink: await this.#adoptLink(ours) };
      return shown;
    });
  }

  /**
   * The server refused `envelope` with `code`, or it never answered (code "offline" / "timeout"):
   * TRANSIENT_REFUSALS -> the same envelope again later ({state: "retry"}); stale_epoch -> the text goes
   * back to the front of the queue to be sealed under a newer epoch ({state: "queued"}); anything else
   * -> {state: "failed", code}. Null for a confirm, a digest or an envelope not pending.
   */
  refused(envelope, code) {
    return this.#serial(async () => {
      const { result, digestDropped } = this.#sending.refused(envelope, code);
      if (digestDropped) this.#textSinceDigest = true; // a fresh one replaces it
      return result;
    });
  }

  /** Our texts not acknowledged yet, in send order: [{localId, text, me, state: "sending" | "retry" | "queued"}]. */
  pending() {
    return this.#sending.pending();
  }

  /** Our digest (§6.5) when one is due (a text shown or sent since the last, DIGEST_INTERVAL_MS passed), else null. */
  makeDigest() {
    return this.#serial(async () => {
      const now = this.#now();
      if (!this.#canSeal() || this.#sending.queued > 0 || !this.#key.confirmed || !this.#textSinceDigest
        || now - this.#lastDigestAt < DIGEST_INTERVAL_MS) return null;
      const heads = this.#transcript.heads();
      const envelope = await this.#sealBody({ t: "digest", heads }, "digest");
      this.#lastDigestAt = now;
      this.#textSinceDigest = false;
      return envelope;
    });
  }

  /**
   * Our `typing` body (§6.3) when it can go out at once - the key confirmed, nothing queued and
   * (acks) no outcome awaited - else null: a typing indicator never waits, so none is ever stale.
   */
  makeTyping() {
    return this.#serial(async () => {
      if (!this.#canSeal() || this.#sending.queued > 0 || !this.#key.confirmed) return null;
      return this.#sealBody({ t: "typing" }, "typing");
    });
  }

  /**
   * Runs every §6.4 check: a text -> {memberId, name, text, me, epoch, seq, late, outOfOrder,
   * afterReplies, notices}; a digest -> {digest: true, notices}; a confirm -> {confirm: true, notices};
   * a typing body -> {typing: true, memberId, name, late, notices};
   * an unknown type -> {ignored: true, notices}; null while it waits for its epoch's key.
   * Counts and rethrows rejections.
   */
  open(envelope) {
    return this.#serial(() => this.#open(envelope));
  }

  async #open(envelope) {
    try {
      if (this.#shouldHold(envelope)) return this.#held.hold(envelope);
      return await this.#openNow(envelope);
    } catch (error) {
      this.#rejected += 1;
      throw error;
    }
  }

  /** Opens the held messages whose key is here (in arrival order); rejects and counts the stale and expired. */
  releaseHeld() {
    return this.#serial(async () => {
      const now = this.#now();
      const shown = [];
      for (const entry of this.#held.takeAll()) {
        if (now >= entry.until) this.#rejected += 1; // its key never came in time
        else if (this.#shouldHold(entry.envelope)) this.#held.keep(entry);
        else await this.#open(entry.envelope).then((result) => result && shown.push(result), () => {});
      }
      return shown;
    });
  }

  /** True for a message from a member under an epoch above the key held and not below the floor. */
  #shouldHold(envelope) {
    return shouldHold(envelope, this.#members, this.#key?.epoch ?? 0, this.#floor);
  }

  /** The §6.4 checks with the key held, then the chain, display-order and digest bookkeeping. */
  async #openNow(envelope) {
    const { sender, chain } = checkEnvelope(envelope, this.#members, this.#key, this.#floor);
    if (await this.#isCopy(envelope, sender.memberId)) return { ignored: true, duplicate: true, notices: [] };
    const late = Number.isSafeInteger(envelope.seq) && envelope.seq < chain.next;
    const { body, hash } = await openMessage({ roomId: this.#roomId, envelope, chain, sender });
    if (!this.#members.has(sender.memberId)) throw new ProtocolError("not_member"); // removed while we awaited
    const { epoch, seq, prev } = envelope;
    const memberId = sender.memberId;
    this.#watch.heard(memberId);
    const notices = this.#transcript.received({ memberId, epoch, seq, prev, hash, late });
    if (body.t === "digest") {
      notices.push(...this.#transcript.compare(memberId, body.heads, this.#now(), DIGEST_GRACE_MS));
      return { digest: true, notices };
    }
    if (body.t === "confirm") return { confirm: true, notices };
    if (body.t === "link") {
      const secret = this.#relink.accept(memberId, epoch, body);
      if (!secret) return { ignored: true, notices };
      return { relink: await this.#adoptLink(secret), memberId, name: this.member(memberId)?.name ?? null, notices };
    }
    if (body.t === "typing") return { typing: true, memberId, name: this.member(memberId).name, late, notices };
    if (body.t === "file") {
      this.#transcript.shown([memberId, epoch, seq], { late }); // a later text may answer it (`after`)
      this.#textSinceDigest = true;
      return { memberId, name: this.member(memberId).name, file: checkFileBody(body, this.maxFileBytes), epoch, seq, notices };
    }
    if (body.t !== "text") return { ignored: true, notices };
    const outOfOrder = this.#transcript.outOfOrder(body.after);
    const afterReplies = this.#transcript.shown([memberId, epoch, seq], { late });
    if (afterReplies) notices.push(notice("reorder", memberId));
    this.#textSinceDigest = true;
    return {
      memberId, name: this.member(memberId).name, text: body.text, me: body.me, epoch, seq,
      late, outOfOrder, afterReplies, notices,
    };
  }

  /** True for an exact copy of an envelope already accepted (a resend whose first copy did arrive, §6.6). */
  async #isCopy(envelope, memberId) {
    const seen = this.#transcript.hashOf(memberId, envelope.epoch, envelope.seq);
    if (seen === undefined) return false;
    return seen === await envelopeHash(this.#roomId, envelope).catch(() => null);
  }

  /**
   * Notices whose wait ran out: digest heads never filled (gaps); rekeys for no reason (rekey_churn) and a
   * second key for an epoch held (two_keys); and {kind: "unconfirmed", memberIds} when a member of the held
   * roster has been silent under every key we held for CONFIRM_MS (once, until that member is heard).
   */
  pendingNotices() {
    if (!this.#transcript) return [];
    return [...this.#transcript.due(this.#now()), ...this.#watch.notices(this.unconfirmed())];
  }

  /** Member IDs of the held roster with no valid message under a key we held for CONFIRM_MS (§5.5), new epochs or not. */
  unconfirmed() {
    if (!this.#key) return [];
    return this.#watch.silent(this.#key.rosterIds, this.#members, this.memberId);
  }

  /** Accepted members in join order, names of look-alike duplicates numbered by member ID (members.js, §4). */
  members() {
    return this.#members.list();
  }

  /** One member as members() shows it, or null. */
  member(memberId) {
    return this.members().find((m) => m.memberId === memberId) ?? null;
  }

  /**
   * Drops every key, chain, member, held message, pending text, the resume secret and every counter so
   * nothing of the room stays reachable. -> the texts never acknowledged [{localId, text, me}] (now failed).
   */
  wipe() {
    const failed = this.pending().map(({ localId, text, me }) => ({ localId, text, me }));
    for (const chain of this.#key?.chains.values() ?? []) chain.drop();
    this.#secret = this.#linkKeys = this.#joinKey = this.#identity = this.#self = this.#key = this.memberId = null;
    this.#transcript = null;
    this.#members = new Members();
    this.#passedOver = new Map();
    this.#relink.clear();
    this.#watch = new KeyWatch(this.#now);
    this.#reportedMissing = new Set();
    this.#held = new HeldBack(this.#now);
    this.#listed = false;
    this.#sending = new Sending(this.#acks);
    this.#resume = null;
    this.#epoch = this.#floor = this.#rejected = this.#flagged = 0;
    return failed;
  }
}
