// Burn Chat protocol v2 primitives (docs/PROTOCOL.md §1-§4, API in §10):
// encodings, names, link keys, identities, low-s signatures, padding, announcements.
// Epochs live in epoch.js, sending chains and envelopes in ratchet.js.
// Pure WebCrypto, no state, no DOM: runs unchanged in browsers and Node 20.

export const PROTOCOL_VERSION = 2, MAX_TEXT_BYTES = 4096, MAX_NAME_CHARS = 32;

const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();
const P256 = { namedCurve: "P-256" };
const ECDSA_SHA256 = { name: "ECDSA", hash: "SHA-256" };
const B64U_CHARS = /^[A-Za-z0-9_-]*$/;
const P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551n;
/** A name is padded to this many bytes before encryption, so enc_name is always 160 bytes (§4). */
export const NAME_PAD_BYTES = 132, ENC_NAME_BYTES = 12 + NAME_PAD_BYTES + 16;

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
export function decodeField(text, min, max = min) {
  const bytes = b64uDecode(text);
  if (bytes.length < min || bytes.length > max) throw new ProtocolError("bad_encoding");
  return bytes;
}

/** Checks a 16-byte b64u identifier (room ID, member ID, link secret). */
export function checkId(text) {
  decodeField(text, 16);
  return text;
}

/** Checks a wire integer >= min, which labels print as plain decimal. */
export function checkCounter(value, min) {
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

/** The form under which duplicate names are compared (§4): NFKC, format characters (Cf) removed. */
export function nameForComparison(name) {
  return name.normalize("NFKC").replace(/\p{Cf}/gu, "");
}

/** Joins a domain-separation label (§1) and returns its UTF-8 bytes. */
export function label(...parts) {
  return encoder.encode(parts.join("|"));
}

/** HKDF-SHA256 parameters with a UTF-8 salt and info. */
export function hkdfParams(salt, info) {
  return { name: "HKDF", hash: "SHA-256", salt: encoder.encode(salt), info: encoder.encode(info) };
}

/** SHA-256 of bytes. */
export async function sha256(bytes) {
  return new Uint8Array(await subtle.digest("SHA-256", bytes));
}

/** Decodes strict UTF-8, turning malformed bytes into ProtocolError(code). */
export function decodeUtf8(bytes, code) {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new ProtocolError(code);
  }
}

/** pad(x, L) = x || 0x80 || 0x00... to exactly L bytes (§1); too_long when x does not fit. */
export function pad(bytes, length) {
  if (bytes.length >= length) throw new ProtocolError("too_long");
  const out = new Uint8Array(length);
  out.set(bytes);
  out[bytes.length] = 0x80;
  return out;
}

/** Strips trailing zeros and then exactly one 0x80; throws ProtocolError(code) when there is none. */
export function unpad(bytes, code) {
  let end = bytes.length;
  while (end > 0 && bytes[end - 1] === 0) end -= 1;
  if (end === 0 || bytes[end - 1] !== 0x80) throw new ProtocolError(code);
  return bytes.subarray(0, end - 1);
}

/** Big-endian bytes -> BigInt. */
function toBigInt(bytes) {
  return bytes.reduce((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
}

/** BigInt -> 32 big-endian bytes. */
function toBytes32(value) {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--, value >>= 8n) out[i] = Number(value & 0xffn);
  return out;
}

/** Signs with ECDSA P-256/SHA-256 and returns the low-s r || s (§1): one valid encoding per statement. */
export async function sign(privateKey, data) {
  const sig = new Uint8Array(await subtle.sign(ECDSA_SHA256, privateKey, data));
  const s = toBigInt(sig.subarray(32));
  if (s > P256_ORDER >> 1n) sig.set(toBytes32(P256_ORDER - s), 32);
  return sig;
}

/** Verifies a 64-byte low-s signature; high-s, zero or out-of-range r/s are refused before WebCrypto sees them. */
export async function verify(publicKey, sig, data) {
  if (!(sig instanceof Uint8Array) || sig.length !== 64) return false;
  const r = toBigInt(sig.subarray(0, 32)), s = toBigInt(sig.subarray(32));
  if (r === 0n || s === 0n || r >= P256_ORDER || s > P256_ORDER >> 1n) return false;
  return subtle.verify(ECDSA_SHA256, publicKey, sig, data);
}

/** Derives the non-extractable announcement MAC key and names key from the link secret (§3). */
export async function deriveLinkKeys(secret, roomId) {
  const ikm = await subtle.importKey("raw", decodeField(secret, 16), "HKDF", false, ["deriveKey"]);
  const derive = (info, algorithm, usages) =>
    subtle.deriveKey(hkdfParams(roomId, info), ikm, algorithm, false, usages);
  return {
    macKey: await derive("burnchat/v2/announce-mac", { name: "HMAC", hash: "SHA-256", length: 256 }, ["sign", "verify"]),
    namesKey: await derive("burnchat/v2/names", { name: "AES-GCM", length: 256 }, ["encrypt", "decrypt"]),
  };
}

/**
 * Derives the join key that proves to the server that a joiner has the link (§3):
 * {joinKey, joinKeyHash}, both b64u. The salt is empty because the creator registers
 * the hash before the server has made the room ID. Raw bits, since the key is sent.
 */
export async function deriveJoinKey(secret) {
  const ikm = await subtle.importKey("raw", decodeField(secret, 16), "HKDF", false, ["deriveBits"]);
  const joinKey = new Uint8Array(await subtle.deriveBits(hkdfParams("", "burnchat/v2/join"), ikm, 256));
  return { joinKey: b64uEncode(joinKey), joinKeyHash: b64uEncode(await sha256(joinKey)) };
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

/** The announcement's MAC input (§4). */
function announceLabel(roomId, memberId, ecdhPub, sigPub, encName) {
  return label("burnchat/v2/announce", roomId, memberId, ecdhPub, sigPub, encName);
}

/** Builds this member's announcement: padded, encrypted name plus link-keyed MAC (§4). */
export async function sealAnnouncement({ linkKeys, roomId, memberId, identity, name }) {
  const plain = pad(encoder.encode(validateName(name)), NAME_PAD_BYTES);
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const aad = label("burnchat/v2/name", roomId, checkId(memberId));
  const ct = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, linkKeys.namesKey, plain));
  const encName = b64uEncode(new Uint8Array([...iv, ...ct]));
  const { ecdhPub, sigPub } = identity;
  const mac = b64uEncode(await subtle.sign("HMAC", linkKeys.macKey, announceLabel(roomId, memberId, ecdhPub, sigPub, encName)));
  return { member_id: memberId, ecdh_pub: ecdhPub, sig_pub: sigPub, enc_name: encName, mac };
}

