// crypto.js, epoch.js and ratchet.js: encodings, names, padding, low-s signatures,
// announcements, epochs and the roster commitment, the safety code, sending chains
// (property-style), envelopes, and one attack test per check.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as bc from "../../static/js/crypto.js";
import { createEpoch, openEpoch, compareSafety } from "../../static/js/epoch.js";
import { Chain, sealMessage, openMessage, ZERO_HASH, MAX_SKIP, MAX_SKIPPED_KEYS } from "../../static/js/ratchet.js";
import { withFixedRandom, countingBytes, sTwin, isLowS } from "./helpers.mjs";
import { flipBit, rejectsWith, roomKeyEvent } from "./sessions.mjs";

const subtle = globalThis.crypto.subtle;
const enc = (text) => new TextEncoder().encode(text);

/** A fresh room: IDs, secret and link keys. */
async function newRoom() {
  const roomId = bc.randomId(), secret = bc.randomId();
  return { roomId, secret, linkKeys: await bc.deriveLinkKeys(secret, roomId) };
}

/** A member of `room`: identity, announcement and its opened (accepted) form. */
async function newMember(room, name) {
  const memberId = bc.randomId();
  const identity = await bc.generateIdentity();
  const announcement = await bc.sealAnnouncement({ linkKeys: room.linkKeys, roomId: room.roomId, memberId, identity, name });
  const opened = await bc.openAnnouncement({ linkKeys: room.linkKeys, roomId: room.roomId, announcement });
  return { memberId, identity, announcement, opened };
}

/** `creator` makes epoch `epoch` for `members` (opened forms); with `secret` (32 bytes) E is fixed. */
function makeEpoch(room, creator, members, { epoch = 1, secret } = {}) {
  const run = () => createEpoch({ roomId: room.roomId, epoch, identity: creator.identity, creatorId: creator.memberId, roster: members.map((m) => m.opened) });
  return secret ? withFixedRandom([secret], run) : run();
}

/** `member` opens its blob of `made` against the roster it sees. */
function openFor(room, made, creator, member, sees) {
  const blob = made.delivery.blobs.find((b) => b.to === member.memberId);
  return openEpoch({ roomId: room.roomId, roomKeyEvent: roomKeyEvent(made.delivery, creator.memberId, blob), identity: member.identity, myId: member.memberId, roster: sees.map((m) => m.opened) });
}

/** Ada, Bob and Cy, with an epoch Ada made for all three and Bob's view of it. */
async function trio() {
  const room = await newRoom();
  const [ada, bob, cy] = [await newMember(room, "Ada"), await newMember(room, "Bob"), await newMember(room, "Cy")];
  const made = await makeEpoch(room, ada, [ada, bob, cy]);
  const bobKeys = await openFor(room, made, ada, bob, [ada, bob, cy]);
  return { room, ada, bob, cy, made, bobKeys };
}

/** A text body. */
const text = (t, after = null) => ({ t: "text", text: t, after, me: false });

describe("encodings and names", () => {
  test("b64u round-trips 0-40 bytes and rejects padding, foreign characters and loose trailing bits", () => {
    for (let n = 0; n <= 40; n++) {
      const bytes = globalThis.crypto.getRandomValues(new Uint8Array(n));
      assert.deepEqual(bc.b64uDecode(bc.b64uEncode(bytes)), bytes);
    }
    for (const bad of ["AAECAw==", "AA+A", "AA/A", "AA A", "A", "Zh", "AB", null, 7]) {
      assert.throws(() => bc.b64uDecode(bad), { code: "bad_encoding" }, JSON.stringify(bad));
    }
  });

  test("names: trimmed, 1-32 code points, no control characters or lone surrogates", () => {
    assert.equal(bc.validateName("  Ada \n"), "Ada");
    assert.equal(bc.validateName("🔥".repeat(32)), "🔥".repeat(32));
    for (const bad of ["", "   ", "x".repeat(33), "a\u0000b", "del\u007f", "\ud800", 42]) {
      assert.throws(() => bc.validateName(bad), { code: "bad_name" }, JSON.stringify(bad));
    }
  });

  test("pad/unpad round-trip at every length; unpad needs exactly one 0x80 marker", () => {
    for (let n = 0; n < 40; n++) {
      const bytes = globalThis.crypto.getRandomValues(new Uint8Array(n));
      const padded = bc.pad(bytes, 40);
      assert.equal(padded.length, 40);
      assert.deepEqual(bc.unpad(padded, "x"), bytes);
    }
    assert.throws(() => bc.pad(new Uint8Array(40), 40), { code: "too_long" });
    for (const bad of [[], [0], [0x41], [0x41, 0x81, 0]]) assert.throws(() => bc.unpad(Uint8Array.from(bad), "bad_body"), { code: "bad_body" });
  });
});

