// Epochs (docs/PROTOCOL.md §5.2-§5.4): making and opening an epoch secret E bound to
// a roster commitment C, the safety code derived from both, and every sender's chain key 1.
// E is never extractable once it is a CryptoKey: the creator wraps it from a short-lived
// copy, a recipient unwraps it straight into a non-extractable HKDF key.
import {
  ProtocolError, b64uEncode, checkCounter, checkId, decodeField, hkdfParams, label, sha256, sign, verify,
} from "./crypto.js";
import { Chain } from "./ratchet.js";

const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();
const HMAC = { name: "HMAC", hash: "SHA-256", length: 256 };
const LINE_MAC_BYTES = 16;

/** Plain string order of b64u member IDs (ASCII, so UTF-16 order is byte order). */
const byId = (a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0);

/** A member's roster line MEMBER_ID,ECDH_PUB,SIG_PUB,NAME64 (§5.2). */
export function rosterLine({ memberId, ecdhPub, sigPub, name }) {
  return `${memberId},${ecdhPub},${sigPub},${b64uEncode(encoder.encode(name))}`;
}

/** The roster sorted by member ID; duplicate_member when an ID appears twice. */
function sortRoster(members) {
  const sorted = [...members].sort(byId);
  if (sorted.some((m, i) => i > 0 && m.memberId === sorted[i - 1].memberId)) throw new ProtocolError("duplicate_member");
  return sorted;
}

/** The commit key K of the epoch, a non-extractable HMAC key (§3). */
function commitKey(epochSecret, roomId, epoch) {
  return subtle.deriveKey(hkdfParams(roomId, `burnchat/v2/commit|${epoch}`), epochSecret, HMAC, false, ["sign"]);
}

/** line_mac of one roster line: first 16 bytes of HMAC(K, ...) (§5.2). */
async function lineMac(key, roomId, epoch, line) {
  const mac = new Uint8Array(await subtle.sign("HMAC", key, label("burnchat/v2/line", roomId, epoch, line)));
  return b64uEncode(mac.subarray(0, LINE_MAC_BYTES));
}

/** C = HMAC(K, roster label) over the sorted lines (§5.2). */
async function commitment(key, roomId, epoch, creatorId, lines) {
  return new Uint8Array(await subtle.sign("HMAC", key, label("burnchat/v2/roster", roomId, epoch, creatorId, ...lines)));
}

/**
 * What commit_sig signs (§5.2): the roster IDs with their line MACs, so a recipient can check them
 * before comparing them with its own lines (a relay that rewrites one is caught, not believed).
 */
export async function commitLabel(roomId, epoch, creatorId, rosterIds, lineMacs) {
  const entries = rosterIds.map((id, i) => `${id},${lineMacs[i]}`).join("|");
  return label("burnchat/v2/commit", roomId, epoch, creatorId, b64uEncode(await sha256(label(entries))));
}

/** What a blob's sig signs (§5.3). */
function keyLabel(roomId, epoch, creatorId, to, wrapped, commitSig) {
  return label("burnchat/v2/key", roomId, epoch, creatorId, to, wrapped, commitSig);
}

/** The non-extractable AES-KW key from A to B for one epoch (§3); the ECDH secret never reaches JS. */
async function wrappingKey({ privateKey, publicKey, roomId, epoch, fromId, toId }) {
  const shared = await subtle.deriveKey({ name: "ECDH", public: publicKey }, privateKey, "HKDF", false, ["deriveKey"]);
  return subtle.deriveKey(hkdfParams(roomId, `burnchat/v2/wrap|${epoch}|${fromId}|${toId}`), shared,
    { name: "AES-KW", length: 256 }, false, ["wrapKey", "unwrapKey"]);
}

/** The 40-digit display of the authenticator: eight uint32 mod 100000, five digits each (§5.4). */
export function safetyDigits(authenticator) {
  const view = new DataView(authenticator.buffer, authenticator.byteOffset, authenticator.byteLength);
  return Array.from({ length: 8 }, (_, i) => String(view.getUint32(4 * i) % 100000).padStart(5, "0")).join(" ");
}

