// Burn Chat protocol v1 primitives (docs/PROTOCOL.md §1-§6, API in §10).
// Pure WebCrypto, no state, no DOM: runs unchanged in browsers and Node 20.

export const PROTOCOL_VERSION = 1, MAX_PLAINTEXT_BYTES = 4096, MAX_NAME_CHARS = 32;

const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();
const P256 = { namedCurve: "P-256" };
const ECDSA_SHA256 = { name: "ECDSA", hash: "SHA-256" };
const B64U_CHARS = /^[A-Za-z0-9_-]*$/;

/** A rejection with a stable machine-readable `code` (bad_mac, bad_sig, ...). */
export class ProtocolError extends Error {
  constructor(code, message = code) {
    super(message);
    this.name = "ProtocolError";
    this.code = code;
  }
}

/** Encodes bytes as base64url without padding. */
export function b64uEncode(bytes) {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Decodes strict base64url: no padding, no foreign characters, canonical trailing bits. */
export function b64uDecode(text) {
  if (typeof text !== "string" || !B64U_CHARS.test(text) || text.length % 4 === 1) {
    throw new ProtocolError("bad_encoding");
  }
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  // atob ignores non-zero leftover bits; re-encoding exposes them (e.g. "AB" vs "AA").
  if (b64uEncode(bytes) !== text) throw new ProtocolError("bad_encoding");
  return bytes;
}

/** Decodes a b64u field that must be exactly `length` bytes (or within [min, max]). */
function decodeField(text, min, max = min) {
  const bytes = b64uDecode(text);
  if (bytes.length < min || bytes.length > max) throw new ProtocolError("bad_encoding");
  return bytes;
}

/** Checks a 16-byte b64u identifier (room ID, member ID, link secret). */
function checkId(text) {
  decodeField(text, 16);
  return text;
}

/** Checks a non-negative wire integer, which labels print as plain decimal. */
function checkCounter(value, min) {
  if (!Number.isSafeInteger(value) || value < min) throw new ProtocolError("bad_encoding");
  return value;
}

/** Returns 16 random bytes as b64u (link secret, member ID). */
export function randomId() {
  return b64uEncode(globalThis.crypto.getRandomValues(new Uint8Array(16)));
}

/** Counts the UTF-8 bytes of a string. */
export function utf8Length(text) {
  return encoder.encode(text).length;
}

/** Returns the trimmed display name, or throws bad_name (1-32 code points, no Cc, no lone surrogate). */
export function validateName(raw) {
  if (typeof raw !== "string") throw new ProtocolError("bad_name");
  const name = raw.trim();
  const length = [...name].length;
  // A lone surrogate has no UTF-8 form: TextEncoder would silently send U+FFFD instead.
  if (length < 1 || length > MAX_NAME_CHARS || /\p{Cc}/u.test(name) || !name.isWellFormed()) {
    throw new ProtocolError("bad_name");
  }
  return name;
}

/** Joins a domain-separation label (§1) and returns its UTF-8 bytes. */
function label(...parts) {
  return encoder.encode(parts.join("|"));
}

/** HKDF-SHA256 parameters with a UTF-8 salt and info. */
function hkdfParams(salt, info) {
  return { name: "HKDF", hash: "SHA-256", salt: encoder.encode(salt), info: encoder.encode(info) };
}

/** Derives the non-extractable announcement MAC key and names key from the link secret (§3). */
export async function deriveLinkKeys(secret, roomId) {
  const ikm = await subtle.importKey("raw", decodeField(secret, 16), "HKDF", false, ["deriveKey"]);
  const derive = (info, algorithm, usages) =>
    subtle.deriveKey(hkdfParams(roomId, info), ikm, algorithm, false, usages);
  return {
    macKey: await derive("burnchat/v1/announce-mac", { name: "HMAC", hash: "SHA-256", length: 256 }, ["sign", "verify"]),
    namesKey: await derive("burnchat/v1/names", { name: "AES-GCM", length: 256 }, ["encrypt", "decrypt"]),
  };
}

/**
 * Derives the join key that proves to the server that a joiner has the link (§3):
 * {joinKey, joinKeyHash}, both b64u. The salt is empty because the creator registers
 * the hash before the server has made the room ID. Raw bits, since the key is sent.
 */
export async function deriveJoinKey(secret) {
  const ikm = await subtle.importKey("raw", decodeField(secret, 16), "HKDF", false, ["deriveBits"]);
  const params = { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode("burnchat/v1/join") };
  const joinKey = new Uint8Array(await subtle.deriveBits(params, ikm, 256));
  return { joinKey: b64uEncode(joinKey), joinKeyHash: b64uEncode(await sha256(joinKey)) };
}

/** The form under which duplicate names are compared (§4): NFKC, format characters (Cf) removed. */
export function nameForComparison(name) {
  return name.normalize("NFKC").replace(/\p{Cf}/gu, "");
}

/** Exports a public key as the 65-byte uncompressed point, b64u. */
async function exportPublic(publicKey) {
  return b64uEncode(await subtle.exportKey("raw", publicKey));
}

/** Makes this page load's ECDH and ECDSA key pairs; private halves are non-extractable. */
export async function generateIdentity() {
  const ecdh = await subtle.generateKey({ name: "ECDH", ...P256 }, false, ["deriveKey", "deriveBits"]);
  const sig = await subtle.generateKey({ name: "ECDSA", ...P256 }, false, ["sign", "verify"]);
  return { ecdh, sig, ecdhPub: await exportPublic(ecdh.publicKey), sigPub: await exportPublic(sig.publicKey) };
}

/** Imports a peer's public key (uncompressed P-256 point only), or throws bad_key. */
async function importPublic(text, algorithm, usages) {
  const point = decodeField(text, 65);
  if (point[0] !== 4) throw new ProtocolError("bad_key");
  try {
    return await subtle.importKey("raw", point, { name: algorithm, ...P256 }, true, usages);
  } catch {
    throw new ProtocolError("bad_key");
  }
}

/** AES-GCM encrypts with a fresh random IV; returns iv || ciphertext+tag. */
async function encryptWithFreshIv(key, plaintext, aad) {
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, key, plaintext));
  return { iv, ct };
}

