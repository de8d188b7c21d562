// One room's protocol state (docs/PROTOCOL.md §4-§6, API in §10): who is an
// accepted member, which room key is held, which messages may be shown.
// No DOM, no network: the UI feeds it server events and sends what it returns.
//
// Besides the §10 API it exposes `member(memberId)` (one member as members()
// shows it, or null) so the UI can label a sender or a `member_left` event.
//
// The epoch floor (§5 client rules) is what keeps a lying server from keeping
// members on a key that a removed member, or a newcomer, should not have.
import {
  PROTOCOL_VERSION, ProtocolError, b64uDecode, randomId, utf8Length, validateName, nameForComparison,
  deriveLinkKeys, deriveJoinKey, generateIdentity, sealAnnouncement, openAnnouncement, newRoomKey,
  wrapRoomKey, openRoomKey, sealMessage, openMessage, fingerprint, safetyCode, MAX_PLAINTEXT_BYTES,
} from "./crypto.js";

/** How many messages may wait for their epoch's key, and for how long (§5). */
export const MAX_HELD_MESSAGES = 64, HOLD_BACK_MS = 10000;

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
  #members = new Map();     // memberId -> opened announcement (+ isSelf), in join order
  #removed = new Set();     // member IDs that left or were removed: never accepted again
  #listed = false;          // true once the join ack's member list is in: later arrivals raise the floor
  #highestSeq = new Map();  // memberId -> highest accepted seq (kept after removal)
  #key = null;              // {epoch, roomKey, members: Set of IDs it was made for or known when accepted}
  #held = [];               // [{envelope, until}]: messages under an epoch whose key is on its way
  #epoch = 0; #floor = 0; #ownSeq = 0; #rejected = 0; #flagged = 0;
  memberId = null;

  /** Checks the link's room ID and secret; nothing is derived until start(). `now` is the clock (ms). */
  constructor({ roomId, secret, now = Date.now }) {
    this.#roomId = requireId(roomId);
    this.#secret = requireId(secret);
    this.#now = now;
  }

  /** The highest epoch known: join reply, `rekey`, or a room key held. */
  get epoch() { return this.#epoch; }
  /** The lowest epoch whose key may be used (§5 client rules). */
  get floor() { return this.#floor; }
  /** True while this member holds a key of an epoch at or above the floor (else "Securing..."). */
  get ready() { return this.#key !== null && this.#key.epoch >= this.#floor; }
  /** Messages dropped by open() and releaseHeld(). */
  get rejectedCount() { return this.#rejected; }
  /** Announcements dropped by addMember(). */
  get flaggedCount() { return this.#flagged; }
  /** Messages held back until their epoch's key arrives. */
  get heldCount() { return this.#held.length; }

  /** Makes the identity, link keys, join key and member ID; returns the `join` payload. */
  async start(name) {
    const displayName = validateName(name);
    this.#linkKeys = await deriveLinkKeys(this.#secret, this.#roomId);
    this.#joinKey = (await deriveJoinKey(this.#secret)).joinKey;
    this.#secret = null; // the derived keys are all we need; don't keep S around
    this.#identity = await generateIdentity();
    this.memberId = randomId();
    const { ecdhPub, sigPub } = this.#identity;
    const announcement = await sealAnnouncement({
      linkKeys: this.#linkKeys, roomId: this.#roomId, memberId: this.memberId, identity: this.#identity, name: displayName,
    });
    this.#self = { memberId: this.memberId, name: displayName, ecdhPub, sigPub, fingerprint: await fingerprint(ecdhPub, sigPub) };
    return { v: PROTOCOL_VERSION, room: this.#roomId, ...announcement, join_key: this.#joinKey };
  }

  /** Takes the join ack: current epoch and the earlier members in join order; we come last. */
  async joined(ack) {
    this.setEpoch(ack.epoch);
    for (const announcement of ack.members ?? []) await this.addMember(announcement);
    this.#members.set(this.memberId, { ...this.#self, isSelf: true });
    this.#listed = true;
    return this.members();
  }

  /** Accepts a member's announcement (MAC, name) or flags it; returns the member or null. */
  async addMember(announcement) {
    try {
      this.#refuseKnownId(announcement?.member_id);
      const opened = await openAnnouncement({ linkKeys: this.#linkKeys, roomId: this.#roomId, announcement });
      this.#refuseKnownId(opened.memberId); // another copy may have been accepted while we awaited
      this.#members.set(opened.memberId, { ...opened, isSelf: false });
      if (this.#listed) this.#raiseFloor(); // a newcomer must not get a key used before it came
      return this.member(opened.memberId);
    } catch {
      this.#flagged += 1;
      return null;
    }
  }

  /** A second announcement for a known, removed or own ID could swap keys or revive someone: refuse it. */
  #refuseKnownId(memberId) {
    if (memberId === this.memberId || this.#members.has(memberId) || this.#removed.has(memberId)) {
      throw new ProtocolError("duplicate_member");
    }
  }

  /** Forgets a member who left or was kicked; its ID is never accepted again, its seq history stays. */
  removeMember(memberId) {
    if (memberId === this.memberId || typeof memberId !== "string") return false;
    this.#removed.add(memberId);
    if (!this.#members.delete(memberId)) return false;
    this.#raiseFloor(); // nothing more under a key the removed member holds, rekey or not
    return true;
  }

  /** A membership change: only a key newer than every epoch known may be used from now on. */
  #raiseFloor() {
    this.#floor = Math.max(this.#floor, this.#epoch) + 1;
  }

  /** Moves to a newer epoch (join ack, `rekey`); never goes back. */
  setEpoch(epoch) {
    requireEpoch(epoch, 0);
    this.#epoch = Math.max(this.#epoch, epoch);
    this.#floor = Math.max(this.#floor, epoch);
    return this.#epoch;
  }

  /** Keeps `roomKey` as the key of `epoch` (dropping the older one) with the members it may be served to. */
  #holdKey(epoch, roomKey, memberIds) {
    if (!this.#identity) throw new ProtocolError("not_ready"); // wiped (or never started) meanwhile
    this.#key = { epoch, roomKey, members: new Set([...memberIds, this.memberId]) };
    this.#epoch = Math.max(this.#epoch, epoch);
  }

  /** Accepted members (not us) among `ids`, in join order. */
  #acceptedAmong(ids) {
    const wanted = new Set(Array.isArray(ids) ? ids : []);
    return [...this.#members.values()].filter((m) => !m.isSelf && wanted.has(m.memberId));
  }

  /**
   * Answers `key_request`. A create makes (and holds) a key newer than any held and at
   * or above the floor; a serve wraps the held key only for members it was made for.
   */
  async answerKeyRequest({ epoch, create, for: recipients }) {
    if (!this.#identity) throw new ProtocolError("not_ready");
    requireEpoch(epoch, 1);
    let roomKey;
    if (create) {
      this.#requireNewEpoch(epoch);
      roomKey = await newRoomKey();
      this.#requireNewEpoch(epoch); // again: the floor or the held key may have moved while we awaited
      this.#holdKey(epoch, roomKey, this.#acceptedAmong(recipients).map((m) => m.memberId));
    } else {
      if (this.#key?.epoch !== epoch) throw new ProtocolError("not_ready");
      if (epoch < this.#floor) throw new ProtocolError("bad_epoch");
      roomKey = this.#key.roomKey;
    }
    const allowed = this.#key.members;
    const targets = this.#acceptedAmong(recipients).filter((m) => allowed.has(m.memberId));
    const blobs = await Promise.all(targets.map((to) => wrapRoomKey({
      roomId: this.#roomId, epoch, roomKey, identity: this.#identity, fromId: this.memberId, to,
    })));
    return { epoch, blobs };
  }

  /** A created key must be of an epoch at or above the floor and newer than the one held. */
  #requireNewEpoch(epoch) {
    if (epoch < this.#floor || epoch <= (this.#key?.epoch ?? 0)) throw new ProtocolError("bad_epoch");
  }

  /** Accepts a `room_key` blob from an accepted member; returns the epoch now held (emit key_held). */
  async acceptRoomKey(blob) {
    if (!this.#identity) throw new ProtocolError("not_ready");
    const sender = this.#members.get(blob?.from);
    if (!sender || sender.isSelf) throw new ProtocolError("not_member");
    const { epoch, roomKey } = await openRoomKey({
      roomId: this.#roomId, blob, identity: this.#identity, myId: this.memberId, sender,
    });
    if (epoch < this.#floor || epoch < (this.#key?.epoch ?? 0)) throw new ProtocolError("bad_epoch");
    // Keep the first key of an epoch: one epoch never has two keys (§5).
    if (this.#key?.epoch !== epoch) this.#holdKey(epoch, roomKey, this.#members.keys());
    return epoch;
  }

  /** Encrypts and signs a message under the held key; not_ready while securing. */
  async seal(text) {
    if (!this.ready) throw new ProtocolError("not_ready");
    const size = utf8Length(text);
    if (size === 0) throw new ProtocolError("empty");
    if (size > MAX_PLAINTEXT_BYTES) throw new ProtocolError("too_long");
    const { epoch, roomKey } = this.#key;
    this.#ownSeq += 1; // taken before awaiting so concurrent seals never share a seq
    return sealMessage({
      roomId: this.#roomId, epoch, roomKey, identity: this.#identity, sender: this.memberId, seq: this.#ownSeq, text,
    });
  }

  /**
   * Runs every §6 check and returns {memberId, name, text}; or null when the message
   * waits for its epoch's key (releaseHeld opens it later). Counts and rethrows rejections.
   */
  async open(envelope) {
    try {
      if (this.#shouldHold(envelope)) return this.#holdBack(envelope);
      return await this.#openNow(envelope);
    } catch (error) {
      this.#rejected += 1;
      throw error;
    }
  }

  /** Opens the held messages whose key is here (in arrival order); rejects and counts the stale and expired. */
  async releaseHeld() {
    const now = this.#now();
    const waiting = this.#held;
    this.#held = [];
    const shown = [];
    for (const { envelope, until } of waiting) {
      if (now >= until) this.#rejected += 1; // its key never came in time
      else if (this.#shouldHold(envelope)) this.#held.push({ envelope, until });
      else await this.open(envelope).then((message) => message && shown.push(message), () => {});
    }
    return shown;
  }

  /** True for a message from a member under an epoch above the key held and not below the floor. */
  #shouldHold(envelope) {
    const sender = this.#members.get(envelope?.sender);
    const epoch = envelope?.epoch;
    return Boolean(sender && !sender.isSelf) && Number.isSafeInteger(epoch)
      && epoch > (this.#key?.epoch ?? 0) && epoch >= this.#floor;
  }

  /** Keeps a message until its key arrives (bounded); a full buffer rejects it. */
  #holdBack(envelope) {
    if (this.#held.length >= MAX_HELD_MESSAGES) throw new ProtocolError("not_ready");
    this.#held.push({ envelope, until: this.#now() + HOLD_BACK_MS });
    return null;
  }

  /** The §6 checks with the key held; returns the message. */
  async #openNow(envelope) {
    const sender = this.#checkEnvelope(envelope);
    const text = await openMessage({ roomId: this.#roomId, envelope, roomKey: this.#key.roomKey, sender });
    this.#checkEnvelope(envelope); // again: a copy may have been accepted, or we moved on, while we awaited
    this.#highestSeq.set(sender.memberId, envelope.seq);
    return { memberId: sender.memberId, name: this.member(sender.memberId).name, text };
  }

  /** §6 checks 1, 2 and 4 (the cheap ones); returns the sender. */
  #checkEnvelope(envelope) {
    const sender = this.#members.get(envelope?.sender);
    if (!sender || sender.isSelf) throw new ProtocolError("not_member");
    // Below the floor is stale for good (a removal or a join happened since); no key yet is "not ready".
    if (envelope.epoch < this.#floor || (this.#key && envelope.epoch !== this.#key.epoch)) throw new ProtocolError("bad_epoch");
    if (!this.#key) throw new ProtocolError("not_ready");
    if (!(envelope.seq > (this.#highestSeq.get(sender.memberId) ?? 0))) throw new ProtocolError("replay");
    return sender;
  }

  /** Accepted members in join order; look-alike duplicate names shown as "name (2)", "name (3)", ... */
  members() {
    const seen = new Map();
    return [...this.#members.values()].map((m) => {
      const key = nameForComparison(m.name);
      const count = (seen.get(key) ?? 0) + 1;
      seen.set(key, count);
      const name = count === 1 ? m.name : `${m.name} (${count})`;
      return { memberId: m.memberId, name, fingerprint: m.fingerprint, isSelf: m.isSelf };
    });
  }

  /** One member as members() shows it, or null. */
  member(memberId) {
    return this.members().find((m) => m.memberId === memberId) ?? null;
  }

  /** The safety code over every accepted member, ourselves included. */
  async safetyCode() {
    return safetyCode(this.#roomId, [...this.#members.values()]);
  }

  /** Drops every key, member, held message and counter so nothing of the room stays reachable. */
  wipe() {
    this.#secret = this.#linkKeys = this.#joinKey = this.#identity = this.#self = this.#key = this.memberId = null;
    this.#members = new Map();
    this.#removed = new Set();
    this.#highestSeq = new Map();
    this.#held = [];
    this.#listed = false;
    this.#epoch = this.#floor = this.#ownSeq = this.#rejected = this.#flagged = 0;
  }
}
