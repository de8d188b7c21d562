// Sending chains and envelopes (docs/PROTOCOL.md §6.1-§6.3): one Chain per sender
// and epoch, ratcheted per message, each message key used once and dropped.
// No state beyond the chain itself, no DOM.
import {
  PROTOCOL_VERSION, MAX_TEXT_BYTES, ProtocolError, b64uEncode, checkCounter, checkId, decodeField,
  decodeUtf8, label, pad, unpad, sha256, sign, verify,
} from "./crypto.js";

/** How far a receiver ratchets ahead, and how many skipped message keys it keeps per sender (§6.2). */
export const MAX_SKIP = 256, MAX_SKIPPED_KEYS = 64;
/** Padded body sizes (§6.1): the ciphertext shows only which class a message is in. */
export const BODY_SIZES = [256, 512, 1024, 2048, 4096, 8192];
/** `prev` of a sender's first envelope. */
export const ZERO_HASH = b64uEncode(new Uint8Array(32));
const MAX_DIGEST_HEADS = 1024;

const subtle = globalThis.crypto.subtle;
const encoder = new TextEncoder();
const HMAC = { name: "HMAC", hash: "SHA-256", length: 256 };

/** One ratchet step from ck_n: mk_n (AES-GCM, or null when not wanted) and ck_{n+1}; raw bytes zeroed at once. */
async function step(chainKey, wantMessageKey = true) {
  const nextBytes = new Uint8Array(await subtle.sign("HMAC", chainKey, Uint8Array.of(0x02)));
  const next = await subtle.importKey("raw", nextBytes, HMAC, false, ["sign"]);
  nextBytes.fill(0);
  let messageKey = null;
  if (wantMessageKey) {
    const mkBytes = new Uint8Array(await subtle.sign("HMAC", chainKey, Uint8Array.of(0x01)));
    messageKey = await subtle.importKey("raw", mkBytes, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
    mkBytes.fill(0);
  }
  return { messageKey, next };
}

/**
 * A sender's chain in one epoch: holds ck_next and at most MAX_SKIPPED_KEYS skipped message
 * keys. A key is committed (old chain key dropped) only when its message sealed or opened.
 * Every seq below `next` that is not a held skipped key was opened or evicted: evicted ones are
 * all at or below `#evictedUpTo`, so a miss above it is a replay and one at or below it too_old.
 */
export class Chain {
  #chainKey; #next = 1; #skipped = new Map(); #evictedUpTo = 0; #lock = Promise.resolve();

  /** `chainKey` is ck_1, a non-extractable HMAC key (epoch.js derives it). */
  constructor(chainKey) {
    this.#chainKey = chainKey;
  }

  /** The seq of the next key in the chain. */
  get next() { return this.#next; }

  /** For tests and diagnostics: the chain position and which skipped seqs still have a key (no key material). */
  inspect() {
    return { next: this.#next, skipped: [...this.#skipped.keys()] };
  }

  /** Runs fn after every earlier operation on this chain (the chain state is a sequence). */
  #serial(fn) {
    const run = this.#lock.then(fn);
    this.#lock = run.catch(() => {});
    return run;
  }

  /** Calls use(seq, messageKey) with the next key; on success the chain moves past it. */
  seal(use) {
    return this.#serial(async () => {
      if (!this.#chainKey) throw new ProtocolError("not_ready");
      const { messageKey, next } = await step(this.#chainKey);
      const result = await use(this.#next, messageKey);
      this.#chainKey = next;
      this.#next += 1;
      return result;
    });
  }

  /** Calls use(messageKey) with the key of `seq` (replay, too_old, too_far otherwise); commits only if use succeeds. */
  open(seq, use) {
    return this.#serial(async () => {
      if (!this.#chainKey) throw new ProtocolError("not_ready");
      checkCounter(seq, 1);
      if (seq < this.#next) {
        const held = this.#skipped.get(seq);
        if (!held) throw new ProtocolError(seq > this.#evictedUpTo ? "replay" : "too_old");
        const result = await use(held);
        this.#skipped.delete(seq);
        return result;
      }
      if (seq - this.#next > MAX_SKIP) throw new ProtocolError("too_far");
      // Skipped keys that would be evicted at once are never derived.
      const keepFrom = seq - MAX_SKIPPED_KEYS;
      let chainKey = this.#chainKey;
      const fresh = [];
      for (let n = this.#next; n < seq; n++) {
        const { messageKey, next } = await step(chainKey, n >= keepFrom);
        if (messageKey) fresh.push([n, messageKey]);
        chainKey = next;
      }
      const { messageKey, next } = await step(chainKey);
      const result = await use(messageKey);
      for (const [n, key] of fresh) this.#skipped.set(n, key);
      if (keepFrom > this.#next) this.#evictedUpTo = Math.max(this.#evictedUpTo, keepFrom - 1);
      while (this.#skipped.size > MAX_SKIPPED_KEYS) {
        const [oldest] = this.#skipped.keys(); // Map order is seq order: keys are only ever added ascending
        this.#skipped.delete(oldest);
        this.#evictedUpTo = Math.max(this.#evictedUpTo, oldest);
      }
      this.#chainKey = next;
      this.#next = seq + 1;
      return result;
    });
  }

  /** Drops every key (the chain opens nothing afterwards). */
  drop() {
    this.#chainKey = null;
    this.#skipped.clear();
  }
}

/** The smallest padded size that holds `length` bytes plus the 0x80 marker (§6.1). */
export function paddedSize(length) {
  const size = BODY_SIZES.find((n) => n > length);
  if (!size) throw new ProtocolError("too_long");
  return size;
}

/** The AAD and signature input of an envelope (§6.1). */
function envelopeLabels({ roomId, epoch, sender, seq, prev, iv, ct }) {
  return {
    aad: label("burnchat/v2/msg", roomId, epoch, sender, seq, prev),
    sigInput: label("burnchat/v2/sig", roomId, epoch, sender, seq, prev, iv, ct),
  };
}

/** Checks a message reference [SENDER, EPOCH, SEQ]. */
function isRef(ref) {
  return Array.isArray(ref) && ref.length === 3 && isId(ref[0]) && isCounter(ref[1]) && isCounter(ref[2]);
}
const isCounter = (v) => Number.isSafeInteger(v) && v >= 1;
const isId = (v) => { try { checkId(v); return true; } catch { return false; } };
const isHash = (v) => { try { decodeField(v, 32); return true; } catch { return false; } };

/** Validates a decrypted body (§6.3): known types strictly, unknown types passed through. */
export function parseBody(bytes) {
  let body;
  try {
    body = JSON.parse(decodeUtf8(bytes, "bad_body"));
  } catch {
    throw new ProtocolError("bad_body");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body) || typeof body.t !== "string") {
    throw new ProtocolError("bad_body");
  }
  if (body.t === "text") {
    const size = typeof body.text === "string" ? encoder.encode(body.text).length : 0;
    if (size < 1 || size > MAX_TEXT_BYTES || !body.text.isWellFormed() || typeof body.me !== "boolean"
      || !(body.after === null || isRef(body.after))) throw new ProtocolError("bad_body");
  } else if (body.t === "digest") {
    const { heads } = body;
    if (!Array.isArray(heads) || heads.length > MAX_DIGEST_HEADS || !heads.every((h) =>
      Array.isArray(h) && h.length === 4 && isRef(h.slice(0, 3)) && isHash(h[3]))) throw new ProtocolError("bad_body");
  }
  return body;
}

/** Encodes and pads a body object; too_long when its JSON reaches 8192 bytes. */
export function encodeBody(body) {
  const bytes = encoder.encode(JSON.stringify(body));
  return pad(bytes, paddedSize(bytes.length));
}

/** Seals `body` with the chain's next key -> {envelope, hash}; hash (b64u) is the next envelope's prev (§6.1). */
export async function sealMessage({ roomId, epoch, chain, identity, sender, prev, body }) {
  checkCounter(epoch, 1);
  checkId(sender);
  decodeField(prev, 32);
  const padded = encodeBody(body);
  return chain.seal(async (seq, messageKey) => {
    const { aad } = envelopeLabels({ roomId, epoch, sender, seq, prev });
    const ivBytes = globalThis.crypto.getRandomValues(new Uint8Array(12));
    const ct = b64uEncode(await subtle.encrypt({ name: "AES-GCM", iv: ivBytes, additionalData: aad }, messageKey, padded));
    const iv = b64uEncode(ivBytes);
    const { sigInput } = envelopeLabels({ roomId, epoch, sender, seq, prev, iv, ct });
    const sig = b64uEncode(await sign(identity.sig.privateKey, sigInput));
    const envelope = { v: PROTOCOL_VERSION, epoch, sender, seq, prev, iv, ct, sig };
    return { envelope, hash: b64uEncode(await sha256(sigInput)) };
  });
}

/** H of an envelope (§6.1) as b64u, for spotting an exact copy of one already accepted; bad_encoding if malformed. */
export async function envelopeHash(roomId, envelope) {
  const { epoch, sender, seq, prev, iv, ct } = envelope ?? {};
  checkCounter(epoch, 1);
  checkCounter(seq, 1);
  checkId(sender);
  decodeField(prev, 32);
  decodeField(iv, 12);
  if (typeof ct !== "string") throw new ProtocolError("bad_encoding");
  return b64uEncode(await sha256(envelopeLabels({ roomId, epoch, sender, seq, prev, iv, ct }).sigInput));
}

/** §6.4 checks 1 (version), 3 (signature), 4 (chain window) and 5 (decrypt, padding, body) -> {body, hash}. */
export async function openMessage({ roomId, envelope, chain, sender }) {
  const { v, epoch, sender: senderId, seq, prev, iv, ct, sig } = envelope ?? {};
  if (v !== PROTOCOL_VERSION) throw new ProtocolError("bad_version");
  checkCounter(epoch, 1);
  checkCounter(seq, 1);
  checkId(senderId);
  if (senderId !== sender.memberId) throw new ProtocolError("not_member");
  decodeField(prev, 32);
  const ivBytes = decodeField(iv, 12);
  const ctBytes = b64uDecodeSized(ct);
  const { aad, sigInput } = envelopeLabels({ roomId, epoch, sender: senderId, seq, prev, iv, ct });
  if (!(await verify(sender.sigKey, decodeField(sig, 64), sigInput))) throw new ProtocolError("bad_sig");
  const body = await chain.open(seq, async (messageKey) => {
    let padded;
    try {
      padded = new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv: ivBytes, additionalData: aad }, messageKey, ctBytes));
    } catch {
      throw new ProtocolError("decrypt_failed");
    }
    return parseBody(unpad(padded, "bad_body"));
  });
  return { body, hash: b64uEncode(await sha256(sigInput)) };
}

/** Decodes a ciphertext whose length must be one of the padded sizes plus the GCM tag. */
function b64uDecodeSized(ct) {
  const bytes = decodeField(ct, BODY_SIZES[0] + 16, BODY_SIZES.at(-1) + 16);
  if (!BODY_SIZES.includes(bytes.length - 16)) throw new ProtocolError("bad_encoding");
  return bytes;
}
