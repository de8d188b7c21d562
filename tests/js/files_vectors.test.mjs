// files.js against the committed file-transfer vectors (tests/vectors/files_v2.json, made with
// node:crypto from the rules alone): padding, IVs, AAD, ciphertexts, metadata and assembly.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as f from "../../static/js/files.js";
import { b64uDecode, b64uEncode } from "../../static/js/crypto.js";

const V = JSON.parse(readFileSync(new URL("../vectors/files_v2.json", import.meta.url), "utf8"));
const { room_id: roomId, transfer } = V.inputs;

/** The vector file's content. */
function contentOf(spec) {
  if (spec.content.startsWith("utf8:")) return new TextEncoder().encode(spec.content.slice(5));
  return Uint8Array.from({ length: spec.size }, (_, i) => (i * 7) % 251);
}

for (const [n, expected] of V.files.entries()) {
  test(`files.js reproduces ${expected.name}`, async () => {
    const data = contentOf(V.inputs.files[n]);
    assert.equal(f.chunkCount(data.length), expected.chunks.length);
    assert.equal(f.paddedLength(data.length), expected.padded_length);
    const { t, ...fields } = expected.body;
    assert.equal(t, "file");
    assert.deepEqual(f.checkFileBody(expected.body), fields);
    const key = await f.importFileKey(b64uDecode(V.inputs.key));
    const assembly = new f.Assembly(roomId, expected.body);
    for (const chunk of expected.chunks) {
      assert.equal(Buffer.from(f.chunkIv(chunk.index)).toString("hex"), chunk.iv_hex);
      assert.equal(new TextDecoder().decode(f.chunkAad(roomId, transfer, chunk.index, chunk.total)), chunk.aad_label);
      const plain = f.chunkPlaintext(data, chunk.index);
      assert.equal(plain.length, chunk.plaintext_bytes);
      const ct = b64uEncode(new Uint8Array(await crypto.subtle.encrypt(
        { name: "AES-GCM", iv: f.chunkIv(chunk.index), additionalData: f.chunkAad(roomId, transfer, chunk.index, chunk.total) }, key, plain)));
      assert.equal(ct.length, chunk.ct_chars);
      if (chunk.ct) assert.equal(ct, chunk.ct);
      else assert.equal(createHash("sha256").update(ct).digest("base64url"), chunk.ct_sha256);
      await assembly.add({ index: chunk.index, total: chunk.total, ct });
    }
    assert.deepEqual(await assembly.finish(), data);
  });
}
