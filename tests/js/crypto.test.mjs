// crypto.js: encodings, names, round trips, and one attack test per check (§1-§6).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as bc from "../../static/js/crypto.js";
import { newRoomContext, newMember, flipBit, rejectsWith } from "./helpers.mjs";

const subtle = globalThis.crypto.subtle;

describe("b64u", () => {
  test("round-trips every length from 0 to 40 bytes", () => {
    for (let n = 0; n <= 40; n++) {
      const bytes = globalThis.crypto.getRandomValues(new Uint8Array(n));
      const text = bc.b64uEncode(bytes);
      assert.match(text, /^[A-Za-z0-9_-]*$/);
      assert.deepEqual(bc.b64uDecode(text), bytes);
    }
  });

  test("rejects padding, +, /, foreign characters and impossible lengths", () => {
    for (const bad of ["AAECAw==", "AAECAw=", "AA+A", "AA/A", "AA A", "AA\nA", "AAé", "A", "AAAAA", null, 7]) {
      assert.throws(() => bc.b64uDecode(bad), { code: "bad_encoding" }, JSON.stringify(bad));
    }
  });

  test("rejects non-canonical trailing bits", () => {
    assert.deepEqual(bc.b64uDecode("Zg"), new Uint8Array([0x66]));
    for (const bad of ["Zh", "Zr", "AB", "AAB", "ZmF"]) {
      assert.throws(() => bc.b64uDecode(bad), { code: "bad_encoding" }, bad);
    }
  });

  test("randomId is 16 bytes, 22 characters", () => {
    const id = bc.randomId();
    assert.equal(id.length, 22);
    assert.equal(bc.b64uDecode(id).length, 16);
    assert.notEqual(id, bc.randomId());
  });
});

describe("names", () => {
  test("trims and accepts 1 to 32 code points", () => {
    assert.equal(bc.validateName("  Ada \n"), "Ada");
    assert.equal(bc.validateName("x".repeat(32)), "x".repeat(32));
    assert.equal(bc.validateName("🔥".repeat(32)), "🔥".repeat(32)); // 32 code points, 64 UTF-16 units
  });

  test("rejects empty, blank, 33 characters and control characters", () => {
    for (const bad of ["", "   ", "x".repeat(33), "🔥".repeat(33), "a\u0000b", "tab\there", "bell\u0007", "del\u007f", "c1\u0085x", 42]) {
      assert.throws(() => bc.validateName(bad), { code: "bad_name" }, JSON.stringify(bad));
    }
  });

  test("utf8Length counts bytes, not characters", () => {
    assert.equal(bc.utf8Length("aé🔥"), 1 + 2 + 4);
  });
});

describe("keys", () => {
  test("link keys and private keys are non-extractable", async () => {
    const room = await newRoomContext();
    assert.equal(room.linkKeys.macKey.extractable, false);
    assert.equal(room.linkKeys.namesKey.extractable, false);
    const identity = await bc.generateIdentity();
    assert.equal(identity.ecdh.privateKey.extractable, false);
    assert.equal(identity.sig.privateKey.extractable, false);
    assert.equal(bc.b64uDecode(identity.ecdhPub).length, 65);
    assert.equal(bc.b64uDecode(identity.sigPub)[0], 4);
  });

  test("link keys depend on the secret and on the room", async () => {
    const room = await newRoomContext();
    const data = new TextEncoder().encode("x");
    const macOf = async (keys) => bc.b64uEncode(await subtle.sign("HMAC", keys.macKey, data));
    const otherRoom = await bc.deriveLinkKeys(room.secret, bc.randomId());
    const otherSecret = await bc.deriveLinkKeys(bc.randomId(), room.roomId);
    const mine = await macOf(room.linkKeys);
    assert.notEqual(mine, await macOf(otherRoom));
    assert.notEqual(mine, await macOf(otherSecret));
  });
});

