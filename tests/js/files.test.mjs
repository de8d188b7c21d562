// files.js: chunking and padding, the round trip, and one attack test per check a receiver makes
// (reordered, dropped, spliced, truncated, tampered chunks; a wrong hash; lying metadata), plus
// what a file may be displayed as.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as f from "../../static/js/files.js";
import { b64uDecode, b64uEncode, randomId } from "../../static/js/crypto.js";

const rooms = { roomId: randomId() };

/** Random bytes of `size` (getRandomValues takes at most 64 KiB a call). */
function bytesOf(size) {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 65536) globalThis.crypto.getRandomValues(out.subarray(i, Math.min(size, i + 65536)));
  return out;
}

/** Sends `bytes` and receives every chunk (optionally changed by `alter(chunks)`) -> the received file. */
async function roundTrip(bytes, { type = "application/pdf", alter = (c) => c, roomId = rooms.roomId, receiverRoom = roomId } = {}) {
  const file = await f.prepareFile({ roomId, bytes, name: "report.pdf", type });
  const chunks = [];
  for (let i = 0; i < file.total; i += 1) chunks.push(await file.seal(i));
  const meta = f.checkFileBody(JSON.parse(JSON.stringify(file.body)));
  const assembly = new f.Assembly(receiverRoom, meta);
  for (const chunk of alter(chunks)) await assembly.add(chunk);
  return { out: await assembly.finish(), file, chunks };
}

describe("chunking and padding", () => {
  test("chunk counts and padded lengths at the class edges", () => {
    assert.equal(f.chunkCount(0), 1);
    assert.equal(f.paddedLength(0), 1024);
    assert.equal(f.paddedLength(1023), 1024);
    assert.equal(f.paddedLength(1024), 4096);
    assert.equal(f.chunkCount(65535), 1);
    assert.equal(f.paddedLength(65535), 65536);
    assert.equal(f.chunkCount(65536), 2);   // the 0x80 marker needs a second chunk
    assert.equal(f.paddedLength(65536), 65536 + 1024);
    assert.equal(f.chunkCount(16 * 1024 * 1024), 257);
  });

  test("every size round-trips bit for bit", async () => {
    for (const size of [0, 1, 1023, 1024, 5000, 65535, 65536, 65537, 3 * 65536 + 17]) {
      const bytes = bytesOf(size);
      const { out, chunks } = await roundTrip(bytes);
      assert.deepEqual(out, bytes, `size ${size}`);
      for (const chunk of chunks.slice(0, -1)) assert.equal(b64uDecode(chunk.ct).length, 65536 + 16);
      assert.ok(f.LAST_CHUNK_CLASSES.includes(b64uDecode(chunks.at(-1).ct).length - 16));
    }
  });

  test("the metadata carries a fresh key and transfer ID per file", async () => {
    const bytes = bytesOf(10);
    const a = await f.prepareFile({ ...rooms, bytes, name: "a", type: "" });
    const b = await f.prepareFile({ ...rooms, bytes, name: "a", type: "" });
    assert.notEqual(a.body.key, b.body.key);
    assert.notEqual(a.transfer, b.transfer);
    assert.equal(a.body.sha256, b.body.sha256);
  });
});

describe("a receiver notices", () => {
  const bytes = bytesOf(3 * 65536 + 5);
  const rejects = (options, code) => assert.rejects(roundTrip(bytes, options), (e) => e.code === code);

  test("reordered chunks", () => rejects({ alter: (c) => [c[1], c[0], ...c.slice(2)] }, "bad_chunk"));
  test("a dropped chunk", () => rejects({ alter: (c) => [c[0], ...c.slice(2)] }, "bad_chunk"));
  test("a chunk relabelled with another index", () => rejects({ alter: (c) => [c[0], { ...c[2], index: 1 }, c[2], c[3]] }, "bad_chunk"));
  test("a truncated file (the last chunk missing)", () => rejects({ alter: (c) => c.slice(0, -1) }, "bad_file"));
  test("a flipped bit", () => rejects({
    alter: (c) => {
      const ct = b64uDecode(c[1].ct);
      ct[100] ^= 1;
      return [c[0], { ...c[1], ct: b64uEncode(ct) }, ...c.slice(2)];
    },
  }, "bad_chunk"));
  test("a chunk from another room", () => rejects({ receiverRoom: randomId() }, "bad_chunk"));

  test("a chunk spliced in from another file", async () => {
    const other = await f.prepareFile({ ...rooms, bytes, name: "x", type: "" });
    const stranger = { ...(await other.seal(1)) };
    await assert.rejects(roundTrip(bytes, { alter: (c) => [c[0], { ...stranger, transfer: c[1].transfer }, ...c.slice(2)] }),
      (e) => e.code === "bad_chunk");
  });

  test("a hash that does not match", async () => {
    const file = await f.prepareFile({ ...rooms, bytes, name: "a", type: "" });
    const assembly = new f.Assembly(rooms.roomId, { ...file.body, sha256: b64uEncode(new Uint8Array(32)) });
    for (let i = 0; i < file.total; i += 1) await assembly.add(await file.seal(i));
    await assert.rejects(assembly.finish(), (e) => e.code === "bad_hash");
  });

  test("metadata that lies or overreaches", async () => {
    const { body } = await f.prepareFile({ ...rooms, bytes, name: "a", type: "image/png" });
    for (const bad of [
      { ...body, chunks: body.chunks + 1 }, { ...body, size: -1 }, { ...body, size: 2 ** 60 },
      { ...body, name: "../../etc/passwd" }, { ...body, name: "" }, { ...body, name: "a\u202eb" },
      { ...body, type: "text/html; charset=utf-8" }, { ...body, key: "short" }, { ...body, extra: 1 },
    ]) assert.throws(() => f.checkFileBody(bad), (e) => e.code === "bad_file", JSON.stringify(bad).slice(0, 80));
    assert.throws(() => f.checkFileBody(body, 100), (e) => e.code === "bad_file"); // over the receiver's limit
  });
});

describe("display", () => {
  const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  const svg = new TextEncoder().encode("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>");
  const html = new TextEncoder().encode("<!doctype html><script>alert(1)</script>");

  test("an image only when bytes and declared type agree", () => {
    assert.deepEqual(f.displayAs(png, "image/png"), { image: true, type: "image/png" });
    assert.equal(f.displayAs(png, "text/html").image, false);
    assert.equal(f.displayAs(html, "image/png").image, false);
    assert.equal(f.displayAs(svg, "image/svg+xml").image, false);
    assert.equal(f.displayAs(html, "text/html").type, "application/octet-stream");
    const webp = new TextEncoder().encode("RIFF\u0000\u0000\u0000\u0000WEBPVP8 ");
    assert.equal(f.displayAs(webp, "image/webp").image, true);
  });

  test("names lose their paths and control characters", () => {
    assert.equal(f.cleanName("C:\\Users\\me\\shot.png"), "shot.png");
    assert.equal(f.cleanName("a\u0000b\u202e.png"), "ab.png");
    assert.equal(f.cleanType("Image/PNG"), "image/png");
    assert.equal(f.cleanType("text/html; charset=utf-8"), "text/html");
    assert.equal(f.formatSize(3 * 1024 * 1024), "3.0 MB");
  });
});