/** Builds this member's announcement: encrypted name plus link-keyed MAC (§4). */
export async function sealAnnouncement({ linkKeys, roomId, memberId, identity, name }) {
  const plain = encoder.encode(validateName(name));
  const { iv, ct } = await encryptWithFreshIv(linkKeys.namesKey, plain, label("burnchat/v1/name", roomId, checkId(memberId)));
  const encName = b64uEncode(new Uint8Array([...iv, ...ct]));
  const { ecdhPub, sigPub } = identity;
  const macInput = label("burnchat/v1/announce", roomId, memberId, ecdhPub, sigPub, encName);
  const mac = b64uEncode(await subtle.sign("HMAC", linkKeys.macKey, macInput));
  return { member_id: memberId, ecdh_pub: ecdhPub, sig_pub: sigPub, enc_name: encName, mac };
}

/** Verifies (constant-time MAC), decrypts and validates an announcement (§4). */
export async function openAnnouncement({ linkKeys, roomId, announcement }) {
  const { member_id: memberId, ecdh_pub: ecdhPub, sig_pub: sigPub, enc_name: encName, mac } = announcement ?? {};
  checkId(memberId);
  decodeField(ecdhPub, 65);
  decodeField(sigPub, 65);
  const sealedName = decodeField(encName, 12 + 16 + 1, 12 + 16 + 4 * MAX_NAME_CHARS);
  const macInput = label("burnchat/v1/announce", roomId, memberId, ecdhPub, sigPub, encName);
  if (!(await subtle.verify("HMAC", linkKeys.macKey, decodeField(mac, 32), macInput))) {
    throw new ProtocolError("bad_mac");
  }
  const aad = label("burnchat/v1/name", roomId, memberId);
  const plain = await decryptOr("bad_name", linkKeys.namesKey, sealedName.subarray(0, 12), sealedName.subarray(12), aad);
  const name = validateName(decodeUtf8(plain, "bad_name"));
  return {
    memberId, name, ecdhPub, sigPub,
    ecdhKey: await importPublic(ecdhPub, "ECDH", []),
    sigKey: await importPublic(sigPub, "ECDSA", ["verify"]),
    fingerprint: await fingerprint(ecdhPub, sigPub),
  };
}