describe("announcements", () => {
  test("round trip gives name, keys and fingerprint", async () => {
    const room = await newRoomContext();
    const ada = await newMember(room, "  Ada  ");
    assert.equal(ada.opened.memberId, ada.memberId);
    assert.equal(ada.opened.name, "Ada");
    assert.equal(ada.opened.ecdhPub, ada.identity.ecdhPub);
    assert.equal(ada.opened.fingerprint, await bc.fingerprint(ada.identity.ecdhPub, ada.identity.sigPub));
  });

  test("enc_name uses a fresh IV each time", async () => {
    const room = await newRoomContext();
    const ada = await newMember(room, "Ada");
    const again = await bc.sealAnnouncement({ linkKeys: room.linkKeys, roomId: room.roomId, memberId: ada.memberId, identity: ada.identity, name: "Ada" });
    assert.notEqual(again.enc_name.slice(0, 16), ada.announcement.enc_name.slice(0, 16));
  });

  test("a swapped public key fails the MAC", async () => {
    const room = await newRoomContext();
    const ada = await newMember(room, "Ada");
    const relay = await bc.generateIdentity();
    for (const field of ["ecdh_pub", "sig_pub"]) {
      const forged = { ...ada.announcement, [field]: field === "ecdh_pub" ? relay.ecdhPub : relay.sigPub };
      await rejectsWith(assert, bc.openAnnouncement({ linkKeys: room.linkKeys, roomId: room.roomId, announcement: forged }), "bad_mac");
    }
  });

  test("a forged MAC is refused", async () => {
    const room = await newRoomContext();
    const ada = await newMember(room, "Ada");
    const relay = await bc.generateIdentity();
    const forged = { ...ada.announcement, ecdh_pub: relay.ecdhPub, mac: bc.b64uEncode(globalThis.crypto.getRandomValues(new Uint8Array(32))) };
    await rejectsWith(assert, bc.openAnnouncement({ linkKeys: room.linkKeys, roomId: room.roomId, announcement: forged }), "bad_mac");
    const flipped = { ...ada.announcement, mac: flipBit(ada.announcement.mac) };
    await rejectsWith(assert, bc.openAnnouncement({ linkKeys: room.linkKeys, roomId: room.roomId, announcement: flipped }), "bad_mac");
  });

  test("an announcement re-attributed to another member ID fails the MAC", async () => {
    const room = await newRoomContext();
    const ada = await newMember(room, "Ada");
    const moved = { ...ada.announcement, member_id: bc.randomId() };
    await rejectsWith(assert, bc.openAnnouncement({ linkKeys: room.linkKeys, roomId: room.roomId, announcement: moved }), "bad_mac");
  });

  test("an announcement replayed into another room fails the MAC", async () => {
    const room = await newRoomContext();
    const ada = await newMember(room, "Ada");
    const otherRoomId = bc.randomId();
    // Same link secret (worst case) and a fresh one: both rooms refuse it.
    for (const secret of [room.secret, bc.randomId()]) {
      const linkKeys = await bc.deriveLinkKeys(secret, otherRoomId);
      await rejectsWith(assert, bc.openAnnouncement({ linkKeys, roomId: otherRoomId, announcement: ada.announcement }), "bad_mac");
    }
  });

  test("malformed fields are refused before any crypto", async () => {
    const room = await newRoomContext();
    const ada = await newMember(room, "Ada");
    for (const [field, value] of [["member_id", "short"], ["ecdh_pub", ada.announcement.ecdh_pub + "A"], ["mac", ada.announcement.mac + "="], ["enc_name", 5]]) {
      const bad = { ...ada.announcement, [field]: value };
      await rejectsWith(assert, bc.openAnnouncement({ linkKeys: room.linkKeys, roomId: room.roomId, announcement: bad }), "bad_encoding");
    }
  });

  test("sealing refuses an invalid name", async () => {
    const room = await newRoomContext();
    const identity = await bc.generateIdentity();
    await rejectsWith(assert, bc.sealAnnouncement({ linkKeys: room.linkKeys, roomId: room.roomId, memberId: bc.randomId(), identity, name: "x".repeat(33) }), "bad_name");
  });
});

