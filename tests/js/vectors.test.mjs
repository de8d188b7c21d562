// crypto.js against the committed worked example tests/vectors/protocol_v1.json:
// every deterministic value is reproduced, every recorded signature accepted.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as bc from "../../static/js/crypto.js";
import { importIdentity, importRoomKey, withFixedRandom } from "./helpers.mjs";
import { buildVector } from "../vectors/make_vectors.mjs";

const V = JSON.parse(readFileSync(new URL("../vectors/protocol_v1.json", import.meta.url), "utf8"));
const { inputs } = V;
const roomId = inputs.room_id;
const subtle = globalThis.crypto.subtle;
const enc = (text) => new TextEncoder().encode(text);

/** Raw HKDF-SHA256 output (the app only ever makes non-extractable keys). */
async function hkdfBytes(ikm, salt, info) {
  const base = await subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  return bc.b64uEncode(await subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt: enc(salt), info: enc(info) }, base, 256));
}

/** The member as a receiver sees it after accepting its vector announcement. */
async function opened(who) {
  const linkKeys = await bc.deriveLinkKeys(inputs.link_secret, roomId);
  return bc.openAnnouncement({ linkKeys, roomId, announcement: V.announcements[who].announcement });
}

describe("protocol_v1.json", () => {
  test("link keys: HKDF bytes match, and deriveLinkKeys keys behave as those bytes", async () => {
    const secret = bc.b64uDecode(inputs.link_secret);
    assert.equal(await hkdfBytes(secret, roomId, "burnchat/v1/announce-mac"), V.link_keys.announce_mac_key);
    assert.equal(await hkdfBytes(secret, roomId, "burnchat/v1/names"), V.link_keys.names_key);
    const { macKey } = await bc.deriveLinkKeys(inputs.link_secret, roomId);
    const rawMac = await subtle.importKey("raw", bc.b64uDecode(V.link_keys.announce_mac_key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const data = enc(V.announcements.alice.mac_input_label);
    assert.deepEqual(new Uint8Array(await subtle.sign("HMAC", macKey, data)), new Uint8Array(await subtle.sign("HMAC", rawMac, data)));
  });

  test("join key: HKDF bytes (empty salt) and its SHA-256 match; deriveJoinKey gives both", async () => {
    const secret = bc.b64uDecode(inputs.link_secret);
    assert.equal(await hkdfBytes(secret, "", "burnchat/v1/join"), V.link_keys.join_key);
    const digest = await subtle.digest("SHA-256", bc.b64uDecode(V.link_keys.join_key));
    assert.equal(bc.b64uEncode(digest), V.link_keys.join_key_hash);
    assert.deepEqual(await bc.deriveJoinKey(inputs.link_secret), { joinKey: V.link_keys.join_key, joinKeyHash: V.link_keys.join_key_hash });
  });

  for (const who of ["alice", "bob"]) {
    test(`announcement of ${who} is reproduced exactly and accepted`, async () => {
      const member = inputs.members[who];
      const linkKeys = await bc.deriveLinkKeys(inputs.link_secret, roomId);
      const identity = await importIdentity(member);
      const sealed = await withFixedRandom([bc.b64uDecode(member.name_iv)], () =>
        bc.sealAnnouncement({ linkKeys, roomId, memberId: member.member_id, identity, name: member.name }));
      assert.deepEqual(sealed, V.announcements[who].announcement);
      const { mac_input_label: macLabel, name_aad_label: aadLabel, announcement } = V.announcements[who];
      assert.equal(macLabel, ["burnchat/v1/announce", roomId, announcement.member_id, announcement.ecdh_pub, announcement.sig_pub, announcement.enc_name].join("|"));
      assert.equal(aadLabel, `burnchat/v1/name|${roomId}|${member.member_id}`);
      const accepted = await opened(who);
      assert.equal(accepted.name, V.accepted_names[who]);
      assert.equal(accepted.fingerprint, V.fingerprints[who].fingerprint);
      assert.equal(await bc.fingerprint(member.ecdh.pub, member.sig.pub), V.fingerprints[who].fingerprint);
    });
  }

  test("safety code", async () => {
    const members = ["alice", "bob"].map((w) => ({ memberId: inputs.members[w].member_id, ecdhPub: inputs.members[w].ecdh.pub, sigPub: inputs.members[w].sig.pub }));
    assert.equal(await bc.safetyCode(roomId, members), V.safety_code.code);
    const digest = Buffer.from(await subtle.digest("SHA-256", enc(V.safety_code.input_label))).toString("hex");
    assert.equal(digest, V.safety_code.sha256_hex);
  });

  test("key blob: ECDH secret, wrapping key and wrapped key reproduced; recorded signature accepted", async () => {
    const { key_blob: kb } = V;
    const [alice, bob] = [inputs.members.alice, inputs.members.bob];
    const aliceId = await importIdentity(alice);
    const bobId = await importIdentity(bob);
    const shared = await subtle.deriveBits({ name: "ECDH", public: aliceId.ecdh.publicKey }, bobId.ecdh.privateKey, 256);
    assert.equal(bc.b64uEncode(shared), kb.ecdh_shared_secret);
    assert.equal(kb.wrap_info_label, `burnchat/v1/wrap|${inputs.epoch}|${alice.member_id}|${bob.member_id}`);
    assert.equal(await hkdfBytes(new Uint8Array(shared), roomId, kb.wrap_info_label), kb.wrapping_key);

    const roomKey = await importRoomKey(bc.b64uDecode(inputs.room_key));
    const mine = await bc.wrapRoomKey({ roomId, epoch: inputs.epoch, roomKey, identity: aliceId, fromId: alice.member_id, to: await opened("bob") });
    assert.equal(mine.wrapped, kb.blob.wrapped);
    assert.deepEqual({ ...mine, sig: kb.blob.sig }, kb.blob);
    assert.equal(kb.sig_input_label, ["burnchat/v1/key", roomId, inputs.epoch, alice.member_id, bob.member_id, kb.blob.wrapped].join("|"));

    const got = await bc.openRoomKey({ roomId, blob: kb.blob, identity: bobId, myId: bob.member_id, sender: await opened("alice") });
    assert.equal(got.epoch, inputs.epoch);
    assert.equal(bc.b64uEncode(await subtle.exportKey("raw", got.roomKey)), inputs.room_key);
  });

  test("message: ciphertext reproduced; recorded envelope opens", async () => {
    const { message: m } = V;
    const alice = inputs.members.alice;
    const roomKey = await importRoomKey(bc.b64uDecode(inputs.room_key));
    const identity = await importIdentity(alice);
    const sealed = await withFixedRandom([bc.b64uDecode(inputs.message_iv)], () =>
      bc.sealMessage({ roomId, epoch: inputs.epoch, roomKey, identity, sender: alice.member_id, seq: m.seq, text: m.text }));
    assert.deepEqual({ ...sealed, sig: m.envelope.sig }, m.envelope);
    assert.equal(m.aad_label, `burnchat/v1/msg|${roomId}|${inputs.epoch}|${alice.member_id}|${m.seq}`);
    assert.equal(m.sig_input_label, ["burnchat/v1/sig", roomId, inputs.epoch, alice.member_id, m.seq, m.envelope.iv, m.envelope.ct].join("|"));
    assert.equal(await bc.openMessage({ roomId, envelope: m.envelope, roomKey, sender: await opened("alice") }), m.text);
    // Our own fresh signature over the same bytes verifies too (ECDSA is randomized).
    assert.equal(await bc.openMessage({ roomId, envelope: sealed, roomKey, sender: await opened("alice") }), m.text);
  });

  test("the committed file is what make_vectors.mjs builds today", async () => {
    assert.deepEqual(await buildVector(), V);
  });

  test("negative cases", () => {
    for (const bad of V.negative.b64u_invalid) assert.throws(() => bc.b64uDecode(bad), { code: "bad_encoding" }, JSON.stringify(bad));
    for (const bad of V.negative.names_invalid) assert.throws(() => bc.validateName(bad), { code: "bad_name" }, JSON.stringify(bad));
    for (const [raw, name] of V.negative.names_accepted) assert.equal(bc.validateName(raw), name);
  });
});