/** The QR text of the safety code (§5.4). */
export function safetyQr(roomId, epoch, authenticator) {
  return `burnchat-safety:2:${roomId}:${epoch}:${b64uEncode(authenticator)}`;
}

/** Compares two QR texts in constant time (for equal lengths): true when equal. */
export function compareSafety(qrTextA, qrTextB) {
  if (typeof qrTextA !== "string" || typeof qrTextB !== "string" || qrTextA.length !== qrTextB.length) return false;
  let diff = 0;
  for (let i = 0; i < qrTextA.length; i++) diff |= qrTextA.charCodeAt(i) ^ qrTextB.charCodeAt(i);
  return diff === 0;
}

/** Everything a holder keeps of an epoch once E may go (§5.3): authenticator, safety code, chains. */
async function epochKeys(epochSecret, { roomId, epoch, creatorId, rosterIds, c }) {
  const info = `burnchat/v2/authenticator|${epoch}|${b64uEncode(c)}`;
  const authenticator = new Uint8Array(await subtle.deriveBits(hkdfParams(roomId, info), epochSecret, 256));
  const chains = new Map();
  for (const id of rosterIds) {
    const chainKey = await subtle.deriveKey(hkdfParams(roomId, `burnchat/v2/chain|${epoch}|${id}`), epochSecret, HMAC, false, ["sign"]);
    chains.set(id, new Chain(chainKey));
  }
  return {
    epoch, creatorId, rosterIds, authenticator,
    safetyCode: safetyDigits(authenticator), safetyQr: safetyQr(roomId, epoch, authenticator), chains,
  };
}

/**
 * Makes epoch `epoch` for `roster` (accepted members incl. the creator, each with memberId, ecdhPub,
 * sigPub, name and, for the others, ecdhKey) -> {delivery (the key_deliver payload), keys}.
 */
export async function createEpoch({ roomId, epoch, identity, creatorId, roster }) {
  checkCounter(epoch, 1);
  const members = sortRoster(roster);
  if (!members.some((m) => m.memberId === creatorId)) throw new ProtocolError("not_member");
  const secretBytes = globalThis.crypto.getRandomValues(new Uint8Array(32));
  let epochSecret, wrappable;
  try {
    epochSecret = await subtle.importKey("raw", secretBytes, "HKDF", false, ["deriveKey", "deriveBits"]);
    // wrapKey exports its key, so the wrapped copy must be extractable; it lives only for this call.
    wrappable = await subtle.importKey("raw", secretBytes, HMAC, true, ["sign"]);
  } finally {
    secretBytes.fill(0);
  }
  const key = await commitKey(epochSecret, roomId, epoch);
  const lines = members.map(rosterLine);
  const c = await commitment(key, roomId, epoch, creatorId, lines);
  const rosterIds = members.map((m) => m.memberId);
  const lineMacs = await Promise.all(lines.map((line) => lineMac(key, roomId, epoch, line)));
  const commitSig = b64uEncode(await sign(identity.sig.privateKey, await commitLabel(roomId, epoch, creatorId, rosterIds, lineMacs)));
  const blobs = [];
  for (const to of members.filter((m) => m.memberId !== creatorId)) {
    const wk = await wrappingKey({ privateKey: identity.ecdh.privateKey, publicKey: to.ecdhKey, roomId, epoch, fromId: creatorId, toId: to.memberId });
    const wrapped = b64uEncode(await subtle.wrapKey("raw", wrappable, wk, "AES-KW"));
    const sig = b64uEncode(await sign(identity.sig.privateKey, keyLabel(roomId, epoch, creatorId, to.memberId, wrapped, commitSig)));
    blobs.push({ to: to.memberId, wrapped, sig });
  }
  wrappable = null;
  const keys = await epochKeys(epochSecret, { roomId, epoch, creatorId, rosterIds, c });
  return { delivery: { epoch, roster: rosterIds, line_macs: lineMacs, commit_sig: commitSig, blobs }, keys };
}

