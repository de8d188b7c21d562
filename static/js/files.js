// Files (docs/PROTOCOL.md §6.7): the metadata body, chunking with padding, per-chunk AES-GCM
// under a fresh file key, the receiver's in-order assembly with the whole-file hash check, and
// what a file may be shown as (decided from its bytes as well as its declared type).
// Pure WebCrypto, no DOM, no network: runs unchanged in browsers and Node 20.
import { ProtocolError, b64uDecode, b64uEncode, checkId, decodeField, label, randomId, sha256, utf8Length } from "./crypto.js";

const subtle = globalThis.crypto.subtle;
export const CHUNK_BYTES = 64 * 1024;
/** The last chunk is padded to the smallest of these (the server sees only the class). */
export const LAST_CHUNK_CLASSES = [1024, 4096, 16384, CHUNK_BYTES];
export const FILE_WINDOW = 4;               // chunks in flight; the server refuses a fifth (busy)
export const DEFAULT_MAX_FILE_BYTES = 16 * 1024 * 1024;
export const MAX_FILE_NAME_BYTES = 255, MAX_FILE_TYPE_CHARS = 127;
const TYPE_SHAPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/;
const CONTROL = /[\p{Cc}\p{Cf}\u2028\u2029]/gu;

/** Chunks of a file of `size` bytes once padded (the padding needs one byte at least). */
export function chunkCount(size) {
  return Math.ceil((size + 1) / CHUNK_BYTES);
}

/** Bytes of the padded file: every chunk full but the last, which is padded to its class. */
export function paddedLength(size) {
  const total = chunkCount(size);
  const rest = size + 1 - (total - 1) * CHUNK_BYTES;
  return (total - 1) * CHUNK_BYTES + LAST_CHUNK_CLASSES.find((c) => c >= rest);
}

/** Plaintext of chunk `index` of `bytes` (the file), padded as §1 pad() on the whole file. */
export function chunkPlaintext(bytes, index) {
  const start = index * CHUNK_BYTES;
  const end = Math.min(start + CHUNK_BYTES, paddedLength(bytes.length));
  const out = new Uint8Array(end - start);
  out.set(bytes.subarray(start, Math.min(end, bytes.length)));
  if (bytes.length >= start && bytes.length < end) out[bytes.length - start] = 0x80;
  return out;
}

/** IV of chunk `index`: 4 zero bytes, then the index as 8 bytes big-endian (one key per file). */
export function chunkIv(index) {
  const iv = new Uint8Array(12);
  new DataView(iv.buffer).setBigUint64(4, BigInt(index));
  return iv;
}

/** The AAD of a chunk: its room, file, position and the file's chunk count. */
export function chunkAad(roomId, transfer, index, total) {
  return label("burnchat/v2/file", roomId, transfer, index, total);
}