/** AES-GCM decrypts, turning any failure into ProtocolError(code). */
async function decryptOr(code, key, iv, ct, aad) {
  try {
    return new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad }, key, ct));
  } catch {
    throw new ProtocolError(code);
  }
}

/** Decodes strict UTF-8, turning malformed bytes into ProtocolError(code). */
function decodeUtf8(bytes, code) {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new ProtocolError(code);
  }
}

/** Makes a fresh room key. Extractable only because wrapKey must export it to serve newcomers. */
export async function newRoomKey() {
  return subtle.generateKey({ name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
}

/** Derives the non-extractable AES-KW key from A to B for one epoch (§3); the ECDH secret never reaches JS. */
async function deriveWrappingKey({ privateKey, publicKey, roomId, epoch, fromId, toId }) {
  const shared = await subtle.deriveKey({ name: "ECDH", public: publicKey }, privateKey, "HKDF", false, ["deriveKey"]);
  const info = `burnchat/v1/wrap|${epoch}|${fromId}|${toId}`;
  return subtle.deriveKey(hkdfParams(roomId, info), shared, { name: "AES-KW", length: 256 }, false, ["wrapKey", "unwrapKey"]);
}

/** Wraps the room key for one member and signs the blob (§5). */
export async function wrapRoomKey({ roomId, epoch, roomKey, identity, fromId, to }) {
  checkCounter(epoch, 1);
  const wrappingKey = await deriveWrappingKey({
    privateKey: identity.ecdh.privateKey, publicKey: to.ecdhKey, roomId, epoch, fromId, toId: to.memberId,
  });
  const wrapped = b64uEncode(await subtle.wrapKey("raw", roomKey, wrappingKey, "AES-KW"));
  const sigInput = label("burnchat/v1/key", roomId, epoch, fromId, to.memberId, wrapped);
  const sig = b64uEncode(await subtle.sign(ECDSA_SHA256, identity.sig.privateKey, sigInput));
  return { epoch, from: fromId, to: to.memberId, wrapped, sig };
}

/** Checks a key blob addressed to me from `sender` and unwraps it -> {epoch, roomKey} (§5). */
export async function openRoomKey({ roomId, blob, identity, myId, sender }) {
  const { epoch, from, to, wrapped, sig } = blob ?? {};
  checkCounter(epoch, 1);
  const wrappedBytes = decodeField(wrapped, 40);
  const sigBytes = decodeField(sig, 64);
  if (to !== myId) throw new ProtocolError("wrong_recipient");
  if (from !== sender.memberId) throw new ProtocolError("not_member");
  const sigInput = label("burnchat/v1/key", roomId, epoch, from, to, wrapped);
  if (!(await subtle.verify(ECDSA_SHA256, sender.sigKey, sigBytes, sigInput))) throw new ProtocolError("bad_sig");
  const unwrappingKey = await deriveWrappingKey({
    privateKey: identity.ecdh.privateKey, publicKey: sender.ecdhKey, roomId, epoch, fromId: from, toId: to,
  });
  try {
    // Extractable so this member can re-wrap it for later newcomers.
    const roomKey = await subtle.unwrapKey("raw", wrappedBytes, unwrappingKey, "AES-KW",
      { name: "AES-GCM", length: 256 }, true, ["encrypt", "decrypt"]);
    return { epoch, roomKey };
  } catch {
    throw new ProtocolError("bad_key");
  }
}

/** Returns the AAD and signature input of a message (§6). */
function messageLabels({ roomId, epoch, sender, seq, iv, ct }) {
  return {
    aad: label("burnchat/v1/msg", roomId, epoch, sender, seq),
    sigInput: label("burnchat/v1/sig", roomId, epoch, sender, seq, iv, ct),
  };
}

/** Checks the plaintext size limits (1 to MAX_PLAINTEXT_BYTES). */
function checkPlaintext(bytes) {
  if (bytes.length === 0) throw new ProtocolError("empty");
  if (bytes.length > MAX_PLAINTEXT_BYTES) throw new ProtocolError("too_long");
  return bytes;
}

/** Encrypts and signs one message -> envelope (§6). */
export async function sealMessage({ roomId, epoch, roomKey, identity, sender, seq, text }) {
  checkCounter(epoch, 1);
  checkCounter(seq, 1);
  const plain = checkPlaintext(encoder.encode(text));
  const { aad } = messageLabels({ roomId, epoch, sender, seq });
  const sealed = await encryptWithFreshIv(roomKey, plain, aad);
  const iv = b64uEncode(sealed.iv), ct = b64uEncode(sealed.ct);
  const { sigInput } = messageLabels({ roomId, epoch, sender, seq, iv, ct });
  const sig = b64uEncode(await subtle.sign(ECDSA_SHA256, identity.sig.privateKey, sigInput));
  return { v: PROTOCOL_VERSION, epoch, sender, seq, iv, ct, sig };
}

/** Verifies the sender's signature, decrypts and returns the text (§6 checks 3 and 5). */
export async function openMessage({ roomId, envelope, roomKey, sender }) {
  const { v, epoch, sender: senderId, seq, iv, ct, sig } = envelope ?? {};
  if (v !== PROTOCOL_VERSION) throw new ProtocolError("bad_version");
  checkCounter(epoch, 1);
  checkCounter(seq, 1);
  checkId(senderId);
  const ivBytes = decodeField(iv, 12);
  const ctBytes = decodeField(ct, 16 + 1, 16 + MAX_PLAINTEXT_BYTES);
  const { aad, sigInput } = messageLabels({ roomId, epoch, sender: senderId, seq, iv, ct });
  if (!(await subtle.verify(ECDSA_SHA256, sender.sigKey, decodeField(sig, 64), sigInput))) {
    throw new ProtocolError("bad_sig");
  }
  // ct's size bounds above already keep the plaintext within 1..MAX_PLAINTEXT_BYTES.
  return decodeUtf8(await decryptOr("decrypt_failed", roomKey, ivBytes, ctBytes, aad), "decrypt_failed");
}

/** SHA-256 of a label's bytes. */
async function sha256(bytes) {
  return new Uint8Array(await subtle.digest("SHA-256", bytes));
}

/** Member key fingerprint: first 8 bytes of the hash as "1a2b 3c4d 5e6f 7a8b" (§4). */
export async function fingerprint(ecdhPub, sigPub) {
  const digest = await sha256(label("burnchat/v1/fpr", ecdhPub, sigPub));
  const hex = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  return hex.match(/.{4}/g).join(" ");
}

/** Room safety code over every accepted member's keys: "01234 56789 01234 56789" (§4). */
export async function safetyCode(roomId, members) {
  // Member IDs are ASCII, so UTF-16 comparison is byte order.
  const lines = [...members]
    .sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0))
    .map((m) => `${m.memberId},${m.ecdhPub},${m.sigPub}`);
  const digest = await sha256(encoder.encode(`burnchat/v1/safety|${roomId}|` + lines.join("|")));
  const view = new DataView(digest.buffer);
  const groups = [0, 1, 2, 3].map((i) => String(view.getUint32(4 * i) % 100000).padStart(5, "0"));
  return groups.join(" ");
}