/** Two members of one room and a room key: the setting of the key and message tests. */
async function pairWithKey() {
  const room = await newRoomContext();
  const ada = await newMember(room, "Ada");
  const bob = await newMember(room, "Bob");
  const eve = await newMember(room, "Eve");
  return { room, ada, bob, eve, roomKey: await bc.newRoomKey() };
}

/** Ada's key blob for `to` at epoch 2. */
function adaBlob({ room, ada, roomKey }, to) {
  return bc.wrapRoomKey({ roomId: room.roomId, epoch: 2, roomKey, identity: ada.identity, fromId: ada.memberId, to: to.opened });
}

/** `who` opens `blob` claimed to come from `sender`. */
function openBlobAs({ room }, who, blob, sender) {
  return bc.openRoomKey({ roomId: room.roomId, blob, identity: who.identity, myId: who.memberId, sender: sender.opened });
}

describe("key blobs", () => {
  test("round trip gives a usable, re-wrappable room key", async () => {
    const ctx = await pairWithKey();
    const blob = await adaBlob(ctx, ctx.bob);
    assert.equal(bc.b64uDecode(blob.wrapped).length, 40);
    const { epoch, roomKey } = await openBlobAs(ctx, ctx.bob, blob, ctx.ada);
    assert.equal(epoch, 2);
    const raw = async (key) => bc.b64uEncode(await subtle.exportKey("raw", key));
    assert.equal(await raw(roomKey), await raw(ctx.roomKey));
    // Bob serves a newcomer (Eve) with the key he received.
    const served = await bc.wrapRoomKey({ roomId: ctx.room.roomId, epoch: 2, roomKey, identity: ctx.bob.identity, fromId: ctx.bob.memberId, to: ctx.eve.opened });
    const { roomKey: evesKey } = await openBlobAs(ctx, ctx.eve, served, ctx.bob);
    const envelope = await bc.sealMessage({ roomId: ctx.room.roomId, epoch: 2, roomKey: evesKey, identity: ctx.eve.identity, sender: ctx.eve.memberId, seq: 1, text: "hi" });
    assert.equal(await bc.openMessage({ roomId: ctx.room.roomId, envelope, roomKey: ctx.roomKey, sender: ctx.eve.opened }), "hi");
  });

  test("a bad signature is refused", async () => {
    const ctx = await pairWithKey();
    const blob = await adaBlob(ctx, ctx.bob);
    await rejectsWith(assert, openBlobAs(ctx, ctx.bob, { ...blob, sig: flipBit(blob.sig) }, ctx.ada), "bad_sig");
  });

  test("a blob signed by someone else than `from` is refused", async () => {
    const ctx = await pairWithKey();
    const blob = await adaBlob(ctx, ctx.bob);
    const evesSig = await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, ctx.eve.identity.sig.privateKey,
      new TextEncoder().encode(`burnchat/v1/key|${ctx.room.roomId}|2|${blob.from}|${blob.to}|${blob.wrapped}`));
    await rejectsWith(assert, openBlobAs(ctx, ctx.bob, { ...blob, sig: bc.b64uEncode(evesSig) }, ctx.ada), "bad_sig");
  });

  test("a blob addressed to someone else is refused", async () => {
    const ctx = await pairWithKey();
    const blob = await adaBlob(ctx, ctx.bob);
    await rejectsWith(assert, openBlobAs(ctx, ctx.eve, blob, ctx.ada), "wrong_recipient");
  });

  test("a blob checked against a member other than its `from` is refused", async () => {
    const ctx = await pairWithKey();
    const blob = await adaBlob(ctx, ctx.bob);
    await rejectsWith(assert, openBlobAs(ctx, ctx.bob, blob, ctx.eve), "not_member");
  });

  test("a changed epoch breaks the signature, and with a valid signature the unwrap", async () => {
    const ctx = await pairWithKey();
    const blob = await adaBlob(ctx, ctx.bob);
    await rejectsWith(assert, openBlobAs(ctx, ctx.bob, { ...blob, epoch: 3 }, ctx.ada), "bad_sig");
    const resigned = await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, ctx.ada.identity.sig.privateKey,
      new TextEncoder().encode(`burnchat/v1/key|${ctx.room.roomId}|3|${blob.from}|${blob.to}|${blob.wrapped}`));
    await rejectsWith(assert, openBlobAs(ctx, ctx.bob, { ...blob, epoch: 3, sig: bc.b64uEncode(resigned) }, ctx.ada), "bad_key");
  });
});

