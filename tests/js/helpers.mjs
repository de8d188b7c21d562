// Test-only helpers: deterministic identities, room keys and randomness for the
// vector file and the tests. Never imported by the app.
import { createECDH, createPrivateKey } from "node:crypto";
import * as bc from "../../static/js/crypto.js";
import { RoomSession } from "../../static/js/protocol.js";

const subtle = globalThis.crypto.subtle;
const P256 = { namedCurve: "P-256" };

/** Builds a fixed P-256 private key from 32 bytes d -> {jwk, pkcs8, pub} (all b64u). */
export function fixedP256(d) {
  const ecdh = createECDH("prime256v1");
  ecdh.setPrivateKey(Buffer.from(d));
  const point = new Uint8Array(ecdh.getPublicKey());
  const jwk = {
    kty: "EC", crv: "P-256",
    x: bc.b64uEncode(point.subarray(1, 33)), y: bc.b64uEncode(point.subarray(33)), d: bc.b64uEncode(d),
  };
  const pkcs8 = createPrivateKey({ key: jwk, format: "jwk" }).export({ type: "pkcs8", format: "der" });
  return { jwk, pkcs8: bc.b64uEncode(pkcs8), pub: bc.b64uEncode(point) };
}

/** Imports one fixed key pair the way generateIdentity makes them (private non-extractable). */
async function importPair(algorithm, fixed, privateUsages, publicUsages) {
  const privateKey = await subtle.importKey("jwk", fixed.jwk, { name: algorithm, ...P256 }, false, privateUsages);
  const publicKey = await subtle.importKey("raw", bc.b64uDecode(fixed.pub), { name: algorithm, ...P256 }, true, publicUsages);
  return { privateKey, publicKey };
}

/** Turns fixed {ecdh, sig} keys (from fixedP256) into an identity as crypto.js uses it. */
export async function importIdentity({ ecdh, sig }) {
  return {
    ecdh: await importPair("ECDH", ecdh, ["deriveKey", "deriveBits"], []),
    sig: await importPair("ECDSA", sig, ["sign"], ["verify"]),
    ecdhPub: ecdh.pub,
    sigPub: sig.pub,
  };
}

/** Imports fixed raw bytes as a room key shaped like newRoomKey's. */
export function importRoomKey(raw) {
  return subtle.importKey("raw", raw, { name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
}

/** Runs fn while crypto.getRandomValues hands out the given byte strings in order. */
export async function withFixedRandom(chunks, fn) {
  const rng = globalThis.crypto;
  const queue = [...chunks];
  rng.getRandomValues = (array) => {
    const next = queue.shift();
    if (!next || next.length !== array.length) throw new Error("fixed randomness exhausted or mis-sized");
    array.set(next);
    return array;
  };
  try {
    return await fn();
  } finally {
    delete rng.getRandomValues; // falls back to the prototype's real generator
  }
}

/** n bytes counting up from `start` (fixed, readable test inputs). */
export function countingBytes(start, n) {
  return Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
}

/** Hex of bytes, for readable vector entries. */
export function hex(bytes) {
  return Buffer.from(bytes).toString("hex");
}

// ---- fixtures for the crypto and session tests ----
/** A fresh room: IDs, secret and link keys. */
export async function newRoomContext() {
  const roomId = bc.randomId(), secret = bc.randomId();
  return { roomId, secret, linkKeys: await bc.deriveLinkKeys(secret, roomId) };
}

/** A member of `room` with identity, announcement and its opened (accepted) form. */
export async function newMember(room, name) {
  const memberId = bc.randomId();
  const identity = await bc.generateIdentity();
  const announcement = await bc.sealAnnouncement({ linkKeys: room.linkKeys, roomId: room.roomId, memberId, identity, name });
  const opened = await bc.openAnnouncement({ linkKeys: room.linkKeys, roomId: room.roomId, announcement });
  return { memberId, identity, announcement, opened };
}

/** Flips one bit of a b64u value (at byte `index`, default the middle) and re-encodes it. */
export function flipBit(text, index) {
  const bytes = bc.b64uDecode(text);
  bytes[index ?? bytes.length >> 1] ^= 0x01;
  return bc.b64uEncode(bytes);
}

/** Drops the join payload's extra fields, leaving the announcement the server relays. */
export function announcementOf(joinPayload) {
  const { v, room, ...announcement } = joinPayload;
  return announcement;
}

/** Simulated room: sessions joined in order, each seeing the others as the server would relay them. */
export async function joinSessions(names, { roomId = bc.randomId(), secret = bc.randomId(), now } = {}) {
  const room = { roomId, secret, sessions: [], announcements: [] };
  for (const name of names) await joinOne(room, name, { now });
  return room;
}

/** Server-side removal: the others drop the member (member_left), then all move to a new epoch (rekey). */
export function removeOne(room, memberId) {
  room.sessions = room.sessions.filter((s) => s.memberId !== memberId);
  room.announcements = room.announcements.filter((a) => a.member_id !== memberId);
  const epoch = serverEpoch(room.sessions) + 1;
  for (const s of room.sessions) {
    s.removeMember(memberId);
    s.setEpoch(epoch);
  }
  return epoch;
}

/** One more member joins the simulated room as the server runs it: a new epoch at every join (§5 rule 2). */
export async function joinOne(room, name, { now } = {}) {
  const session = new RoomSession({ roomId: room.roomId, secret: room.secret, now });
  const announcement = announcementOf(await session.start(name));
  const epoch = serverEpoch(room.sessions) + 1;
  await session.joined({ epoch, members: room.announcements.map((a) => ({ ...a, held: 0 })) });
  for (const other of room.sessions) {
    await other.addMember(announcement); // member_joined, then rekey
    other.setEpoch(epoch);
  }
  room.sessions.push(session);
  room.announcements.push(announcement);
  return session;
}

/** The highest epoch any session knows or must reach (what the simulated server is at). */
export function serverEpoch(sessions) {
  return Math.max(0, ...sessions.flatMap((s) => [s.epoch, s.floor]));
}

/** Delivers a key_deliver payload: each blob to the session it is addressed to. */
export async function deliver(payload, sessions) {
  for (const blob of payload.blobs) {
    const recipient = sessions.find((s) => s.memberId === blob.to);
    await recipient.acceptRoomKey(blob);
  }
}

/** Server-side key creation: everyone moves to `epoch` (default: the current one), `creator` makes the key for the others. */
export async function rekey(creator, sessions, epoch = serverEpoch(sessions)) {
  for (const s of sessions) s.setEpoch(epoch);
  const others = sessions.filter((s) => s !== creator).map((s) => s.memberId);
  await deliver(await creator.answerKeyRequest({ epoch, create: true, for: others }), sessions);
}

/** Asserts that `promise` rejects with ProtocolError(code). */
export async function rejectsWith(assert, promise, code) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.name, "ProtocolError", `expected ProtocolError(${code}), got ${error}`);
    assert.equal(error.code, code);
    return true;
  });
}