describe("low-s signatures (§1)", () => {
  test("every signature produced is low-s and verifies; its high-s twin is a valid ECDSA signature that verify refuses", async () => {
    const { sig } = await bc.generateIdentity();
    let sawHighBeforeNormalizing = false;
    for (let i = 0; i < 40; i++) {
      const data = enc(`statement ${i}`);
      const raw = new Uint8Array(await subtle.sign({ name: "ECDSA", hash: "SHA-256" }, sig.privateKey, data));
      sawHighBeforeNormalizing ||= !isLowS(bc.b64uEncode(raw));
      const mine = bc.b64uEncode(await bc.sign(sig.privateKey, data));
      assert.ok(isLowS(mine));
      assert.ok(await bc.verify(sig.publicKey, bc.b64uDecode(mine), data));
      const twin = bc.b64uDecode(sTwin(mine));
      assert.ok(await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, sig.publicKey, twin, data));
      assert.equal(await bc.verify(sig.publicKey, twin, data), false);
    }
    assert.ok(sawHighBeforeNormalizing, "WebCrypto alone makes high-s signatures about half the time");
  });

  test("zero, out-of-range and short signatures are refused", async () => {
    const { sig } = await bc.generateIdentity();
    const data = enc("x");
    const good = await bc.sign(sig.privateKey, data);
    const r0 = good.slice(); r0.fill(0, 0, 32);
    const s0 = good.slice(); s0.fill(0, 32);
    const rMax = good.slice(); rMax.fill(0xff, 0, 32);
    for (const bad of [r0, s0, rMax, good.subarray(0, 63), new Uint8Array(64)]) assert.equal(await bc.verify(sig.publicKey, bad, data), false);
  });
});

describe("keys and announcements", () => {
  test("link keys and private keys are non-extractable", async () => {
    const room = await newRoom();
    const { ecdh, sig } = await bc.generateIdentity();
    for (const key of [room.linkKeys.macKey, room.linkKeys.namesKey, ecdh.privateKey, sig.privateKey]) assert.equal(key.extractable, false);
  });

  test("round trip; enc_name is 160 bytes whatever the name's length", async () => {
    const room = await newRoom();
    for (const name of ["A", "Björn 🔥", "🔥".repeat(32)]) {
      const m = await newMember(room, name);
      assert.equal(m.opened.name, name);
      assert.equal(m.announcement.enc_name.length, 214);
      assert.equal(bc.b64uDecode(m.announcement.enc_name).length, bc.ENC_NAME_BYTES);
    }
  });

  test("a swapped key, a forged MAC, another member ID or another room fail the MAC", async () => {
    const room = await newRoom();
    const m = await newMember(room, "Ada");
    const other = await bc.generateIdentity();
    const open = (announcement, r = room) => bc.openAnnouncement({ linkKeys: r.linkKeys, roomId: r.roomId, announcement });
    await rejectsWith(assert, open({ ...m.announcement, ecdh_pub: other.ecdhPub }), "bad_mac");
    await rejectsWith(assert, open({ ...m.announcement, mac: flipBit(m.announcement.mac) }), "bad_mac");
    await rejectsWith(assert, open({ ...m.announcement, member_id: bc.randomId() }), "bad_mac");
    await rejectsWith(assert, open(m.announcement, await newRoom()), "bad_mac");
    await rejectsWith(assert, open({ ...m.announcement, enc_name: m.announcement.enc_name.slice(0, -4) }), "bad_encoding");
  });

  test("a correctly MACed name without padding marker is refused (bad_name)", async () => {
    const room = await newRoom();
    const m = await newMember(room, "Ada");
    const iv = new Uint8Array(12);
    const aad = enc(`burnchat/v2/name|${room.roomId}|${m.memberId}`);
    const ct = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, room.linkKeys.namesKey, new Uint8Array(132)));
    const encName = bc.b64uEncode(new Uint8Array([...iv, ...ct]));
    const macInput = enc(["burnchat/v2/announce", room.roomId, m.memberId, m.announcement.ecdh_pub, m.announcement.sig_pub, encName].join("|"));
    const mac = bc.b64uEncode(await subtle.sign("HMAC", room.linkKeys.macKey, macInput));
    await rejectsWith(assert, bc.openAnnouncement({ linkKeys: room.linkKeys, roomId: room.roomId, announcement: { ...m.announcement, enc_name: encName, mac } }), "bad_name");
  });
});