/** Imports a 32-byte file key as a non-extractable AES-GCM key. */
export function importFileKey(raw) {
  return subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

/** The name a file may carry: its last path part, no control characters, at most 255 UTF-8 bytes. */
export function cleanName(raw) {
  let name = String(raw ?? "").split(/[\\/]/).pop().replace(CONTROL, "").trim() || "file";
  while (utf8Length(name) > MAX_FILE_NAME_BYTES) name = [...name].slice(0, -1).join("");
  return name;
}

/** A declared type in its plain lower-case form, or "" when it isn't one. */
export function cleanType(raw) {
  const type = String(raw ?? "").toLowerCase().split(";")[0].trim();
  return type.length <= MAX_FILE_TYPE_CHARS && TYPE_SHAPE.test(type) ? type : "";
}

/**
 * A file to send: its metadata body (§6.3, t = "file") with a fresh random key and transfer ID, and
 * a sealer for its chunks. `bytes`: the whole file (Uint8Array).
 */
export async function prepareFile({ roomId, bytes, name, type }) {
  const raw = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const key = await importFileKey(raw);
  const transfer = randomId();
  const total = chunkCount(bytes.length);
  const body = {
    t: "file", transfer, name: cleanName(name), type: cleanType(type), size: bytes.length,
    chunks: total, sha256: b64uEncode(await sha256(bytes)), key: b64uEncode(raw),
  };
  raw.fill(0);
  const seal = async (index) => {
    const ct = await subtle.encrypt(
      { name: "AES-GCM", iv: chunkIv(index), additionalData: chunkAad(roomId, transfer, index, total) },
      key, chunkPlaintext(bytes, index));
    return { transfer, index, total, ct: b64uEncode(new Uint8Array(ct)) };
  };
  return { body, transfer, total, seal };
}

/** Checks a received file body -> the same fields, or ProtocolError("bad_file"). */
export function checkFileBody(body, maxBytes = DEFAULT_MAX_FILE_BYTES) {
  const bad = () => new ProtocolError("bad_file");
  const keys = Object.keys(body ?? {}).sort().join(",");
  if (keys !== "chunks,key,name,sha256,size,t,transfer,type") throw bad();
  const { transfer, name, type, size, chunks, sha256: hash, key } = body;
  try {
    checkId(transfer);
    decodeField(hash, 32);
    decodeField(key, 32);
  } catch {
    throw bad();
  }
  if (typeof name !== "string" || name !== cleanName(name)) throw bad();
  if (typeof type !== "string" || type !== cleanType(type) && type !== "") throw bad();
  if (!Number.isSafeInteger(size) || size < 0 || size > maxBytes || chunks !== chunkCount(size)) throw bad();
  return { transfer, name, type, size, chunks, sha256: hash, key };
}

/** One file arriving: chunks opened in order; finish() checks padding, size and hash. */
export class Assembly {
  #roomId; #meta; #key = null; #rawKey; #parts = []; #next = 0;

  /** `meta`: a checked file body (checkFileBody); `roomId`: the room it came in. */
  constructor(roomId, meta) {
    this.#roomId = roomId;
    this.#meta = meta;
    this.#rawKey = b64uDecode(meta.key);
  }

  /** Chunks opened so far. */
  get received() { return this.#next; }
  /** True once every chunk is in. */
  get complete() { return this.#next === this.#meta.chunks; }

  /** Opens chunk {index, total, ct}: it must be the next one of this file -> bytes received so far. */
  async add({ index, total, ct }) {
    if (index !== this.#next || total !== this.#meta.chunks) throw new ProtocolError("bad_chunk");
    const last = index === total - 1;
    const expected = last ? paddedLength(this.#meta.size) - index * CHUNK_BYTES : CHUNK_BYTES;
    let bytes;
    try {
      bytes = decodeField(ct, expected + 16);
    } catch {
      throw new ProtocolError("bad_chunk");
    }
    this.#key ??= await importFileKey(this.#rawKey);
    this.#rawKey?.fill(0);
    let plain;
    try {
      plain = new Uint8Array(await subtle.decrypt(
        { name: "AES-GCM", iv: chunkIv(index), additionalData: chunkAad(this.#roomId, this.#meta.transfer, index, total) },
        this.#key, bytes));
    } catch {
      throw new ProtocolError("bad_chunk");
    }
    this.#parts.push(plain);
    this.#next += 1;
    return Math.min(this.#next * CHUNK_BYTES, this.#meta.size);
  }

  /** The whole file once every chunk is in: padding, size and SHA-256 checked -> Uint8Array. */
  async finish() {
    if (!this.complete) throw new ProtocolError("bad_file");
    const { size } = this.#meta;
    const out = new Uint8Array(size);
    let offset = 0;
    for (const part of this.#parts) {
      const take = Math.min(part.length, size - offset);
      out.set(part.subarray(0, take), offset);
      offset += take;
    }
    // The 0x80 marker always falls in the last chunk (chunkCount counts it).
    const tail = this.#parts.at(-1).subarray(size - (this.#parts.length - 1) * CHUNK_BYTES);
    const padOk = tail[0] === 0x80 && tail.subarray(1).every((b) => b === 0);
    this.drop();
    if (!padOk || b64uEncode(await sha256(out)) !== this.#meta.sha256) throw new ProtocolError("bad_hash");
    return out;
  }

  /** Forgets every chunk and the key. */
  drop() {
    this.#parts = [];
    this.#key = null;
    this.#rawKey?.fill(0);
  }
}

const MAGIC = [
  ["image/png", [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
  ["image/jpeg", [0xff, 0xd8, 0xff]],
  ["image/gif", [0x47, 0x49, 0x46, 0x38]],
];

/** The image type of `bytes` from its magic number (PNG, JPEG, GIF, WebP), or "". */
export function sniffImage(bytes) {
  for (const [type, magic] of MAGIC) if (magic.every((b, i) => bytes[i] === b)) return type;
  const ascii = (from, to) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  return "";
}

/**
 * How a file may be shown: {image: true, type} only when its bytes are a PNG, JPEG, GIF or WebP and
 * its declared type says the same; anything else (HTML, SVG, a PNG called text/html) is a download.
 */
export function displayAs(bytes, declared) {
  const sniffed = sniffImage(bytes);
  const type = declared === "image/jpg" ? "image/jpeg" : declared;
  return sniffed && sniffed === type ? { image: true, type: sniffed } : { image: false, type: "application/octet-stream" };
}

/** "3.1 MB", "512 KB", "12 bytes". */
export function formatSize(size) {
  if (size < 1024) return `${size} byte${size === 1 ? "" : "s"}`;
  if (size < 1024 * 1024) return `${Math.round(size / 1024)} KB`;
  return `${(size / (1024 * 1024)).toFixed(1)} MB`;
}
