// Writes tests/vectors/protocol_v2.json: a worked example of protocol v2 with
// fixed inputs and every intermediate value. Run: node tests/vectors/make_vectors.mjs
// The output is committed; tests/js/vectors.test.mjs checks the browser modules against it.
// Intermediate bytes (keys, chain steps) are computed here from raw HKDF/HMAC, independently
// of crypto.js, which only ever holds them as non-extractable keys.
import { createHash, pbkdf2Sync } from "node:crypto";
import { fileURLToPath } from "node:url";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as bc from "../../static/js/crypto.js";
import { createEpoch, rosterLine } from "../../static/js/epoch.js";
import { sealMessage, ZERO_HASH, MAX_SKIP, MAX_SKIPPED_KEYS, BODY_SIZES } from "../../static/js/ratchet.js";
import { fixedP256, importIdentity, withFixedRandom, countingBytes, hex, sTwin, hkdfBytes, hmacBytes, P256_ORDER } from "../js/helpers.mjs";

const subtle = globalThis.crypto.subtle;
const enc = (text) => new TextEncoder().encode(text);
const b64u = bc.b64uEncode;
const unb64u = bc.b64uDecode;

const DESCRIPTION = [
  "Burn Chat protocol v2 worked example (docs/PROTOCOL.md). Regenerate with `node tests/vectors/make_vectors.mjs`.",
  "All binary values are b64u (base64url, no padding) unless the field name ends in _hex; *_label fields are the exact UTF-8 strings that are hashed, MACed, signed or used as AAD / HKDF info; HKDF salts are utf8(room ID) except the join key's (empty).",
  "`inputs`: link secret, room ID, epoch, epoch secret E, per member (alice, bob) member ID, name, the IV used for enc_name and fixed P-256 keys (JWK, PKCS8, public point; the same keys as protocol_v1.json), and the message IVs.",
  "`link_keys`: raw HKDF output (clients keep these keys non-extractable). `announcements.<member>`: the padded name (132 bytes), labels and the wire announcement (enc_name always 160 bytes).",
  "`epoch`: alice creates epoch 1 for the roster {alice, bob} (sorted by member ID) with E = inputs.epoch_secret: commit key, roster lines, line MACs, C, the commit entries (ID,LINE_MAC joined with |) and their SHA-256 that commit_sig signs, authenticator, safety digits and QR text.",
  "`key_delivery`: the ECDH secret and AES-KW wrapping key alice->bob, wrapped E, the blob, alice's key_deliver payload and the room_key event bob receives.",
  "Signatures are randomized: each `*sig` field is one valid low-s signature verifiers must accept; each `*_high_s` field is its (r, n-s) twin that verifiers must reject (bad_sig). Everything else is deterministic.",
  "`chains.alice`: ck_1 = HKDF(E, ROOM, chain label), mk_n = HMAC(ck_n, 0x01), ck_{n+1} = HMAC(ck_n, 0x02).",
  "`messages`: alice's envelopes seq 1-3 in epoch 1 (two texts in different size classes, then a digest): body_utf8 is the exact JSON that is padded (pad to padded_length: body || 0x80 || 0x00...), hash = SHA-256(sig_input_label) and each prev is the previous hash (32 zero bytes first).",
  "`negative`: b64u strings to reject, names to reject or accept after trim, unpad inputs, signatures to reject, a v1 envelope (bad_version), roster mismatches bob must raise (with the expected detail), room_key events a relay altered that bob must refuse (with the code), and ratchet window cases on a fresh chain:",
  "each case opens `opens` in order on one fresh chain and gets `expect` (ok, replay, too_old, too_far). Rule: from next expected seq N a seq S > N + max_skip is too_far; opening S >= N keeps the skipped keys of the max_skipped_keys highest seqs below S (older ones are evicted at once);",
  "a seq below N that has no kept key is too_old if it is at or below the highest seq ever evicted, else replay.",
  "`admin_pin` (§8.1): the creator's client makes the PIN and sends only salt and verifier; proof = PBKDF2-HMAC-SHA256(utf8(normalized PIN), salt, iterations, 32 bytes) is what admin_auth sends, verifier = SHA-256(proof); `typed` are spellings that normalize to it, `invalid` are refused before any PBKDF2 (bad_pin).",
].join(" ");

const TARGET = new URL("./protocol_v2.json", import.meta.url);
const PREVIOUS = existsSync(TARGET) ? JSON.parse(readFileSync(TARGET, "utf8")) : null;