describe("epochs and the roster commitment (§5)", () => {
  test("everyone in the roster opens the same epoch: same safety code (40 digits) and QR", async () => {
    const { room, ada, bob, cy, made, bobKeys } = await trio();
    const cyKeys = await openFor(room, made, ada, cy, [cy, bob, ada]);
    assert.equal(cyKeys.safetyCode, made.keys.safetyCode);
    assert.match(made.keys.safetyCode, /^(\d{5} ){7}\d{5}$/);
    assert.equal(bobKeys.safetyCode, made.keys.safetyCode);
    assert.ok(compareSafety(bobKeys.safetyQr, made.keys.safetyQr));
    assert.ok(made.keys.safetyQr.startsWith(`burnchat-safety:2:${room.roomId}:1:`));
    assert.deepEqual(bobKeys.rosterIds, made.delivery.roster);
    assert.deepEqual([...bobKeys.chains.keys()], made.delivery.roster);
    assert.equal(made.delivery.blobs.length, 2);
    assert.ok(isLowS(made.delivery.commit_sig) && made.delivery.blobs.every((b) => isLowS(b.sig)));
    assert.equal("epochSecret" in made.keys || "secret" in made.keys, false);
  });

  test("the code's input covers roster, names, keys and the key commitment: changing any one changes the code", async () => {
    const room = await newRoom();
    const [ada, bob] = [await newMember(room, "Ada"), await newMember(room, "Bob")];
    const E = countingBytes(0x20, 32);
    const code = async (members, secret = E) => (await makeEpoch(room, ada, members, { secret })).keys.safetyCode;
    const base = await code([ada, bob]);
    assert.equal(await code([bob, ada]), base, "order of the roster as given does not matter");
    const renamed = { ...bob, opened: { ...bob.opened, name: "Bobby" } };
    const otherKeys = await newMember(room, "Bob");
    const rekeyed = { ...bob, opened: { ...otherKeys.opened, memberId: bob.memberId } };
    const extra = await newMember(room, "Cy");
    assert.notEqual(await code([ada, renamed]), base, "a name");
    assert.notEqual(await code([ada, rekeyed]), base, "a member's public keys");
    assert.notEqual(await code([ada, bob, extra]), base, "who is in the roster");
    assert.notEqual(await code([ada, bob], countingBytes(0x21, 32)), base, "the epoch secret (key commitment)");
  });

  test("E stays non-extractable: the recipient unwraps it straight into HKDF, the creator zero-fills its bytes", async () => {
    const room = await newRoom();
    const [ada, bob] = [await newMember(room, "Ada"), await newMember(room, "Bob")];
    let handedOut = null;
    const realGrv = globalThis.crypto.getRandomValues;
    globalThis.crypto.getRandomValues = (array) => { handedOut = realGrv.call(globalThis.crypto, array); return handedOut; };
    let made;
    try {
      made = await makeEpoch(room, ada, [ada, bob]);
    } finally {
      globalThis.crypto.getRandomValues = realGrv;
    }
    assert.ok(handedOut && handedOut.every((b) => b === 0), "the creator's copy of E is zeroed");
    const calls = [];
    const realUnwrap = subtle.unwrapKey;
    subtle.unwrapKey = function (...args) { calls.push(args); return realUnwrap.apply(this, args); };
    try {
      await openFor(room, made, ada, bob, [ada, bob]);
    } finally {
      subtle.unwrapKey = realUnwrap;
    }
    assert.equal(calls.length, 1);
    const [, , , , algorithm, extractable, usages] = calls[0];
    assert.deepEqual([algorithm, extractable, usages], ["HKDF", false, ["deriveKey", "deriveBits"]]);
  });

  test("a blob for someone else, from a non-member, badly or high-s signed, or not unwrappable is refused", async () => {
    const { room, ada, bob, cy, made } = await trio();
    const blob = made.delivery.blobs.find((b) => b.to === bob.memberId);
    const event = roomKeyEvent(made.delivery, ada.memberId, blob);
    const open = (e, who = bob, sees = [ada, bob, cy]) => openEpoch({ roomId: room.roomId, roomKeyEvent: e, identity: who.identity, myId: who.memberId, roster: sees.map((m) => m.opened) });
    await rejectsWith(assert, open(event, cy), "wrong_recipient");
    await rejectsWith(assert, open({ ...event, from: cy.memberId }), "bad_sig");
    await rejectsWith(assert, open(event, bob, [bob, cy]), "not_member");
    await rejectsWith(assert, open({ ...event, sig: flipBit(event.sig) }), "bad_sig");
    await rejectsWith(assert, open({ ...event, sig: sTwin(event.sig) }), "bad_sig");
    await rejectsWith(assert, open({ ...event, commit_sig: sTwin(event.commit_sig) }), "bad_sig");
    await rejectsWith(assert, open({ ...event, roster: [...event.roster].reverse() }), "bad_encoding");
    // Validly signed garbage: the unwrap fails.
    const wrapped = bc.b64uEncode(new Uint8Array(40));
    const sig = bc.b64uEncode(await bc.sign(ada.identity.sig.privateKey, bc.label("burnchat/v2/key", room.roomId, 1, ada.memberId, bob.memberId, wrapped, event.commit_sig)));
    await rejectsWith(assert, open({ ...event, wrapped, sig }), "bad_key");
  });

  test("roster mismatch names who differs: unseen, left_out, differs", async () => {
    const { room, ada, bob, cy, made } = await trio();
    const ghost = await newMember(room, "Ghost");
    const detailOf = async (sees) => {
      try {
        await openFor(room, made, ada, bob, sees);
      } catch (error) {
        assert.equal(error.code, "roster_mismatch");
        return error.detail;
      }
      assert.fail("accepted a key for another roster");
    };
    assert.deepEqual(await detailOf([ada, bob]), { unseen: [cy.memberId], left_out: [], differs: [] });
    assert.deepEqual(await detailOf([ada, bob, cy, ghost]), { unseen: [], left_out: [ghost.memberId], differs: [] });
    const cyRenamed = { ...cy, opened: { ...cy.opened, name: "Ada" } };
    assert.deepEqual(await detailOf([ada, bob, cyRenamed]), { unseen: [], left_out: [], differs: [cy.memberId] });
  });

  test("duplicate IDs in a roster are refused", async () => {
    const room = await newRoom();
    const ada = await newMember(room, "Ada");
    await rejectsWith(assert, makeEpoch(room, ada, [ada, ada]), "duplicate_member");
  });

  test("compareSafety: equal texts only", () => {
    assert.ok(compareSafety("burnchat-safety:2:a:1:xyz", "burnchat-safety:2:a:1:xyz"));
    assert.equal(compareSafety("burnchat-safety:2:a:1:xyz", "burnchat-safety:2:a:1:xyw"), false);
    assert.equal(compareSafety("abc", "abcd"), false);
    assert.equal(compareSafety(null, "abc"), false);
  });
});