/** Ada's message seq 1 at epoch 2 in the pair's room. */
function adaMessage({ room, ada, roomKey }, overrides = {}) {
  return bc.sealMessage({ roomId: room.roomId, epoch: 2, roomKey, identity: ada.identity, sender: ada.memberId, seq: 1, text: "attack at dawn", ...overrides });
}

/** Bob opens `envelope` as coming from `sender` (default Ada). */
function bobOpens({ room, roomKey, ada }, envelope, sender = ada) {
  return bc.openMessage({ roomId: room.roomId, envelope, roomKey, sender: sender.opened });
}

/** Re-signs a tampered envelope with Ada's key: models a check that only the AEAD can make. */
async function resignAsAda({ room, ada }, envelope) {
  const input = ["burnchat/v1/sig", room.roomId, envelope.epoch, envelope.sender, envelope.seq, envelope.iv, envelope.ct].join("|");
  const sig = await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, ada.identity.sig.privateKey, new TextEncoder().encode(input));
  return { ...envelope, sig: bc.b64uEncode(sig) };
}

describe("messages", () => {
  test("round trip, with a fresh IV per message", async () => {
    const ctx = await pairWithKey();
    const first = await adaMessage(ctx, { text: "héllo 🔥" });
    const second = await adaMessage(ctx, { text: "héllo 🔥" });
    assert.notEqual(first.iv, second.iv);
    assert.deepEqual(Object.keys(first), ["v", "epoch", "sender", "seq", "iv", "ct", "sig"]);
    assert.equal(await bobOpens(ctx, first), "héllo 🔥");
  });

  test("plaintext is 1 to 4096 bytes", async () => {
    const ctx = await pairWithKey();
    assert.equal(await bobOpens(ctx, await adaMessage(ctx, { text: "é".repeat(2048) })), "é".repeat(2048));
    await rejectsWith(assert, adaMessage(ctx, { text: "x".repeat(4097) }), "too_long");
    await rejectsWith(assert, adaMessage(ctx, { text: "" }), "empty");
  });

  test("a forged sender (signed by Ada, claimed as Bob) is refused", async () => {
    const ctx = await pairWithKey();
    const forged = await adaMessage(ctx, { sender: ctx.bob.memberId });
    await rejectsWith(assert, bobOpens(ctx, forged, ctx.bob), "bad_sig");
  });

  test("a flipped ciphertext bit is refused by the signature and by the AEAD", async () => {
    const ctx = await pairWithKey();
    const envelope = await adaMessage(ctx);
    const tampered = { ...envelope, ct: flipBit(envelope.ct) };
    await rejectsWith(assert, bobOpens(ctx, tampered), "bad_sig");
    await rejectsWith(assert, bobOpens(ctx, await resignAsAda(ctx, tampered)), "decrypt_failed");
  });

  test("a flipped IV is refused by the signature and by the AEAD", async () => {
    const ctx = await pairWithKey();
    const envelope = await adaMessage(ctx);
    const tampered = { ...envelope, iv: flipBit(envelope.iv) };
    await rejectsWith(assert, bobOpens(ctx, tampered), "bad_sig");
    await rejectsWith(assert, bobOpens(ctx, await resignAsAda(ctx, tampered)), "decrypt_failed");
  });

  test("a changed epoch or seq is refused by the signature and by the AAD", async () => {
    const ctx = await pairWithKey();
    const envelope = await adaMessage(ctx);
    for (const change of [{ epoch: 3 }, { seq: 2 }]) {
      const tampered = { ...envelope, ...change };
      await rejectsWith(assert, bobOpens(ctx, tampered), "bad_sig");
      await rejectsWith(assert, bobOpens(ctx, await resignAsAda(ctx, tampered)), "decrypt_failed");
    }
  });

  test("a plaintext that is not valid UTF-8 is refused", async () => {
    const ctx = await pairWithKey();
    const envelope = await adaMessage(ctx);
    const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
    const aad = new TextEncoder().encode(`burnchat/v1/msg|${ctx.room.roomId}|2|${ctx.ada.memberId}|1`);
    const ct = await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, ctx.roomKey, new Uint8Array([0x61, 0xff, 0x62]));
    const crafted = await resignAsAda(ctx, { ...envelope, iv: bc.b64uEncode(iv), ct: bc.b64uEncode(ct) });
    await rejectsWith(assert, bobOpens(ctx, crafted), "decrypt_failed");
  });

  test("a message under another room key does not decrypt", async () => {
    const ctx = await pairWithKey();
    const envelope = await adaMessage(ctx);
    await rejectsWith(assert, bc.openMessage({ roomId: ctx.room.roomId, envelope, roomKey: await bc.newRoomKey(), sender: ctx.ada.opened }), "decrypt_failed");
  });

  test("malformed envelopes are refused", async () => {
    const ctx = await pairWithKey();
    const envelope = await adaMessage(ctx);
    await rejectsWith(assert, bobOpens(ctx, { ...envelope, v: 2 }), "bad_version");
    for (const change of [{ seq: 0 }, { seq: "1" }, { epoch: 1.5 }, { iv: envelope.iv + "A" }, { sig: envelope.sig.slice(1) }, { sender: "x" }]) {
      await rejectsWith(assert, bobOpens(ctx, { ...envelope, ...change }), "bad_encoding");
    }
  });
});

