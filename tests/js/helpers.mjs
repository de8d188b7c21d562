// Test-only helpers: deterministic identities, room keys and randomness for the
// vector file and the tests. Never imported by the app.
import { createECDH, createPrivateKey } from "node:crypto";
import * as bc from "../../static/js/crypto.js";

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

/** The P-256 group order n (§1). */
export const P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551n;

/** The other encoding (r, n - s) of a b64u P1363 signature: the high-s twin of a low-s one. */
export function sTwin(sigText) {
  const sig = bc.b64uDecode(sigText);
  const s = BigInt("0x" + hex(sig.subarray(32)));
  const twin = (P256_ORDER - s).toString(16).padStart(64, "0");
  sig.set(Buffer.from(twin, "hex"), 32);
  return bc.b64uEncode(sig);
}

/** True when a b64u signature's s is at most n/2. */
export function isLowS(sigText) {
  return BigInt("0x" + hex(bc.b64uDecode(sigText).subarray(32))) <= P256_ORDER >> 1n;
}

/** Raw HKDF-SHA256 bytes with UTF-8 salt and info (the app only makes non-extractable keys). */
export async function hkdfBytes(ikm, salt, info, bytes = 32) {
  const base = await subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const enc = new TextEncoder();
  return new Uint8Array(await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: enc.encode(salt), info: enc.encode(info) }, base, bytes * 8));
}

/** Raw HMAC-SHA256 bytes. */
export async function hmacBytes(keyBytes, data) {
  const key = await subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle.sign("HMAC", key, typeof data === "string" ? new TextEncoder().encode(data) : data));
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