/** Keeps the committed signature if it still verifies (and is low-s), so regenerating gives an identical file. */
async function stableSignature(previousSig, sigPub, signedLabel, freshSig) {
  if (typeof previousSig !== "string") return freshSig;
  const key = await subtle.importKey("raw", unb64u(sigPub), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  return (await bc.verify(key, unb64u(previousSig), enc(signedLabel))) ? previousSig : freshSig;
}

/** 32 fixed bytes for a private scalar (the v1 derivation, so the keys match protocol_v1.json). */
function fixedScalar(tag) {
  return new Uint8Array(createHash("sha256").update(`burnchat/v1/test-vector/${tag}`).digest());
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

/** The accepted form of a fixed member, as openAnnouncement returns it. */
async function acceptedForm(member) {
  const P256 = (name, usages) => subtle.importKey("raw", unb64u(member[name === "ECDH" ? "ecdh" : "sig"].pub), { name, namedCurve: "P-256" }, true, usages);
  return {
    memberId: member.member_id, name: member.name, ecdhPub: member.ecdh.pub, sigPub: member.sig.pub,
    ecdhKey: await P256("ECDH", []), sigKey: await P256("ECDSA", ["verify"]),
  };
}

/** Wire announcement plus its labels, made by crypto.js with the fixed name IV. */
async function announce(linkKeys, roomId, member) {
  const identity = await importIdentity(member);
  const announcement = await withFixedRandom([unb64u(member.name_iv)], () =>
    bc.sealAnnouncement({ linkKeys, roomId, memberId: member.member_id, identity, name: member.name }));
  return {
    name_padded_hex: hex(bc.pad(enc(member.name), bc.NAME_PAD_BYTES)),
    name_aad_label: `burnchat/v2/name|${roomId}|${member.member_id}`,
    mac_input_label: ["burnchat/v2/announce", roomId, announcement.member_id, announcement.ecdh_pub,
      announcement.sig_pub, announcement.enc_name].join("|"),
    announcement,
  };
}

/** Alice's epoch: commitment values from raw bytes, the delivery made by epoch.js with E fixed. */
async function makeEpoch({ roomId, epoch, secretE, alice, bob, aliceId }) {
  const roster = [alice, bob].sort((x, y) => (x.member_id < y.member_id ? -1 : 1));
  const creator = alice.member_id;
  const commitInfo = `burnchat/v2/commit|${epoch}`;
  const commitKey = await hkdfBytes(secretE, roomId, commitInfo);
  const lines = roster.map((m) => rosterLine({ memberId: m.member_id, ecdhPub: m.ecdh.pub, sigPub: m.sig.pub, name: m.name }));
  const lineLabels = lines.map((line) => `burnchat/v2/line|${roomId}|${epoch}|${line}`);
  const lineMacs = await Promise.all(lineLabels.map(async (l) => b64u((await hmacBytes(commitKey, l)).subarray(0, 16))));
  const rosterLabel = `burnchat/v2/roster|${roomId}|${epoch}|${creator}|${lines.join("|")}`;
  const c = await hmacBytes(commitKey, rosterLabel);
  const commitEntries = roster.map((m, i) => `${m.member_id},${lineMacs[i]}`).join("|");
  const commitDigest = b64u(await bc.sha256(enc(commitEntries)));
  const commitLabel = `burnchat/v2/commit|${roomId}|${epoch}|${creator}|${commitDigest}`;
  const authInfo = `burnchat/v2/authenticator|${epoch}|${b64u(c)}`;
  const authenticator = await hkdfBytes(secretE, roomId, authInfo);

  const members = [await acceptedForm(alice), await acceptedForm(bob)];
  const { delivery, keys } = await withFixedRandom([secretE], () =>
    createEpoch({ roomId, epoch, identity: aliceId, creatorId: creator, roster: members }));
  if (b64u(keys.authenticator) !== b64u(authenticator)) throw new Error("epoch.js disagrees with the raw authenticator");
  const commitSig = await stableSignature(PREVIOUS?.epoch?.commit_sig, alice.sig.pub, commitLabel, delivery.commit_sig);

  // Key delivery alice -> bob.
  const bobEcdh = await subtle.importKey("raw", unb64u(bob.ecdh.pub), { name: "ECDH", namedCurve: "P-256" }, true, []);
  const shared = new Uint8Array(await subtle.deriveBits({ name: "ECDH", public: bobEcdh }, aliceId.ecdh.privateKey, 256));
  const wrapInfo = `burnchat/v2/wrap|${epoch}|${alice.member_id}|${bob.member_id}`;
  const wrappingKey = await hkdfBytes(shared, roomId, wrapInfo);
  const [blob] = delivery.blobs;
  const keyLabel = `burnchat/v2/key|${roomId}|${epoch}|${creator}|${bob.member_id}|${blob.wrapped}|${commitSig}`;
  const freshBlobSig = b64u(await bc.sign(aliceId.sig.privateKey, enc(keyLabel)));
  const blobSig = await stableSignature(PREVIOUS?.key_delivery?.blob?.sig, alice.sig.pub, keyLabel, freshBlobSig);
  const stableDelivery = { ...delivery, commit_sig: commitSig, blobs: [{ ...blob, sig: blobSig }] };
  const roomKey = { epoch, from: creator, to: bob.member_id, wrapped: blob.wrapped, sig: blobSig, roster: delivery.roster, line_macs: delivery.line_macs, commit_sig: commitSig };

  return {
    epoch: {
      creator: "alice",
      roster_order: roster.map((m) => (m === alice ? "alice" : "bob")),
      commit_key_info_label: commitInfo,
      commit_key: b64u(commitKey),
      lines, line_labels: lineLabels, line_macs: lineMacs,
      roster_label: rosterLabel,
      c: b64u(c),
      commit_entries: commitEntries,
      commit_digest: commitDigest,
      commit_sig_label: commitLabel,
      commit_sig: commitSig,
      commit_sig_high_s: sTwin(commitSig),
      authenticator_info_label: authInfo,
      authenticator: b64u(authenticator),
      safety_digits: keys.safetyCode,
      safety_qr: keys.safetyQr,
    },
    key_delivery: {
      from: "alice", to: "bob",
      ecdh_shared_secret: b64u(shared),
      wrap_info_label: wrapInfo,
      wrapping_key: b64u(wrappingKey),
      wrapped: blob.wrapped,
      sig_input_label: keyLabel,
      blob: { ...blob, sig: blobSig },
      sig_high_s: sTwin(blobSig),
      key_deliver: stableDelivery,
      room_key: roomKey,
    },
    members,
  };
}

/** Alice's chain bytes ck_1..ck_4 and mk_1..mk_3. */
async function chainBytes(secretE, roomId, epoch, memberId) {
  const info = `burnchat/v2/chain|${epoch}|${memberId}`;
  const out = { chain_info_label: info };
  let ck = await hkdfBytes(secretE, roomId, info);
  for (let n = 1; n <= 3; n++) {
    out[`ck_${n}`] = b64u(ck);
    out[`mk_${n}`] = b64u(await hmacBytes(ck, Uint8Array.of(1)));
    ck = await hmacBytes(ck, Uint8Array.of(2));
  }
  out.ck_4 = b64u(ck);
  return out;
}

/** Alice's envelopes seq 1.. with fixed IVs; each body maker sees the envelopes made so far. */
async function makeMessages({ roomId, epoch, aliceKeys, aliceId, alice, bodyMakers, ivs, chain }) {
  const out = [];
  let prev = ZERO_HASH;
  for (const [i, makeBody] of bodyMakers.entries()) {
    const seq = i + 1;
    const body = makeBody(out);
    const sealed = await withFixedRandom([unb64u(ivs[i])], () =>
      sealMessage({ roomId, epoch, chain: aliceKeys.chains.get(alice.member_id), identity: aliceId, sender: alice.member_id, prev, body }));
    const { envelope } = sealed;
    const bodyUtf8 = JSON.stringify(body);
    const padded = bc.pad(enc(bodyUtf8), BODY_SIZES.find((n) => n > enc(bodyUtf8).length));
    const aad = `burnchat/v2/msg|${roomId}|${epoch}|${alice.member_id}|${seq}|${prev}`;
    const sigInput = `burnchat/v2/sig|${roomId}|${epoch}|${alice.member_id}|${seq}|${prev}|${envelope.iv}|${envelope.ct}`;
    // Cross-check: the raw message key decrypts what ratchet.js sealed.
    const mk = await subtle.importKey("raw", unb64u(chain[`mk_${seq}`]), "AES-GCM", false, ["decrypt"]);
    const plain = new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv: unb64u(envelope.iv), additionalData: enc(aad) }, mk, unb64u(envelope.ct)));
    if (hex(plain) !== hex(padded)) throw new Error(`message ${seq}: raw chain disagrees with ratchet.js`);
    const hash = b64u(await bc.sha256(enc(sigInput)));
    if (hash !== sealed.hash) throw new Error(`message ${seq}: hash mismatch`);
    envelope.sig = await stableSignature(PREVIOUS?.messages?.[i]?.envelope?.sig, alice.sig.pub, sigInput, envelope.sig);
    out.push({
      sender: "alice", seq, body,
      body_utf8: bodyUtf8,
      padded_length: padded.length,
      padded_hex: hex(padded),
      aad_label: aad,
      sig_input_label: sigInput,
      hash, prev,
      envelope,
      sig_high_s: sTwin(envelope.sig),
    });
    prev = hash;
  }
  return out;
}

