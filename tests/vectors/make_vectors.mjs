// Writes tests/vectors/protocol_v1.json: a worked example of protocol v1 with
// fixed inputs and every intermediate value. Run: node tests/vectors/make_vectors.mjs
// The output is committed; tests/js/vectors.test.mjs checks crypto.js against it.
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as bc from "../../static/js/crypto.js";
import { fixedP256, importIdentity, importRoomKey, withFixedRandom, countingBytes } from "../js/helpers.mjs";

const subtle = globalThis.crypto.subtle;
const enc = (text) => new TextEncoder().encode(text);
const b64u = bc.b64uEncode;

const DESCRIPTION = [
  "Burn Chat protocol v1 worked example (docs/PROTOCOL.md). Regenerate with `node tests/vectors/make_vectors.mjs`.",
  "All binary values are b64u (base64url, no padding) unless the field name ends in _hex; *_label fields are the exact UTF-8 strings that are hashed, MACed, signed or used as AAD/info.",
  "`inputs`: the fixed link secret, room ID, epoch, raw room key, and per member (alice, bob): member ID, name, the IV used for enc_name, and P-256 private keys as JWK and PKCS8 DER plus the public point.",
  "`link_keys`: raw HKDF output of the announcement MAC key and names key (real clients keep them non-extractable), and the join key (HKDF with an empty salt: the room ID does not exist yet when the creator registers it) with join_key_hash = SHA-256(join key).",
  "`announcements.<member>`: name AAD, MAC input and the wire announcement; a client must accept it and decrypt `inputs.members.<member>.name`.",
  "`fingerprints`, `safety_code`: display values for the accepted set {alice, bob} (safety_code.input_label is what is hashed).",
  "`key_blob`: alice wraps the room key for bob at `inputs.epoch`: ECDH shared secret, HKDF info, AES-KW wrapping key, the signed blob. ECDSA is randomized: `blob.sig` is one valid signature that verifiers must accept; a re-signer will produce a different one.",
  "`message`: alice's message seq 1 with the fixed IV: AAD, ciphertext, signature input and the envelope (sig again one valid randomized signature).",
  "`negative`: strings a strict b64u decoder must reject, and names that must be rejected or are accepted after trimming.",
].join(" ");

const TARGET = new URL("./protocol_v1.json", import.meta.url);
const PREVIOUS = existsSync(TARGET) ? JSON.parse(readFileSync(TARGET, "utf8")) : null;

/** Keeps the committed signature if it still verifies, so regenerating gives an identical file. */
async function stableSignature(previousSig, sigPub, signedLabel, freshSig) {
  if (typeof previousSig !== "string") return freshSig;
  const key = await subtle.importKey("raw", bc.b64uDecode(sigPub), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  const valid = await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, bc.b64uDecode(previousSig), enc(signedLabel));
  return valid ? previousSig : freshSig;
}

/** 32 fixed bytes for a private scalar (SHA-256 of a label; far below the P-256 order with near certainty). */
function fixedScalar(tag) {
  return new Uint8Array(createHash("sha256").update(`burnchat/v1/test-vector/${tag}`).digest());
}

/** HKDF-SHA256 raw output, for recording derived keys as bytes (vector only). */
async function hkdfBytes(ikm, salt, info) {
  const base = await subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
  const params = { name: "HKDF", hash: "SHA-256", salt: enc(salt), info: enc(info) };
  return new Uint8Array(await subtle.deriveBits(params, base, 256));
}

/** Fixed description of one member. */
function fixedMember(tag, idStart, name, ivStart) {
  return {
    member_id: b64u(countingBytes(idStart, 16)),
    name,
    name_iv: b64u(countingBytes(ivStart, 12)),
    ecdh: fixedP256(fixedScalar(`${tag}/ecdh`)),
    sig: fixedP256(fixedScalar(`${tag}/sig`)),
  };
}

/** Wire announcement plus its labels, made by crypto.js with the fixed name IV. */
async function announce(linkKeys, roomId, member) {
  const identity = await importIdentity(member);
  const announcement = await withFixedRandom([bc.b64uDecode(member.name_iv)], () =>
    bc.sealAnnouncement({ linkKeys, roomId, memberId: member.member_id, identity, name: member.name }));
  return {
    name_aad_label: `burnchat/v1/name|${roomId}|${member.member_id}`,
    mac_input_label: ["burnchat/v1/announce", roomId, announcement.member_id, announcement.ecdh_pub,
      announcement.sig_pub, announcement.enc_name].join("|"),
    announcement,
  };
}

/** Alice's key blob for bob, with the ECDH secret and wrapping key as bytes. */
async function keyBlob({ roomId, epoch, roomKey, alice, bob, aliceId }) {
  const bobEcdh = await subtle.importKey("raw", bc.b64uDecode(bob.ecdh.pub), { name: "ECDH", namedCurve: "P-256" }, true, []);
  const shared = new Uint8Array(await subtle.deriveBits({ name: "ECDH", public: bobEcdh }, aliceId.ecdh.privateKey, 256));
  const info = `burnchat/v1/wrap|${epoch}|${alice.member_id}|${bob.member_id}`;
  const wrappingKey = await hkdfBytes(shared, roomId, info);
  const blob = await bc.wrapRoomKey({
    roomId, epoch, roomKey, identity: aliceId, fromId: alice.member_id,
    to: { memberId: bob.member_id, ecdhKey: bobEcdh },
  });
  const sigInput = ["burnchat/v1/key", roomId, epoch, blob.from, blob.to, blob.wrapped].join("|");
  blob.sig = await stableSignature(PREVIOUS?.key_blob?.blob?.sig, alice.sig.pub, sigInput, blob.sig);
  return {
    from: "alice", to: "bob",
    ecdh_shared_secret: b64u(shared),
    wrap_info_label: info,
    wrapping_key: b64u(wrappingKey),
    sig_input_label: sigInput,
    blob,
  };
}