describe("sending chains (§6.2), property-style", () => {
  /** A fresh chain over a random non-extractable HMAC key. */
  async function freshChain() {
    return new Chain(await subtle.importKey("raw", globalThis.crypto.getRandomValues(new Uint8Array(32)), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]));
  }

  /** A tiny deterministic PRNG, so a failing order can be replayed from its seed. */
  function prng(seed) {
    let x = seed >>> 0 || 1;
    return () => ((x ^= x << 13, x ^= x >>> 17, x ^= x << 5) >>> 0) / 2 ** 32;
  }

  test("random orders within the window: every message decrypts exactly once, replays fail, no key outlives its use", async () => {
    for (const seed of [1, 2, 3]) {
      const rand = prng(seed);
      const { room, ada, made, bobKeys } = await trio();
      const count = 48;
      const sent = [];
      let prev = ZERO_HASH;
      for (let i = 1; i <= count; i++) {
        const sealed = await sealMessage({ roomId: room.roomId, epoch: 1, chain: made.keys.chains.get(ada.memberId), identity: ada.identity, sender: ada.memberId, prev, body: text(`m${i}`) });
        sent.push(sealed);
        prev = sealed.hash;
      }
      const chain = bobKeys.chains.get(ada.memberId);
      // Shuffle inside blocks of 16: no message falls more than 64 behind the newest.
      const order = [];
      for (let b = 0; b < count; b += 16) {
        const block = Array.from({ length: 16 }, (_, k) => b + k);
        for (let k = block.length - 1; k > 0; k--) {
          const j = Math.floor(rand() * (k + 1));
          [block[k], block[j]] = [block[j], block[k]];
        }
        order.push(...block);
      }
      const opened = [];
      for (const i of order) {
        const got = await openMessage({ roomId: room.roomId, envelope: sent[i].envelope, chain, sender: ada.opened });
        assert.equal(got.hash, sent[i].hash);
        opened.push(got.body.text);
        assert.equal(chain.inspect().skipped.includes(i + 1), false, "an opened message's key is gone");
      }
      assert.deepEqual(opened.sort(), sent.map((_, i) => `m${i + 1}`).sort(), `seed ${seed}`);
      assert.deepEqual(chain.inspect(), { next: count + 1, skipped: [] });
      for (const i of order.slice(0, 8)) {
        await rejectsWith(assert, openMessage({ roomId: room.roomId, envelope: sent[i].envelope, chain, sender: ada.opened }), "replay");
      }
    }
  });

  test("random open sequences on a raw chain follow the window rule (too_far, too_old, replay), against a model", async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const rand = prng(seed);
      const chain = await freshChain();
      const model = { next: 1, kept: new Set(), evictedUpTo: 0 };
      for (let step = 0; step < 30; step++) {
        const seq = 1 + Math.floor(rand() * (model.next + MAX_SKIP + 40));
        const got = await chain.open(seq, async () => "ok").catch((error) => error.code);
        let want;
        if (seq < model.next) {
          want = model.kept.delete(seq) ? "ok" : seq <= model.evictedUpTo ? "too_old" : "replay";
        } else if (seq - model.next > MAX_SKIP) {
          want = "too_far";
        } else {
          for (let n = model.next; n < seq; n++) model.kept.add(n);
          for (const n of [...model.kept].sort((a, b) => a - b)) {
            if (model.kept.size <= MAX_SKIPPED_KEYS) break;
            model.kept.delete(n);
            model.evictedUpTo = Math.max(model.evictedUpTo, n);
          }
          model.next = seq + 1;
          want = "ok";
        }
        assert.equal(got, want, `seed ${seed} step ${step} seq ${seq}`);
        assert.deepEqual(chain.inspect(), { next: model.next, skipped: [...model.kept].sort((a, b) => a - b) }, `seed ${seed} step ${step}`);
        assert.ok(chain.inspect().skipped.length <= MAX_SKIPPED_KEYS);
      }
    }
  });

  test("a failed decryption commits nothing: the chain does not move and the key stays usable", async () => {
    const chain = await freshChain();
    await assert.rejects(chain.open(5, async () => { throw new bc.ProtocolError("decrypt_failed"); }), { code: "decrypt_failed" });
    assert.deepEqual(chain.inspect(), { next: 1, skipped: [] });
    assert.equal(await chain.open(5, async () => "ok"), "ok");
    assert.deepEqual(chain.inspect(), { next: 6, skipped: [1, 2, 3, 4] });
  });

  test("an envelope whose skipped key was evicted fails with too_old, one beyond the window with too_far", async () => {
    const { room, ada, made, bobKeys } = await trio();
    const senderChain = made.keys.chains.get(ada.memberId);
    const envelopes = [];
    let prev = ZERO_HASH;
    for (let i = 1; i <= MAX_SKIPPED_KEYS + 6; i++) {
      const sealed = await sealMessage({ roomId: room.roomId, epoch: 1, chain: senderChain, identity: ada.identity, sender: ada.memberId, prev, body: text(`m${i}`) });
      envelopes.push(sealed.envelope);
      prev = sealed.hash;
    }
    const chain = bobKeys.chains.get(ada.memberId);
    const open = (envelope) => openMessage({ roomId: room.roomId, envelope, chain, sender: ada.opened });
    await open(envelopes.at(-1)); // seq 70: keys 6..69 kept
    await rejectsWith(assert, open(envelopes[4]), "too_old");
    assert.equal((await open(envelopes[5])).body.text, "m6");
    // The sender itself cannot be made to skip ahead, so forge the window edge on a raw chain of the same kind.
    const raw = new Chain(await subtle.importKey("raw", new Uint8Array(32), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]));
    await assert.rejects(raw.open(MAX_SKIP + 2, async () => "ok"), { code: "too_far" });
    assert.equal(await raw.open(MAX_SKIP + 1, async () => "ok"), "ok");
  });
});

