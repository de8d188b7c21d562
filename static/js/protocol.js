// One room's protocol state (docs/PROTOCOL.md §4-§6, API in §10): who is an
// accepted member, which room key is held, which messages may be shown.
// No DOM, no network: the UI feeds it server events and sends what it returns.
//
// Besides the §10 API it exposes `member(memberId)` (one member as members()
// shows it, or null) so the UI can label a sender or a `member_left` event.
import {
  PROTOCOL_VERSION, ProtocolError, b64uDecode, randomId, utf8Length, validateName,
  deriveLinkKeys, generateIdentity, sealAnnouncement, openAnnouncement, newRoomKey,
  wrapRoomKey, openRoomKey, sealMessage, openMessage, fingerprint, safetyCode, MAX_PLAINTEXT_BYTES,
} from "./crypto.js";

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
  #roomId; #secret; #linkKeys = null; #identity = null; #self = null;
  #members = new Map();     // memberId -> opened announcement (+ isSelf), in join order
  #highestSeq = new Map();  // memberId -> highest accepted seq (kept after removal)
  #keys = new Map();        // epoch -> room key; only the newest held epoch is kept
  #epoch = 0; #ownSeq = 0; #rejected = 0; #flagged = 0;
  memberId = null;

  /** Checks the link's room ID and secret; nothing is derived until start(). */
  constructor({ roomId, secret }) {
    this.#roomId = requireId(roomId);
    this.#secret = requireId(secret);
  }

  /** The room's current epoch, as last told by the server or a room key. */
  get epoch() { return this.#epoch; }
  /** True while this member holds the key of the current epoch (else "Securing..."). */
  get ready() { return this.#keys.has(this.#epoch); }
  /** Messages dropped by open(). */
  get rejectedCount() { return this.#rejected; }
  /** Announcements dropped by addMember(). */
  get flaggedCount() { return this.#flagged; }

  /** Makes the identity, link keys and member ID; returns the `join` payload. */
  async start(name) {
    const displayName = validateName(name);
    this.#linkKeys = await deriveLinkKeys(this.#secret, this.#roomId);
    this.#secret = null; // the link keys are all we need; don't keep S around
    this.#identity = await generateIdentity();
    this.memberId = randomId();
    const { ecdhPub, sigPub } = this.#identity;
    const announcement = await sealAnnouncement({
      linkKeys: this.#linkKeys, roomId: this.#roomId, memberId: this.memberId, identity: this.#identity, name: displayName,
    });
    this.#self = { memberId: this.memberId, name: displayName, ecdhPub, sigPub, fingerprint: await fingerprint(ecdhPub, sigPub) };
    return { v: PROTOCOL_VERSION, room: this.#roomId, ...announcement };
  }

  /** Takes the join ack: current epoch and the earlier members in join order; we come last. */
  async joined(ack) {
    this.setEpoch(ack.epoch);
    for (const announcement of ack.members ?? []) await this.addMember(announcement);
    this.#members.set(this.memberId, { ...this.#self, isSelf: true });
    return this.members();
  }

  /** Accepts a member's announcement (MAC, name) or flags it; returns the member or null. */
  async addMember(announcement) {
    try {
      this.#refuseKnownId(announcement?.member_id);
      const opened = await openAnnouncement({ linkKeys: this.#linkKeys, roomId: this.#roomId, announcement });
      this.#refuseKnownId(opened.memberId); // another copy may have been accepted while we awaited
      this.#members.set(opened.memberId, { ...opened, isSelf: false });
      return this.member(opened.memberId);
    } catch {
      this.#flagged += 1;
      return null;
    }
  }

  /** A second announcement for a known ID (or ours) could swap keys: refuse it. */
  #refuseKnownId(memberId) {
    if (memberId === this.memberId || this.#members.has(memberId)) throw new ProtocolError("duplicate_member");
  }

  /** Forgets a member who left or was kicked; its seq history stays to refuse replays. */
  removeMember(memberId) {
    if (memberId === this.memberId) return false;
    return this.#members.delete(memberId);
  }

  /** Moves to a newer epoch (from `rekey`); never goes back. */
  setEpoch(epoch) {
    this.#epoch = Math.max(this.#epoch, requireEpoch(epoch, 0));
    return this.#epoch;
  }

  /** Keeps `roomKey` as the key of `epoch` and drops every older key. */
  #holdKey(epoch, roomKey) {
    if (!this.#identity) throw new ProtocolError("not_ready"); // wiped (or never started) meanwhile
    this.#keys = new Map([[epoch, roomKey]]);
    this.#epoch = Math.max(this.#epoch, epoch);
  }

  /** Answers `key_request`: creates (and holds) or reuses the epoch's key, wraps it for each accepted member listed. */
  async answerKeyRequest({ epoch, create, for: recipients }) {
    if (!this.#identity) throw new ProtocolError("not_ready");
    requireEpoch(epoch, 1);
    let roomKey = this.#keys.get(epoch);
    if (create && !roomKey) {
      roomKey = await newRoomKey();
      requireEpoch(epoch, this.#epoch); // never create for a past epoch (checked after the await: it may move)
      this.#holdKey(epoch, roomKey);
    }
    if (!roomKey) throw new ProtocolError("not_ready");
    const targets = (recipients ?? []).map((id) => this.#members.get(id)).filter((m) => m && !m.isSelf);
    const blobs = await Promise.all(targets.map((to) => wrapRoomKey({
      roomId: this.#roomId, epoch, roomKey, identity: this.#identity, fromId: this.memberId, to,
    })));
    return { epoch, blobs };
  }

  /** Accepts a `room_key` blob from an accepted member; returns the epoch now held (emit key_held). */
  async acceptRoomKey(blob) {
    if (!this.#identity) throw new ProtocolError("not_ready");
    const sender = this.#members.get(blob?.from);
    if (!sender || sender.isSelf) throw new ProtocolError("not_member");
    const { epoch, roomKey } = await openRoomKey({
      roomId: this.#roomId, blob, identity: this.#identity, myId: this.memberId, sender,
    });
    if (epoch < this.#epoch) throw new ProtocolError("bad_epoch");
    // Keep the first key of an epoch: one epoch never has two keys (§5 rule 4).
    if (!this.#keys.has(epoch)) this.#holdKey(epoch, roomKey);
    return epoch;
  }

  /** Encrypts and signs a message under the current epoch; not_ready while securing. */
  async seal(text) {
    if (!this.ready) throw new ProtocolError("not_ready");
    const size = utf8Length(text);
    if (size === 0) throw new ProtocolError("empty");
    if (size > MAX_PLAINTEXT_BYTES) throw new ProtocolError("too_long");
    const epoch = this.#epoch;
    this.#ownSeq += 1; // taken before awaiting so concurrent seals never share a seq
    return sealMessage({
      roomId: this.#roomId, epoch, roomKey: this.#keys.get(epoch), identity: this.#identity,
      sender: this.memberId, seq: this.#ownSeq, text,
    });
  }

  /** Runs every §6 check and returns {memberId, name, text}; counts and rethrows rejections. */
  async open(envelope) {
    try {
      const sender = this.#checkEnvelope(envelope);
      const text = await openMessage({ roomId: this.#roomId, envelope, roomKey: this.#keys.get(envelope.epoch), sender });
      this.#checkEnvelope(envelope); // again: a copy may have been accepted, or we moved on, while we awaited
      this.#highestSeq.set(sender.memberId, envelope.seq);
      return { memberId: sender.memberId, name: this.member(sender.memberId).name, text };
    } catch (error) {
      this.#rejected += 1;
      throw error;
    }
  }

  /** §6 checks 1, 2 and 4 (the cheap ones); returns the sender. */
  #checkEnvelope(envelope) {
    const sender = this.#members.get(envelope?.sender);
    if (!sender || sender.isSelf) throw new ProtocolError("not_member");
    if (envelope.epoch !== this.#epoch) throw new ProtocolError("bad_epoch");
    if (!this.#keys.has(envelope.epoch)) throw new ProtocolError("not_ready");
    if (!(envelope.seq > (this.#highestSeq.get(sender.memberId) ?? 0))) throw new ProtocolError("replay");
    return sender;
  }

  /** Accepted members in join order, duplicate names shown as "name (2)", "name (3)", ... */
  members() {
    const seen = new Map();
    return [...this.#members.values()].map((m) => {
      const count = (seen.get(m.name) ?? 0) + 1;
      seen.set(m.name, count);
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

  /** Drops every key, member and counter so nothing of the room stays reachable. */
  wipe() {
    this.#secret = this.#linkKeys = this.#identity = this.#self = this.memberId = null;
    this.#members = new Map();
    this.#highestSeq = new Map();
    this.#keys = new Map();
    this.#epoch = this.#ownSeq = this.#rejected = this.#flagged = 0;
  }
}