/** Roster mismatches bob must raise on alice's room_key, with the detail expected. */
async function rosterMismatches(alice, bob, carol) {
  const { member_id: a, ecdh, sig } = alice;
  return [
    {
      what: "bob accepted alice under another name (a name swap)",
      bob_sees: [{ member_id: a, ecdh_pub: ecdh.pub, sig_pub: sig.pub, name: "Alicia" }, "bob"],
      detail: { unseen: [], left_out: [], differs: [a] },
    },
    {
      what: "bob also accepted carol, whom alice's roster leaves out (a phantom kick or a ghost elsewhere)",
      bob_sees: ["alice", "bob", { member_id: carol.member_id, ecdh_pub: carol.ecdh.pub, sig_pub: carol.sig.pub, name: carol.name }],
      detail: { unseen: [], left_out: [carol.member_id], differs: [] },
    },
  ];
}

/** Alice's room_key for bob as a relay could alter it, and the code bob must refuse each with. */
function refusedKeys(roomKey) {
  const macs = [...roomKey.line_macs];
  macs[0] = b64u(new Uint8Array(16));
  return [
    { what: "the relay rewrote one line MAC (it must not make bob blame that member)", room_key: { ...roomKey, line_macs: macs }, code: "bad_sig" },
    { what: "the roster list out of order", room_key: { ...roomKey, roster: [...roomKey.roster].reverse(), line_macs: [...roomKey.line_macs].reverse() }, code: "bad_encoding" },
  ];
}