/** Verifies (constant-time MAC), decrypts, unpads and validates an announcement (§4). */
export async function openAnnouncement({ linkKeys, roomId, announcement }) {
  const { member_id: memberId, ecdh_pub: ecdhPub, sig_pub: sigPub, enc_name: encName, mac } = announcement ?? {};
  checkId(memberId);
  decodeField(ecdhPub, 65);
  decodeField(sigPub, 65);
  const sealedName = decodeField(encName, ENC_NAME_BYTES);
  const macInput = announceLabel(roomId, memberId, ecdhPub, sigPub, encName);
  if (!(await subtle.verify("HMAC", linkKeys.macKey, decodeField(mac, 32), macInput))) {
    throw new ProtocolError("bad_mac");
  }
  let plain;
  try {
    const aad = label("burnchat/v2/name", roomId, memberId);
    plain = new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv: sealedName.subarray(0, 12), additionalData: aad },
      linkKeys.namesKey, sealedName.subarray(12)));
  } catch {
    throw new ProtocolError("bad_name");
  }
  const name = validateName(decodeUtf8(unpad(plain, "bad_name"), "bad_name"));
  return {
    memberId, name, ecdhPub, sigPub,
    ecdhKey: await importPublic(ecdhPub, "ECDH", []),
    sigKey: await importPublic(sigPub, "ECDSA", ["verify"]),
    fingerprint: await fingerprint(ecdhPub, sigPub),
  };
}

/** Member key fingerprint: first 8 bytes of the hash as "1a2b 3c4d 5e6f 7a8b" (§4). */
export async function fingerprint(ecdhPub, sigPub) {
  const digest = await sha256(label("burnchat/v2/fpr", ecdhPub, sigPub));
  const hex = Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
  return hex.match(/.{4}/g).join(" ");
}

// ---- the admin PIN (§8.1): made here, never sent; the server keeps a verifier ----------

export const PIN_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"; // 32 symbols, no 0/O or 1/I
export const PIN_SHAPE = /^[2-9A-HJ-NP-Z]{8}$/;                  // 8 of them: 40 bits
export const PIN_ITERATIONS = 600000;                           // PBKDF2-HMAC-SHA256, OWASP's figure

/** The PIN as every client reads it: any case, with or without the dash and spaces. */
export function normalizePin(text) {
  return String(text || "").toUpperCase().replace(/[-\s]/g, "");
}

/** A fresh PIN from the CSPRNG, shown XXXX-XXXX (32 symbols = 5 bits: a byte & 31 is unbiased). */
export function newPin() {
  const symbols = Array.from(globalThis.crypto.getRandomValues(new Uint8Array(8)), (b) => PIN_ALPHABET[b & 31]);
  return `${symbols.slice(0, 4).join("")}-${symbols.slice(4).join("")}`;
}

/** The PIN's proof under the room's salt (b64u, 32 bytes): what a claim sends instead of the PIN. */
export async function pinProof(pin, salt) {
  const normalized = normalizePin(pin);
  if (!PIN_SHAPE.test(normalized)) throw new ProtocolError("bad_pin");
  const key = await subtle.importKey("raw", encoder.encode(normalized), "PBKDF2", false, ["deriveBits"]);
  const params = { name: "PBKDF2", hash: "SHA-256", salt: decodeField(salt, 16), iterations: PIN_ITERATIONS };
  return b64uEncode(new Uint8Array(await subtle.deriveBits(params, key, 256)));
}

/** What the server keeps: SHA-256 of the proof (b64u). */
export async function pinVerifier(proof) {
  return b64uEncode(await sha256(decodeField(proof, 32)));
}

/** A new room's PIN: {pin, salt, proof, verifier}; POST /api/rooms sends only salt and verifier. */
export async function newPinRecord() {
  const pin = newPin(), salt = randomId();
  const proof = await pinProof(pin, salt);
  return { pin, salt, proof, verifier: await pinVerifier(proof) };
}
