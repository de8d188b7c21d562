// Writes tests/vectors/files_v2.json: worked examples of file transfer (docs/PROTOCOL.md §6.7)
// with a fixed room, transfer ID and file key. Run: node tests/vectors/make_file_vectors.mjs
// The chunks are encrypted here with node:crypto from the rules alone (not with files.js);
// tests/js/files_vectors.test.mjs checks files.js against the file and tests/client/test_files.py
// the Python client.
import { createCipheriv, createHash } from "node:crypto";
import { writeFileSync } from "node:fs";

const CHUNK = 65536, CLASSES = [1024, 4096, 16384, 65536];
const b64u = (bytes) => Buffer.from(bytes).toString("base64url");
const sha = (bytes) => createHash("sha256").update(bytes).digest();

const inputs = {
  room_id: "ZmlsZXMtcm9vbS0wMDAwMQ",
  transfer: "dHJhbnNmZXItMDAwMDAwMQ",
  key: b64u(Buffer.alloc(32, 7)),
  files: [
    { name: "hello.txt", type: "text/plain", content: "utf8:hello, burn", size: 11 },
    { name: "pattern.bin", type: "application/octet-stream", content: "pattern: byte i = (i * 7) % 251", size: 70000 },
    { name: "exact.bin", type: "", content: "pattern: byte i = (i * 7) % 251", size: 65536 },
  ],
};

/** The content of a vector file. */
function contentOf(file) {
  if (file.content.startsWith("utf8:")) return Buffer.from(file.content.slice(5), "utf8");
  return Buffer.from(Array.from({ length: file.size }, (_, i) => (i * 7) % 251));
}

/** One file's every value: padding, metadata body, and per chunk IV, AAD, ciphertext. */
function vector(file) {
  const data = contentOf(file);
  const total = Math.ceil((data.length + 1) / CHUNK);
  const rest = data.length + 1 - (total - 1) * CHUNK;
  const padded = Buffer.alloc((total - 1) * CHUNK + CLASSES.find((c) => c >= rest));
  data.copy(padded);
  padded[data.length] = 0x80;
  const body = {
    t: "file", transfer: inputs.transfer, name: file.name, type: file.type, size: data.length,
    chunks: total, sha256: b64u(sha(data)), key: inputs.key,
  };
  const chunks = [];
  for (let index = 0; index < total; index += 1) {
    const iv = Buffer.alloc(12);
    iv.writeBigUInt64BE(BigInt(index), 4);
    const aad = `burnchat/v2/file|${inputs.room_id}|${inputs.transfer}|${index}|${total}`;
    const cipher = createCipheriv("aes-256-gcm", Buffer.from(inputs.key, "base64url"), iv);
    cipher.setAAD(Buffer.from(aad, "utf8"));
    const plain = padded.subarray(index * CHUNK, Math.min((index + 1) * CHUNK, padded.length));
    const ct = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    // Full chunks are recorded by their hash and ends, so the file stays small.
    const small = ct.length <= 4096 + 16;
    chunks.push({
      index, total, iv_hex: iv.toString("hex"), aad_label: aad, plaintext_bytes: plain.length,
      ct_chars: b64u(ct).length, ...(small ? { ct: b64u(ct) } : { ct_sha256: b64u(sha(Buffer.from(b64u(ct)))), ct_head: b64u(ct).slice(0, 64) }),
    });
  }
  return { name: file.name, size: data.length, padded_length: padded.length, content_sha256: b64u(sha(data)), body, body_json: JSON.stringify(body), chunks };
}

const out = {
  description: "Burn Chat file transfer worked examples (docs/PROTOCOL.md §6.7). Regenerate with `node tests/vectors/make_file_vectors.mjs`. Each file's content is given by `inputs.files[].content` (utf8:TEXT, or the byte pattern i*7 % 251 of `size` bytes). The padded file is content || 0x80 || 0x00... to padded_length ((chunks-1)*65536 + the smallest of 1024, 4096, 16384, 65536 that holds the rest). Chunk i is padded[i*65536 .. ] AES-256-GCM under `key` with IV = 4 zero bytes || i as 8 bytes big-endian and AAD = aad_label; `ct` is b64u(ciphertext || tag), or for full chunks its b64u text's SHA-256 (`ct_sha256`, of the b64u string's ASCII bytes) and first 64 characters.",
  inputs,
  files: inputs.files.map(vector),
};
writeFileSync(new URL("./files_v2.json", import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