/** Builds the whole vector object (exported so a test can compare it with the committed file). */
export async function buildVector() {
  const secret = b64u(countingBytes(0x00, 16));
  const roomId = b64u(countingBytes(0x10, 16));
  const epoch = 1;
  const secretE = countingBytes(0x20, 32);
  const alice = fixedMember("alice", 0xa0, "Alice", 0x40);
  const bob = fixedMember("bob", 0xb0, "Björn 🔥", 0x50);
  const carol = fixedMember("carol", 0xc0, "Carol", 0x58);
  const ivs = [0x60, 0x70, 0x80].map((start) => b64u(countingBytes(start, 12)));

  const linkKeys = await bc.deriveLinkKeys(secret, roomId);
  const aliceId = await importIdentity(alice);
  const joinKey = await hkdfBytes(unb64u(secret), "", "burnchat/v2/join");
  const made = await makeEpoch({ roomId, epoch, secretE, alice, bob, aliceId });
  const chain = await chainBytes(secretE, roomId, epoch, alice.member_id);
  const aliceKeys = (await withFixedRandom([secretE], () => createEpoch({
    roomId, epoch, identity: aliceId, creatorId: alice.member_id, roster: made.members,
  }))).keys;
  const longText = "waves at everyone before the room burns - ".repeat(6).trim();
  const messages = await makeMessages({
    roomId, epoch, aliceKeys, aliceId, alice, ivs, chain, bodyMakers: [
      () => ({ t: "text", text: "Hello, Björn! 🔥 This burns in 30 s.", after: null, me: false }),
      () => ({ t: "text", text: longText, after: [alice.member_id, epoch, 1], me: true }),
      (made) => ({ t: "digest", heads: [[alice.member_id, epoch, 2, made[1].hash]] }),
    ],
  });

  const sigLabel = made.epoch.commit_sig_label;
  const validR = b64u(unb64u(made.epoch.commit_sig).subarray(0, 32));
  const validS = b64u(unb64u(made.epoch.commit_sig).subarray(32));
  const n32 = Buffer.from(P256_ORDER.toString(16), "hex");
  const concat = (r, s) => b64u(new Uint8Array([...unb64u(r), ...unb64u(s)]));
  const zeros = b64u(new Uint8Array(32));

  return {
    description: DESCRIPTION,
    version: bc.PROTOCOL_VERSION,
    inputs: {
      link_secret: secret, room_id: roomId, epoch, epoch_secret: b64u(secretE),
      members: { alice, bob },
      message_ivs: ivs,
    },
    link_keys: {
      announce_mac_key: b64u(await hkdfBytes(unb64u(secret), roomId, "burnchat/v2/announce-mac")),
      names_key: b64u(await hkdfBytes(unb64u(secret), roomId, "burnchat/v2/names")),
      join_key: b64u(joinKey),
      join_key_hash: b64u(await bc.sha256(joinKey)),
    },
    announcements: { alice: await announce(linkKeys, roomId, alice), bob: await announce(linkKeys, roomId, bob) },
    accepted_names: { alice: bc.validateName(alice.name), bob: bc.validateName(bob.name) },
    fingerprints: {
      alice: { label: `burnchat/v2/fpr|${alice.ecdh.pub}|${alice.sig.pub}`, fingerprint: await bc.fingerprint(alice.ecdh.pub, alice.sig.pub) },
      bob: { label: `burnchat/v2/fpr|${bob.ecdh.pub}|${bob.sig.pub}`, fingerprint: await bc.fingerprint(bob.ecdh.pub, bob.sig.pub) },
    },
    epoch: made.epoch,
    key_delivery: made.key_delivery,
    chains: { alice: chain },
    messages,
    admin_pin: pinVector(),
    negative: {
      b64u_invalid: ["AAECAw==", "AAECAw=", "AA+/", "AA/A", "AA AA", "A", "AB", "AAB", "AAECA\n", "Zg==", "Zh"],
      names_invalid: ["", "   ", "x".repeat(33), "bad\u0000name", "tab\tinside", "bell\u0007", "del\u007f", "c1\u0085ctl", "\ud800", "lone\udc00"],
      names_accepted: [["  padded  ", "padded"], ["x".repeat(32), "x".repeat(32)], ["🔥".repeat(32), "🔥".repeat(32)]],
      unpad_invalid_hex: ["", "00", "000000", "41", "414243", "80ff", "418001"],
      unpad_valid_hex: [["80", ""], ["41800000", "41"], ["00800000", "00"], ["808000", "80"]],
      signatures_invalid: {
        label: sigLabel,
        signer: "alice",
        sigs: [
          ["high s", made.epoch.commit_sig_high_s],
          ["r = 0", concat(zeros, validS)],
          ["s = 0", concat(validR, zeros)],
          ["r = n", concat(b64u(n32), validS)],
          ["s = n", concat(validR, b64u(n32))],
          ["63 bytes", b64u(unb64u(made.epoch.commit_sig).subarray(0, 63))],
        ],
      },
      envelope_v1: { ...messages[0].envelope, v: 1 },
      roster_mismatch: await rosterMismatches(alice, bob, carol),
      room_key_refused: refusedKeys(made.key_delivery.room_key),
      ratchet_window: {
        max_skip: MAX_SKIP,
        max_skipped_keys: MAX_SKIPPED_KEYS,
        cases: [
          { opens: [1, 2, 3], expect: ["ok", "ok", "ok"] },
          { opens: [3, 1, 2, 2, 3], expect: ["ok", "ok", "ok", "replay", "replay"] },
          { opens: [257], expect: ["ok"] },
          { opens: [258], expect: ["too_far"] },
          { opens: [100, 358, 357], expect: ["ok", "too_far", "ok"] },
          { opens: [257, 192, 193, 193, 256, 257, 1], expect: ["ok", "too_old", "ok", "replay", "ok", "replay", "too_old"] },
          { opens: [70, 5, 6, 140, 75, 76], expect: ["ok", "too_old", "ok", "ok", "too_old", "ok"] },
        ],
      },
    },
  };
}

/** The admin PIN's proof and verifier, computed with node:crypto (not the app's crypto.js). */
function pinVector() {
  const pin = "K7QM-4XRT", salt = countingBytes(0x90, 16), iterations = 600000;
  const proof = pbkdf2Sync("K7QM4XRT", salt, iterations, 32, "sha256");
  return {
    pin, normalized: "K7QM4XRT", salt: b64u(salt), iterations,
    proof: b64u(proof), verifier: b64u(createHash("sha256").update(proof).digest()),
    typed: ["k7qm-4xrt", "K7QM 4XRT", " k7qm4xrt", "k7qm\t4xrt\n"],
    invalid: ["", "K7QM-4XR", "K7QM-4XRTT", "K7QM-4XR0", "K7QM-4XRO", "K7QM-4XR1", "K7QM-4XRI", "K7QM_4XRT"],
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(TARGET, JSON.stringify(await buildVector(), null, 2) + "\n");
}
