// The browser modules against the committed worked example tests/vectors/protocol_v2.json:
// every deterministic value reproduced, every recorded signature accepted, every twin refused.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as bc from "../../static/js/crypto.js";
import { createEpoch, openEpoch, compareSafety } from "../../static/js/epoch.js";
import { Chain, openMessage, sealMessage, ZERO_HASH } from "../../static/js/ratchet.js";
import { importIdentity, withFixedRandom, hkdfBytes, hmacBytes, hex, isLowS } from "./helpers.mjs";
import { buildVector } from "../vectors/make_vectors.mjs";

const V = JSON.parse(readFileSync(new URL("../vectors/protocol_v2.json", import.meta.url), "utf8"));
const { inputs } = V;
const roomId = inputs.room_id;
const subtle = globalThis.crypto.subtle;
const enc = (text) => new TextEncoder().encode(text);
const b64u = bc.b64uEncode, unb64u = bc.b64uDecode;
const secretE = unb64u(inputs.epoch_secret);

/** The member as a receiver sees it after accepting its vector announcement. */
async function opened(who) {
  const linkKeys = await bc.deriveLinkKeys(inputs.link_secret, roomId);
  return bc.openAnnouncement({ linkKeys, roomId, announcement: V.announcements[who].announcement });
}

/** Alice's public signing key. */
function aliceSigKey() {
  return subtle.importKey("raw", unb64u(inputs.members.alice.sig.pub), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
}

/** Bob's view of the epoch, opened from the recorded room_key event. */
async function bobOpens(roster) {
  const bob = await importIdentity(inputs.members.bob);
  return openEpoch({ roomId, roomKeyEvent: V.key_delivery.room_key, identity: bob, myId: inputs.members.bob.member_id, roster: roster ?? [await opened("alice"), await opened("bob")] });
}

describe("protocol_v2.json", () => {
  test("link keys and join key: HKDF bytes match, and the app's keys behave as those bytes", async () => {
    const secret = unb64u(inputs.link_secret);
    assert.equal(b64u(await hkdfBytes(secret, roomId, "burnchat/v2/announce-mac")), V.link_keys.announce_mac_key);
    assert.equal(b64u(await hkdfBytes(secret, roomId, "burnchat/v2/names")), V.link_keys.names_key);
    const { macKey } = await bc.deriveLinkKeys(inputs.link_secret, roomId);
    const data = enc(V.announcements.alice.mac_input_label);
    assert.equal(b64u(await subtle.sign("HMAC", macKey, data)), b64u(await hmacBytes(unb64u(V.link_keys.announce_mac_key), data)));
    assert.deepEqual(await bc.deriveJoinKey(inputs.link_secret), { joinKey: V.link_keys.join_key, joinKeyHash: V.link_keys.join_key_hash });
  });

  test("admin PIN (§8.1): proof and verifier match node:crypto's, every spelling gives the proof, bad shapes never hash", async () => {
    const P = V.admin_pin;
    assert.equal(bc.PIN_ITERATIONS, P.iterations);
    assert.equal(await bc.pinProof(P.pin, P.salt), P.proof);
    assert.equal(await bc.pinVerifier(P.proof), P.verifier);
    for (const typed of P.typed) assert.equal(await bc.pinProof(typed, P.salt), P.proof, typed);
    for (const bad of P.invalid) await assert.rejects(bc.pinProof(bad, P.salt), (e) => e.code === "bad_pin", bad);
  });

  for (const who of ["alice", "bob"]) {
    test(`announcement of ${who} is reproduced exactly (160-byte enc_name) and accepted`, async () => {
      const member = inputs.members[who];
      const linkKeys = await bc.deriveLinkKeys(inputs.link_secret, roomId);
      const sealed = await withFixedRandom([unb64u(member.name_iv)], async () =>
        bc.sealAnnouncement({ linkKeys, roomId, memberId: member.member_id, identity: await importIdentity(member), name: member.name }));
      const recorded = V.announcements[who];
      assert.deepEqual(sealed, recorded.announcement);
      assert.equal(unb64u(sealed.enc_name).length, 160);
      assert.equal(recorded.name_padded_hex, hex(bc.pad(enc(member.name), 132)));
      const { announcement: a } = recorded;
      assert.equal(recorded.mac_input_label, ["burnchat/v2/announce", roomId, a.member_id, a.ecdh_pub, a.sig_pub, a.enc_name].join("|"));
      const accepted = await opened(who);
      assert.equal(accepted.name, V.accepted_names[who]);
      assert.equal(accepted.fingerprint, V.fingerprints[who].fingerprint);
    });
  }

  test("epoch: commit key, lines, line MACs, C and authenticator reproduced from E; digits and QR", async () => {
    const e = V.epoch;
    assert.equal(b64u(await hkdfBytes(secretE, roomId, e.commit_key_info_label)), e.commit_key);
    const K = unb64u(e.commit_key);
    for (const [i, line] of e.lines.entries()) {
      assert.equal(b64u((await hmacBytes(K, e.line_labels[i])).subarray(0, 16)), e.line_macs[i]);
    }
    assert.equal(b64u(await hmacBytes(K, e.roster_label)), e.c);
    const ids = e.roster_order.map((who) => inputs.members[who].member_id);
    assert.equal(ids.map((id, i) => `${id},${e.line_macs[i]}`).join("|"), e.commit_entries);
    assert.equal(b64u(await bc.sha256(enc(e.commit_entries))), e.commit_digest);
    assert.equal(e.commit_sig_label, `burnchat/v2/commit|${roomId}|${inputs.epoch}|${inputs.members.alice.member_id}|${e.commit_digest}`);
    assert.equal(e.authenticator_info_label, `burnchat/v2/authenticator|${inputs.epoch}|${e.c}`);
    assert.equal(b64u(await hkdfBytes(secretE, roomId, e.authenticator_info_label)), e.authenticator);
    assert.match(e.safety_digits, /^(\d{5} ){7}\d{5}$/);
    assert.equal(e.safety_qr, `burnchat-safety:2:${roomId}:${inputs.epoch}:${e.authenticator}`);
  });

  test("createEpoch with the fixed E gives the recorded delivery (signatures aside)", async () => {
    const alice = inputs.members.alice;
    const { delivery, keys } = await withFixedRandom([secretE], async () => createEpoch({
      roomId, epoch: inputs.epoch, identity: await importIdentity(alice), creatorId: alice.member_id,
      roster: [await opened("bob"), await opened("alice")],
    }));
    const recorded = V.key_delivery.key_deliver;
    assert.deepEqual(delivery.roster, recorded.roster);
    assert.deepEqual(delivery.line_macs, recorded.line_macs);
    assert.deepEqual(delivery.blobs.map((b) => [b.to, b.wrapped]), recorded.blobs.map((b) => [b.to, b.wrapped]));
    assert.ok(isLowS(delivery.commit_sig) && delivery.blobs.every((b) => isLowS(b.sig)));
    assert.equal(keys.safetyCode, V.epoch.safety_digits);
    assert.equal(keys.safetyQr, V.epoch.safety_qr);
  });

  test("key delivery: ECDH secret, wrapping key, wrapped E; bob opens the recorded room_key", async () => {
    const kd = V.key_delivery;
    const aliceId = await importIdentity(inputs.members.alice), bobId = await importIdentity(inputs.members.bob);
    const shared = new Uint8Array(await subtle.deriveBits({ name: "ECDH", public: aliceId.ecdh.publicKey }, bobId.ecdh.privateKey, 256));
    assert.equal(b64u(shared), kd.ecdh_shared_secret);
    assert.equal(b64u(await hkdfBytes(shared, roomId, kd.wrap_info_label)), kd.wrapping_key);
    const wk = await subtle.importKey("raw", unb64u(kd.wrapping_key), "AES-KW", false, ["unwrapKey"]);
    const unwrapped = await subtle.unwrapKey("raw", unb64u(kd.wrapped), wk, "AES-KW", { name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
    assert.equal(b64u(await subtle.exportKey("raw", unwrapped)), inputs.epoch_secret);
    const keys = await bobOpens();
    assert.equal(keys.safetyCode, V.epoch.safety_digits);
    assert.ok(compareSafety(keys.safetyQr, V.epoch.safety_qr));
  });

  test("recorded signatures are low-s and verify; their high-s twins are refused", async () => {
    const key = await aliceSigKey();
    const pairs = [
      [V.epoch.commit_sig, V.epoch.commit_sig_high_s, V.epoch.commit_sig_label],
      [V.key_delivery.blob.sig, V.key_delivery.sig_high_s, V.key_delivery.sig_input_label],
      ...V.messages.map((m) => [m.envelope.sig, m.sig_high_s, m.sig_input_label]),
    ];
    for (const [sig, twin, signed] of pairs) {
      assert.ok(await bc.verify(key, unb64u(sig), enc(signed)));
      assert.ok(await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, unb64u(twin), enc(signed)), "the twin is a valid plain ECDSA signature");
      assert.equal(await bc.verify(key, unb64u(twin), enc(signed)), false);
    }
    const bad = V.negative.signatures_invalid;
    for (const [what, sig] of bad.sigs) assert.equal(await bc.verify(key, unb64u(sig), enc(bad.label)), false, what);
    const twinEvent = { ...V.key_delivery.room_key, sig: V.key_delivery.sig_high_s };
    const bob = await importIdentity(inputs.members.bob);
    await assert.rejects(openEpoch({ roomId, roomKeyEvent: twinEvent, identity: bob, myId: inputs.members.bob.member_id, roster: [await opened("alice"), await opened("bob")] }), { code: "bad_sig" });
  });

  test("chain bytes: ck_1 from E, mk_n and ck_n+1 by HMAC", async () => {
    const c = V.chains.alice;
    assert.equal(c.chain_info_label, `burnchat/v2/chain|${inputs.epoch}|${inputs.members.alice.member_id}`);
    let ck = await hkdfBytes(secretE, roomId, c.chain_info_label);
    for (let n = 1; n <= 3; n++) {
      assert.equal(b64u(ck), c[`ck_${n}`]);
      assert.equal(b64u(await hmacBytes(ck, Uint8Array.of(1))), c[`mk_${n}`]);
      ck = await hmacBytes(ck, Uint8Array.of(2));
    }
    assert.equal(b64u(ck), c.ck_4);
  });

  test("messages: sealed exactly from the fixed IVs; bob opens each once with the recorded hash and prev chain", async () => {
    const alice = inputs.members.alice;
    const { keys } = await withFixedRandom([secretE], async () => createEpoch({
      roomId, epoch: inputs.epoch, identity: await importIdentity(alice), creatorId: alice.member_id, roster: [await opened("alice"), await opened("bob")],
    }));
    const bobKeys = await bobOpens();
    const sender = await opened("alice");
    let prev = ZERO_HASH;
    for (const [i, m] of V.messages.entries()) {
      assert.equal(m.prev, prev);
      assert.equal(m.body_utf8, JSON.stringify(m.body));
      assert.equal(m.padded_hex, hex(bc.pad(enc(m.body_utf8), m.padded_length)));
      assert.equal(m.aad_label, `burnchat/v2/msg|${roomId}|${inputs.epoch}|${alice.member_id}|${m.seq}|${prev}`);
      assert.equal(m.hash, b64u(await bc.sha256(enc(m.sig_input_label))));
      const sealed = await withFixedRandom([unb64u(inputs.message_ivs[i])], async () =>
        sealMessage({ roomId, epoch: inputs.epoch, chain: keys.chains.get(alice.member_id), identity: await importIdentity(alice), sender: alice.member_id, prev, body: m.body }));
      assert.deepEqual({ ...sealed.envelope, sig: m.envelope.sig }, m.envelope);
      assert.equal(sealed.hash, m.hash);
      const got = await openMessage({ roomId, envelope: m.envelope, chain: bobKeys.chains.get(alice.member_id), sender });
      assert.deepEqual(got, { body: m.body, hash: m.hash });
      await assert.rejects(openMessage({ roomId, envelope: m.envelope, chain: bobKeys.chains.get(alice.member_id), sender }), { code: "replay" });
      prev = m.hash;
    }
  });

  test("negative: b64u, names, unpad, a v1 envelope", async () => {
    const N = V.negative;
    for (const bad of N.b64u_invalid) assert.throws(() => bc.b64uDecode(bad), { code: "bad_encoding" }, JSON.stringify(bad));
    for (const bad of N.names_invalid) assert.throws(() => bc.validateName(bad), { code: "bad_name" }, JSON.stringify(bad));
    for (const [raw, name] of N.names_accepted) assert.equal(bc.validateName(raw), name);
    for (const bad of N.unpad_invalid_hex) assert.throws(() => bc.unpad(Buffer.from(bad, "hex"), "bad_body"), { code: "bad_body" }, bad);
    for (const [padded, plain] of N.unpad_valid_hex) assert.equal(hex(bc.unpad(new Uint8Array(Buffer.from(padded, "hex")), "x")), plain);
    const bobKeys = await bobOpens();
    await assert.rejects(openMessage({ roomId, envelope: N.envelope_v1, chain: bobKeys.chains.get(inputs.members.alice.member_id), sender: await opened("alice") }), { code: "bad_version" });
  });

  test("negative: roster mismatches bob raises, with the recorded detail", async () => {
    const linkKeysFree = async (entry) => {
      if (typeof entry === "string") return opened(entry);
      const ecdhKey = await subtle.importKey("raw", unb64u(entry.ecdh_pub), { name: "ECDH", namedCurve: "P-256" }, true, []);
      const sigKey = await subtle.importKey("raw", unb64u(entry.sig_pub), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
      return { memberId: entry.member_id, ecdhPub: entry.ecdh_pub, sigPub: entry.sig_pub, name: entry.name, ecdhKey, sigKey };
    };
    for (const c of V.negative.roster_mismatch) {
      const roster = await Promise.all(c.bob_sees.map(linkKeysFree));
      await assert.rejects(bobOpens(roster), (error) => {
        assert.equal(error.code, "roster_mismatch", c.what);
        assert.deepEqual(error.detail, c.detail, c.what);
        return true;
      });
    }
  });

  test("negative: room_key events a relay altered are refused with their code (a rewritten line MAC is bad_sig)", async () => {
    const bob = await importIdentity(inputs.members.bob);
    for (const c of V.negative.room_key_refused) {
      await assert.rejects(openEpoch({ roomId, roomKeyEvent: c.room_key, identity: bob, myId: inputs.members.bob.member_id,
        roster: [await opened("alice"), await opened("bob")] }), { code: c.code }, c.what);
    }
  });

  test("negative: ratchet window cases on a fresh chain", async () => {
    const W = V.negative.ratchet_window;
    for (const c of W.cases) {
      const ck = await subtle.importKey("raw", unb64u(V.chains.alice.ck_1), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
      const chain = new Chain(ck);
      const got = [];
      for (const seq of c.opens) got.push(await chain.open(seq, async () => "ok").catch((error) => error.code));
      assert.deepEqual(got, c.expect, JSON.stringify(c.opens));
    }
  });

  test("the committed file is what make_vectors.mjs builds today", async () => {
    assert.deepEqual(await buildVector(), V);
  });
});