describe("fingerprint and safety code", () => {
  test("fingerprint is four groups of four hex digits and depends on both keys", async () => {
    const [a, b] = [await bc.generateIdentity(), await bc.generateIdentity()];
    const fpr = await bc.fingerprint(a.ecdhPub, a.sigPub);
    assert.match(fpr, /^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
    assert.notEqual(fpr, await bc.fingerprint(b.ecdhPub, a.sigPub));
    assert.notEqual(fpr, await bc.fingerprint(a.ecdhPub, b.sigPub));
  });

  test("safety code ignores member order and changes when any key changes", async () => {
    const room = await newRoomContext();
    const members = [];
    for (const name of ["A", "B", "C"]) members.push((await newMember(room, name)).opened);
    const code = await bc.safetyCode(room.roomId, members);
    assert.match(code, /^\d{5} \d{5} \d{5} \d{5}$/);
    assert.equal(await bc.safetyCode(room.roomId, [...members].reverse()), code);
    const intruder = await bc.generateIdentity();
    assert.notEqual(await bc.safetyCode(room.roomId, [members[0], { ...members[1], ecdhPub: intruder.ecdhPub }, members[2]]), code);
    assert.notEqual(await bc.safetyCode(room.roomId, [members[0], { ...members[1], sigPub: intruder.sigPub }, members[2]]), code);
    assert.notEqual(await bc.safetyCode(room.roomId, members.slice(0, 2)), code);
    assert.notEqual(await bc.safetyCode(bc.randomId(), members), code);
  });
});