/** Alice's first message with a fixed IV. */
async function message({ roomId, epoch, roomKey, aliceId, alice, text, iv }) {
  const seq = 1;
  const envelope = await withFixedRandom([bc.b64uDecode(iv)], () =>
    bc.sealMessage({ roomId, epoch, roomKey, identity: aliceId, sender: alice.member_id, seq, text }));
  const sigInput = ["burnchat/v1/sig", roomId, epoch, envelope.sender, seq, envelope.iv, envelope.ct].join("|");
  envelope.sig = await stableSignature(PREVIOUS?.message?.envelope?.sig, alice.sig.pub, sigInput, envelope.sig);
  return {
    sender: "alice", seq, text,
    aad_label: `burnchat/v1/msg|${roomId}|${epoch}|${alice.member_id}|${seq}`,
    sig_input_label: sigInput,
    envelope,
  };
}

/** Builds the whole vector object (exported so a test can compare it with the committed file). */
export async function buildVector() {
  const secret = b64u(countingBytes(0x00, 16));
  const roomId = b64u(countingBytes(0x10, 16));
  const epoch = 1;
  const roomKeyBytes = countingBytes(0x20, 32);
  const alice = fixedMember("alice", 0xa0, "Alice", 0x40);
  const bob = fixedMember("bob", 0xb0, "Björn 🔥", 0x50);
  const text = "Hello, Björn! 🔥 This burns in 30 s.";
  const messageIv = b64u(countingBytes(0x60, 12));

  const linkKeys = await bc.deriveLinkKeys(secret, roomId);
  const aliceId = await importIdentity(alice);
  const roomKey = await importRoomKey(roomKeyBytes);
  const announcements = { alice: await announce(linkKeys, roomId, alice), bob: await announce(linkKeys, roomId, bob) };
  const pubs = (m) => ({ memberId: m.member_id, ecdhPub: m.ecdh.pub, sigPub: m.sig.pub });
  const safetyLines = [alice, bob].map((m) => `${m.member_id},${m.ecdh.pub},${m.sig.pub}`).sort();
  const safetyInput = `burnchat/v1/safety|${roomId}|${safetyLines.join("|")}`;

  return {
    description: DESCRIPTION,
    version: bc.PROTOCOL_VERSION,
    inputs: {
      link_secret: secret, room_id: roomId, epoch, room_key: b64u(roomKeyBytes),
      members: { alice, bob },
      message_iv: messageIv,
    },
    link_keys: {
      announce_mac_key: b64u(await hkdfBytes(bc.b64uDecode(secret), roomId, "burnchat/v1/announce-mac")),
      names_key: b64u(await hkdfBytes(bc.b64uDecode(secret), roomId, "burnchat/v1/names")),
      join_key: b64u(await hkdfBytes(bc.b64uDecode(secret), "", "burnchat/v1/join")),
      join_key_hash: b64u(await subtle.digest("SHA-256", await hkdfBytes(bc.b64uDecode(secret), "", "burnchat/v1/join"))),
    },
    announcements,
    accepted_names: { alice: bc.validateName(alice.name), bob: bc.validateName(bob.name) },
    fingerprints: {
      alice: { label: `burnchat/v1/fpr|${alice.ecdh.pub}|${alice.sig.pub}`, fingerprint: await bc.fingerprint(alice.ecdh.pub, alice.sig.pub) },
      bob: { label: `burnchat/v1/fpr|${bob.ecdh.pub}|${bob.sig.pub}`, fingerprint: await bc.fingerprint(bob.ecdh.pub, bob.sig.pub) },
    },
    safety_code: {
      input_label: safetyInput,
      sha256_hex: Buffer.from(await subtle.digest("SHA-256", enc(safetyInput))).toString("hex"),
      code: await bc.safetyCode(roomId, [pubs(alice), pubs(bob)]),
    },
    key_blob: await keyBlob({ roomId, epoch, roomKey, alice, bob, aliceId }),
    message: await message({ roomId, epoch, roomKey, aliceId, alice, text, iv: messageIv }),
    negative: {
      b64u_invalid: ["AAECAw==", "AAECAw=", "AA+/", "AA/A", "AA AA", "A", "AB", "AAB", "AAECA\n", "Zg==", "Zh"],
      names_invalid: ["", "   ", "x".repeat(33), "bad\u0000name", "tab\tinside", "bell\u0007", "del\u007f", "c1\u0085ctl", "\ud800", "lone\udc00"],
      names_accepted: [["  padded  ", "padded"], ["x".repeat(32), "x".repeat(32)], ["🔥".repeat(32), "🔥".repeat(32)]],
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(TARGET, JSON.stringify(await buildVector(), null, 2) + "\n");
}