describe("envelopes (§6.1, §6.4)", () => {
  test("round trip, hash chain via prev, and one key per message on the sender's side", async () => {
    const { room, ada, made, bobKeys } = await trio();
    const chain = made.keys.chains.get(ada.memberId);
    const first = await sealMessage({ roomId: room.roomId, epoch: 1, chain, identity: ada.identity, sender: ada.memberId, prev: ZERO_HASH, body: text("hi") });
    assert.equal(first.envelope.seq, 1);
    assert.equal(chain.inspect().next, 2);
    const second = await sealMessage({ roomId: room.roomId, epoch: 1, chain, identity: ada.identity, sender: ada.memberId, prev: first.hash, body: text("again") });
    assert.equal(second.envelope.prev, first.hash);
    assert.ok(isLowS(first.envelope.sig) && isLowS(second.envelope.sig));
    const got = await openMessage({ roomId: room.roomId, envelope: first.envelope, chain: bobKeys.chains.get(ada.memberId), sender: ada.opened });
    assert.deepEqual(got, { body: text("hi"), hash: first.hash });
  });

  test("padding: texts of different lengths in one class give equal ciphertext lengths; a larger text, the next class", async () => {
    const { room, ada, made } = await trio();
    const chain = made.keys.chains.get(ada.memberId);
    const ctLength = async (t) => bc.b64uDecode((await sealMessage({ roomId: room.roomId, epoch: 1, chain, identity: ada.identity, sender: ada.memberId, prev: ZERO_HASH, body: text(t) })).envelope.ct).length;
    const small = [await ctLength("a"), await ctLength("b".repeat(100)), await ctLength("🔥".repeat(40))];
    assert.deepEqual(small, [256 + 16, 256 + 16, 256 + 16]);
    assert.equal(await ctLength("c".repeat(300)), 512 + 16);
    assert.equal(await ctLength("d".repeat(4096)), 8192 + 16);
    await rejectsWith(assert, ctLength("\"".repeat(4096)), "too_long"); // escaped JSON reaches 8192 bytes
  });

  test("tampering, a high-s twin, a v1 envelope and a wrong sender are refused; the chain does not move", async () => {
    const { room, ada, bob, made, bobKeys } = await trio();
    const { envelope } = await sealMessage({ roomId: room.roomId, epoch: 1, chain: made.keys.chains.get(ada.memberId), identity: ada.identity, sender: ada.memberId, prev: ZERO_HASH, body: text("hi") });
    const chain = bobKeys.chains.get(ada.memberId);
    const open = (e, sender = ada.opened) => openMessage({ roomId: room.roomId, envelope: e, chain, sender });
    await rejectsWith(assert, open({ ...envelope, ct: flipBit(envelope.ct) }), "bad_sig");
    await rejectsWith(assert, open({ ...envelope, prev: flipBit(envelope.prev) }), "bad_sig");
    await rejectsWith(assert, open({ ...envelope, seq: 2 }), "bad_sig");
    await rejectsWith(assert, open({ ...envelope, sig: sTwin(envelope.sig) }), "bad_sig");
    await rejectsWith(assert, open({ ...envelope, v: 1 }), "bad_version");
    await rejectsWith(assert, open(envelope, bob.opened), "not_member");
    await rejectsWith(assert, open({ ...envelope, ct: envelope.ct.slice(0, -4) }), "bad_encoding");
    assert.deepEqual(chain.inspect(), { next: 1, skipped: [] });
    assert.equal((await open(envelope)).body.text, "hi");
  });

  test("a validly signed message under another chain key does not decrypt (decrypt_failed), and commits nothing", async () => {
    const { room, ada, bob, made, bobKeys } = await trio();
    const { envelope } = await sealMessage({ roomId: room.roomId, epoch: 1, chain: made.keys.chains.get(bob.memberId), identity: ada.identity, sender: ada.memberId, prev: ZERO_HASH, body: text("hi") });
    const chain = bobKeys.chains.get(ada.memberId);
    await rejectsWith(assert, openMessage({ roomId: room.roomId, envelope, chain, sender: ada.opened }), "decrypt_failed");
    assert.deepEqual(chain.inspect(), { next: 1, skipped: [] });
  });

  test("bodies: bad JSON or a malformed text is bad_body; an unknown type passes through", async () => {
    const { room, ada, made, bobKeys } = await trio();
    const seal = (body) => sealMessage({ roomId: room.roomId, epoch: 1, chain: made.keys.chains.get(ada.memberId), identity: ada.identity, sender: ada.memberId, prev: ZERO_HASH, body });
    const open = (e) => openMessage({ roomId: room.roomId, envelope: e, chain: bobKeys.chains.get(ada.memberId), sender: ada.opened });
    for (const bad of [[1], { t: "text", text: "", after: null, me: false }, { t: "text", text: "x", after: ["nope", 1, 1], me: false }, { t: "text", text: "x", after: null }, { t: "digest", heads: [["x"]] }]) {
      await rejectsWith(assert, open((await seal(bad)).envelope), "bad_body");
    }
    assert.deepEqual((await open((await seal({ t: "future", x: 1 })).envelope)).body, { t: "future", x: 1 });
  });
});

describe("the admin PIN (§8.1)", () => {
  test("newPin: XXXX-XXXX from the 32-symbol alphabet, every symbol reachable, fresh each time", () => {
    const pins = Array.from({ length: 400 }, () => bc.newPin());
    assert.equal(new Set(pins).size, pins.length);
    for (const pin of pins) assert.match(pin, /^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$/);
    assert.equal(new Set(pins.join("").replace(/-/g, "")).size, 32);
    assert.equal(bc.PIN_ALPHABET.length, 32);
  });

  test("newPinRecord: the server gets a salt and a verifier that only the PIN's proof matches", async () => {
    const record = await bc.newPinRecord();
    assert.equal(bc.b64uDecode(record.salt).length, 16);
    assert.equal(record.proof, await bc.pinProof(record.pin.toLowerCase(), record.salt));
    assert.equal(record.verifier, await bc.pinVerifier(record.proof));
    assert.notEqual(record.verifier, record.proof); // a dumped verifier is no proof
    const other = await bc.newPinRecord();
    assert.notEqual(other.salt, record.salt);
    assert.notEqual(await bc.pinProof(record.pin, other.salt), record.proof); // salted per room
  });
});