/** Checks a room_key event's shape: sorted unique roster IDs and one 16-byte line MAC each. */
function parseRoomKey(event) {
  const { epoch, from, to, wrapped, sig, roster, line_macs: lineMacs, commit_sig: commitSig } = event ?? {};
  checkCounter(epoch, 1);
  checkId(from);
  checkId(to);
  if (!Array.isArray(roster) || !Array.isArray(lineMacs) || roster.length !== lineMacs.length || roster.length === 0) {
    throw new ProtocolError("bad_encoding");
  }
  roster.forEach((id, i) => {
    checkId(id);
    if (i > 0 && !(roster[i - 1] < id)) throw new ProtocolError("bad_encoding");
  });
  lineMacs.forEach((mac) => decodeField(mac, LINE_MAC_BYTES));
  return {
    epoch, from, to, wrapped, wrappedBytes: decodeField(wrapped, 40), sigBytes: decodeField(sig, 64),
    roster, lineMacs, commitSig, commitSigBytes: decodeField(commitSig, 64),
  };
}

/**
 * Opens a room_key event addressed to me (§5.3 accepting a key, checks 1, 3 and 4; the epoch
 * floor, check 2, is the session's). `roster` is my accepted members, me included. Returns the
 * EpochKeys; a roster that is not mine throws roster_mismatch with .detail {unseen, left_out, differs}.
 */
export async function openEpoch({ roomId, roomKeyEvent, identity, myId, roster }) {
  const k = parseRoomKey(roomKeyEvent);
  if (k.to !== myId) throw new ProtocolError("wrong_recipient");
  const mine = sortRoster(roster);
  const creator = mine.find((m) => m.memberId === k.from);
  if (!creator || k.from === myId) throw new ProtocolError("not_member");
  if (!(await verify(creator.sigKey, k.sigBytes, keyLabel(roomId, k.epoch, k.from, k.to, k.wrapped, k.commitSig)))) {
    throw new ProtocolError("bad_sig");
  }
  const wk = await wrappingKey({ privateKey: identity.ecdh.privateKey, publicKey: creator.ecdhKey, roomId, epoch: k.epoch, fromId: k.from, toId: myId });
  let epochSecret;
  try {
    epochSecret = await subtle.unwrapKey("raw", k.wrappedBytes, wk, "AES-KW", "HKDF", false, ["deriveKey", "deriveBits"]);
  } catch {
    throw new ProtocolError("bad_key");
  }
  // The creator signed the roster IDs and line MACs it sent: a relay that changed one is caught here.
  if (!(await verify(creator.sigKey, k.commitSigBytes, await commitLabel(roomId, k.epoch, k.from, k.roster, k.lineMacs)))) {
    throw new ProtocolError("bad_sig");
  }
  const key = await commitKey(epochSecret, roomId, k.epoch);
  const lines = mine.map(rosterLine);
  const macs = await Promise.all(lines.map((line) => lineMac(key, roomId, k.epoch, line)));
  const detail = mismatch(k, mine, macs);
  if (detail.unseen.length > 0 || detail.left_out.length > 0 || detail.differs.length > 0) {
    const error = new ProtocolError("roster_mismatch", "The members you see don't match what others see - someone may be in the middle");
    error.detail = detail;
    throw error;
  }
  const c = await commitment(key, roomId, k.epoch, k.from, lines);
  return epochKeys(epochSecret, { roomId, epoch: k.epoch, creatorId: k.from, rosterIds: k.roster, c });
}

/** Who differs between the key's (verified) roster and mine: {unseen, left_out, differs} (member IDs, sorted). */
function mismatch(k, mine, macs) {
  const mineIds = new Set(mine.map((m) => m.memberId));
  const theirs = new Map(k.roster.map((id, i) => [id, k.lineMacs[i]]));
  return {
    unseen: k.roster.filter((id) => !mineIds.has(id)),
    left_out: mine.map((m) => m.memberId).filter((id) => !theirs.has(id)),
    differs: mine.filter((m, i) => theirs.has(m.memberId) && theirs.get(m.memberId) !== macs[i]).map((m) => m.memberId),
  };
}
