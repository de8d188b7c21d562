// protocol.js RoomSession: membership, key epochs and the §6 message checks,
// plus a three-member end-to-end run with a removal and a rekey.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as bc from "../../static/js/crypto.js";
import { RoomSession } from "../../static/js/protocol.js";
import { joinSessions, joinOne, deliver, rekey, rejectsWith, announcementOf, flipBit } from "./helpers.mjs";

/** Two sessions (ada first, bob second) that both hold epoch 1 made by ada. */
async function keyedPair() {
  const room = await joinSessions(["Ada", "Bob"]);
  const [ada, bob] = room.sessions;
  await rekey(ada, room.sessions, 1);
  return { room, ada, bob };
}

describe("starting and joining", () => {
  test("start returns the join payload; joined lists earlier members then us", async () => {
    const room = await joinSessions(["Ada", "Bob", "Cy"]);
    const [ada, bob, cy] = room.sessions;
    assert.deepEqual(cy.members().map((m) => [m.name, m.isSelf]), [["Ada", false], ["Bob", false], ["Cy", true]]);
    assert.deepEqual(ada.members().map((m) => m.memberId), [ada.memberId, bob.memberId, cy.memberId]);
    const payload = await new RoomSession({ roomId: room.roomId, secret: room.secret }).start("Dee");
    assert.deepEqual(Object.keys(payload).sort(), ["ecdh_pub", "enc_name", "mac", "member_id", "room", "sig_pub", "v"]);
    assert.equal(payload.room, room.roomId);
    assert.equal(payload.v, 1);
  });

  test("a broken link or name is refused up front", async () => {
    assert.throws(() => new RoomSession({ roomId: "short", secret: bc.randomId() }), { code: "bad_encoding" });
    assert.throws(() => new RoomSession({ roomId: bc.randomId(), secret: "AAAA=" }), { code: "bad_encoding" });
    await rejectsWith(assert, new RoomSession({ roomId: bc.randomId(), secret: bc.randomId() }).start(" "), "bad_name");
  });

  test("duplicate names are shown as name (2), name (3) in join order", async () => {
    const room = await joinSessions(["Sam", "Sam", "Kim", "Sam"]);
    for (const session of room.sessions) {
      assert.deepEqual(session.members().map((m) => m.name), ["Sam", "Sam (2)", "Kim", "Sam (3)"]);
    }
    const third = room.sessions[3];
    assert.equal(room.sessions[0].member(third.memberId).name, "Sam (3)");
    assert.equal(room.sessions[0].member(bc.randomId()), null);
  });

  test("fingerprints match the member's keys", async () => {
    const room = await joinSessions(["Ada", "Bob"]);
    const [ada, bob] = room.sessions;
    const bobAnn = room.announcements[1];
    assert.equal(ada.member(bob.memberId).fingerprint, await bc.fingerprint(bobAnn.ecdh_pub, bobAnn.sig_pub));
    assert.equal(bob.member(bob.memberId).fingerprint, ada.member(bob.memberId).fingerprint);
  });
});

describe("announcements", () => {
  test("a tampered announcement is flagged, counted and not added", async () => {
    const room = await joinSessions(["Ada"]);
    const [ada] = room.sessions;
    const mallory = new RoomSession({ roomId: room.roomId, secret: room.secret });
    const good = announcementOf(await mallory.start("Mallory"));
    const relay = await bc.generateIdentity();
    assert.equal(await ada.addMember({ ...good, ecdh_pub: relay.ecdhPub }), null);
    assert.equal(await ada.addMember({ ...good, member_id: bc.randomId() }), null);
    assert.equal(ada.flaggedCount, 2);
    assert.equal(ada.members().length, 1);
    assert.ok(await ada.addMember(good));
    assert.equal(ada.members().length, 2);
  });

  test("an announcement from another room is flagged", async () => {
    const here = await joinSessions(["Ada"]);
    const elsewhere = await joinSessions(["Eve"], { secret: here.secret });
    assert.equal(await here.sessions[0].addMember(elsewhere.announcements[0]), null);
    assert.equal(here.sessions[0].flaggedCount, 1);
  });

  test("a second announcement for a known member ID (or ours) is flagged", async () => {
    const room = await joinSessions(["Ada", "Bob"]);
    const [ada, bob] = room.sessions;
    assert.equal(await ada.addMember(room.announcements[1]), null);
    assert.equal(await ada.addMember(room.announcements[0]), null);
    assert.equal(ada.flaggedCount, 2);
    assert.deepEqual(ada.members().map((m) => m.memberId), [ada.memberId, bob.memberId]);
  });
});

describe("room keys", () => {
  test("not ready (Securing...) until the current epoch's key is held", async () => {
    const room = await joinSessions(["Ada", "Bob"]);
    const [ada, bob] = room.sessions;
    assert.equal(ada.ready, false);
    await rejectsWith(assert, ada.seal("hi"), "not_ready");
    await rekey(ada, room.sessions, 1);
    assert.equal(ada.ready && bob.ready, true);
    assert.equal(bob.epoch, 1);
    ada.setEpoch(2);
    assert.equal(ada.ready, false);
    await rejectsWith(assert, ada.seal("hi"), "not_ready");
  });

  test("epochs never go back; a create request for a past epoch is refused", async () => {
    const { ada } = await keyedPair();
    ada.setEpoch(3);
    assert.equal(ada.setEpoch(2), 3);
    assert.equal(ada.epoch, 3);
    await rejectsWith(assert, ada.answerKeyRequest({ epoch: 2, create: true, for: [] }), "bad_epoch");
    assert.equal(ada.ready, false);
    assert.throws(() => ada.setEpoch(-1), { code: "bad_epoch" });
  });

  test("answerKeyRequest wraps only for listed accepted members other than us", async () => {
    const room = await joinSessions(["Ada", "Bob"]);
    const [ada, bob] = room.sessions;
    const payload = await ada.answerKeyRequest({ epoch: 1, create: true, for: [bob.memberId, bc.randomId(), ada.memberId, "junk"] });
    assert.equal(payload.epoch, 1);
    assert.deepEqual(payload.blobs.map((b) => b.to), [bob.memberId]);
    assert.equal(ada.ready, true);
    await rejectsWith(assert, ada.answerKeyRequest({ epoch: 2, create: false, for: [bob.memberId] }), "not_ready");
  });

  test("a holder serves a newcomer the same key (create: false)", async () => {
    const { room, ada, bob } = await keyedPair();
    const cy = await joinOne(room, "Cy");
    cy.setEpoch(1);
    await deliver(await bob.answerKeyRequest({ epoch: 1, create: false, for: [cy.memberId] }), room.sessions);
    assert.equal(cy.ready, true);
    const fromCy = await cy.seal("hello from cy");
    assert.equal((await ada.open(fromCy)).text, "hello from cy");
  });

  test("a key blob from a non-member is refused", async () => {
    const { room, bob } = await keyedPair();
    // Eve has the link and accepts Bob, but Bob never accepted an announcement from Eve.
    const eve = new RoomSession({ roomId: room.roomId, secret: room.secret });
    await eve.start("Eve");
    await eve.joined({ epoch: 1, members: room.announcements });
    const payload = await eve.answerKeyRequest({ epoch: 2, create: true, for: [bob.memberId] });
    assert.equal(payload.blobs.length, 1);
    await rejectsWith(assert, bob.acceptRoomKey(payload.blobs[0]), "not_member");
    assert.equal(bob.epoch, 1);
  });

  test("a key blob with a bad signature is refused", async () => {
    const room = await joinSessions(["Ada", "Bob"]);
    const [ada, bob] = room.sessions;
    const { blobs: [blob] } = await ada.answerKeyRequest({ epoch: 1, create: true, for: [bob.memberId] });
    await rejectsWith(assert, bob.acceptRoomKey({ ...blob, sig: flipBit(blob.sig) }), "bad_sig");
    assert.equal(bob.ready, false);
  });

  test("a key blob addressed to someone else is refused", async () => {
    const room = await joinSessions(["Ada", "Bob", "Cy"]);
    const [ada, bob, cy] = room.sessions;
    const { blobs } = await ada.answerKeyRequest({ epoch: 1, create: true, for: [bob.memberId, cy.memberId] });
    const forBob = blobs.find((b) => b.to === bob.memberId);
    await rejectsWith(assert, cy.acceptRoomKey(forBob), "wrong_recipient");
    assert.equal(cy.ready, false);
  });

  test("a key blob for an older epoch is refused and the newer key kept", async () => {
    const room = await joinSessions(["Ada", "Bob"]);
    const [ada, bob] = room.sessions;
    const old = await ada.answerKeyRequest({ epoch: 1, create: true, for: [bob.memberId] });
    await rekey(ada, room.sessions, 2);
    await rejectsWith(assert, bob.acceptRoomKey(old.blobs[0]), "bad_epoch");
    assert.equal(bob.ready, true);
    assert.equal(bob.epoch, 2);
  });

  test("a second key for an epoch already held does not replace the first", async () => {
    const room = await joinSessions(["Ada", "Bob", "Cy"]);
    const [ada, bob, cy] = room.sessions;
    await rekey(ada, room.sessions, 1);
    for (const s of room.sessions) s.setEpoch(2);
    await deliver(await ada.answerKeyRequest({ epoch: 2, create: true, for: [bob.memberId] }), room.sessions);
    // Cy (misled or malicious) makes a different key for the same epoch and sends it to Bob.
    const rival = await cy.answerKeyRequest({ epoch: 2, create: true, for: [bob.memberId] });
    assert.equal(await bob.acceptRoomKey(rival.blobs[0]), 2);
    const fromAda = await ada.seal("still readable");
    assert.equal((await bob.open(fromAda)).text, "still readable");
  });
});

describe("messages (§6)", () => {
  test("round trip with name and seq from 1", async () => {
    const { ada, bob } = await keyedPair();
    const envelope = await ada.seal("hi Bob");
    assert.equal(envelope.seq, 1);
    assert.equal((await ada.seal("again")).seq, 2);
    assert.deepEqual(await bob.open(envelope), { memberId: ada.memberId, name: "Ada", text: "hi Bob" });
    assert.equal(bob.rejectedCount, 0);
  });

  test("a replayed message is refused and counted", async () => {
    const { ada, bob } = await keyedPair();
    const envelope = await ada.seal("once");
    await bob.open(envelope);
    await rejectsWith(assert, bob.open(envelope), "replay");
    assert.equal(bob.rejectedCount, 1);
  });

  test("the same message opened twice at once is shown once", async () => {
    const { ada, bob } = await keyedPair();
    const envelope = await ada.seal("once");
    const results = await Promise.allSettled([bob.open(envelope), bob.open(envelope)]);
    assert.deepEqual(results.map((r) => r.status).sort(), ["fulfilled", "rejected"]);
  });

  test("an older seq after a newer one is refused", async () => {
    const { ada, bob } = await keyedPair();
    const first = await ada.seal("first");
    const second = await ada.seal("second");
    await bob.open(second);
    await rejectsWith(assert, bob.open(first), "replay");
  });

  test("a message from a non-member or from ourselves is refused", async () => {
    const { room, ada, bob } = await keyedPair();
    const mine = await ada.seal("echo");
    await rejectsWith(assert, ada.open(mine), "not_member");
    bob.removeMember(ada.memberId);
    await rejectsWith(assert, bob.open(await ada.seal("gone")), "not_member");
    assert.equal(bob.rejectedCount, 1);
    assert.equal(room.sessions.length, 2);
  });

  test("a message signed by one member but claiming another is refused", async () => {
    const { room, ada, bob } = await keyedPair();
    const cy = await joinOne(room, "Cy");
    cy.setEpoch(1);
    await deliver(await ada.answerKeyRequest({ epoch: 1, create: false, for: [cy.memberId] }), room.sessions);
    // Cy builds a message as if from Ada: the signature is Cy's, Ada's key rejects it.
    const envelope = await cy.seal("I am Ada");
    await rejectsWith(assert, bob.open({ ...envelope, sender: ada.memberId, seq: 99 }), "bad_sig");
  });

  test("a held-back message under the previous epoch is refused after a rekey", async () => {
    const { room, ada, bob } = await keyedPair();
    const heldBack = await ada.seal("before the removal");
    for (const s of room.sessions) s.setEpoch(2); // rekey: bob still holds only epoch 1's key
    await rejectsWith(assert, bob.open(heldBack), "bad_epoch");
  });

  test("seal refuses empty and oversize texts without using a seq", async () => {
    const { ada, bob } = await keyedPair();
    await rejectsWith(assert, ada.seal(""), "empty");
    await rejectsWith(assert, ada.seal("x".repeat(4097)), "too_long");
    assert.equal((await ada.seal("x".repeat(4096))).seq, 1);
    assert.equal(bob.ready, true);
  });

  test("open rejects junk envelopes and counts them", async () => {
    const { ada, bob } = await keyedPair();
    const envelope = await ada.seal("hi");
    await rejectsWith(assert, bob.open(null), "not_member");
    await rejectsWith(assert, bob.open({ ...envelope, ct: flipBit(envelope.ct) }), "bad_sig");
    assert.equal(bob.rejectedCount, 2);
    assert.equal((await bob.open(envelope)).text, "hi");
  });
});

describe("three members end to end", () => {
  test("create, serve a newcomer, remove a member, rekey: the removed key opens nothing new", async () => {
    const room = await joinSessions(["Ada", "Bob"]);
    const [ada, bob] = room.sessions;
    await rekey(ada, room.sessions, 1);
    assert.equal((await bob.open(await ada.seal("one"))).text, "one");

    const cy = await joinOne(room, "Cy");
    assert.equal(cy.epoch, 1);
    assert.equal(cy.ready, false);
    await deliver(await ada.answerKeyRequest({ epoch: 1, create: false, for: [cy.memberId] }), room.sessions);
    const fromCy = await cy.seal("hello all");
    assert.equal((await ada.open(fromCy)).text, "hello all");
    assert.equal((await bob.open(fromCy)).name, "Cy");
    const codes = await Promise.all(room.sessions.map((s) => s.safetyCode()));
    assert.equal(new Set(codes).size, 1);

    // Bob is kicked: the server removes him and moves everyone left to epoch 2.
    const remaining = [ada, cy];
    for (const s of remaining) s.removeMember(bob.memberId);
    await rekey(cy, remaining, 2);
    const secret = await ada.seal("bob must not read this");
    assert.equal(secret.epoch, 2);
    assert.equal((await cy.open(secret)).text, "bob must not read this");

    // Bob's session refuses it, before and after hearing of epoch 2...
    await rejectsWith(assert, bob.open(secret), "bad_epoch");
    const lateFromBob = await bob.seal("still here?"); // Bob still thinks epoch 1 is current
    bob.setEpoch(2);
    await rejectsWith(assert, bob.open(secret), "not_ready");
    // ...and his epoch-1 key, handed to an accomplice, does not decrypt it either.
    const oldKey = await exfiltrateKey(room, bob, 1);
    const adaSig = { sigKey: await importSig(room.announcements[0].sig_pub) };
    await rejectsWith(assert, bc.openMessage({ roomId: room.roomId, envelope: secret, roomKey: oldKey, sender: adaSig }), "decrypt_failed");
    // While the same key still opens what was sent before the removal.
    assert.equal(await bc.openMessage({ roomId: room.roomId, envelope: fromCy, roomKey: oldKey, sender: { sigKey: await importSig(room.announcements[2].sig_pub) } }), "hello all");

    // Messages Bob sends after his removal are refused, and the safety code moved on.
    await rejectsWith(assert, ada.open(lateFromBob), "not_member");
    const codesAfter = await Promise.all(remaining.map((s) => s.safetyCode()));
    assert.equal(codesAfter[0], codesAfter[1]);
    assert.notEqual(codesAfter[0], codes[0]);
  });

  test("safety codes differ when one member is shown a substituted key", async () => {
    const room = await joinSessions(["Ada", "Bob"]);
    const [ada, bob] = room.sessions;
    // A relay that knows S (leaked link) forges "Bob" with its own keys under Bob's member ID.
    const relay = await bc.generateIdentity();
    const linkKeys = await bc.deriveLinkKeys(room.secret, room.roomId);
    const fakeBob = await bc.sealAnnouncement({ linkKeys, roomId: room.roomId, memberId: bob.memberId, identity: relay, name: "Bob" });
    const carol = new RoomSession({ roomId: room.roomId, secret: room.secret });
    const carolAnn = announcementOf(await carol.start("Carol"));
    await carol.joined({ epoch: 0, members: [room.announcements[0], fakeBob] });
    for (const s of [ada, bob]) await s.addMember(carolAnn);
    assert.deepEqual(carol.members().map((m) => m.name), ["Ada", "Bob", "Carol"]);
    assert.equal(await ada.safetyCode(), await bob.safetyCode());
    assert.notEqual(await carol.safetyCode(), await ada.safetyCode());
    assert.notEqual(carol.member(bob.memberId).fingerprint, ada.member(bob.memberId).fingerprint);
  });
});

describe("wipe", () => {
  test("forgets keys, members and counters", async () => {
    const { ada, bob } = await keyedPair();
    const envelope = await ada.seal("hi");
    await rejectsWith(assert, bob.open({ ...envelope, seq: 5 }), "bad_sig");
    bob.wipe();
    assert.equal(bob.memberId, null);
    assert.equal(bob.epoch, 0);
    assert.equal(bob.ready, false);
    assert.equal(bob.rejectedCount, 0);
    assert.equal(bob.flaggedCount, 0);
    assert.deepEqual(bob.members(), []);
    await rejectsWith(assert, bob.open(envelope), "not_member");
    await rejectsWith(assert, bob.seal("x"), "not_ready");
    await rejectsWith(assert, bob.answerKeyRequest({ epoch: 3, create: true, for: [] }), "not_ready");
    bob.setEpoch(1);
    assert.equal(bob.ready, false); // epoch 1's key is gone too
  });
});

/** A member hands its key of `epoch` to an accomplice the member accepts: returns the raw-usable key. */
async function exfiltrateKey(room, traitor, epoch) {
  const linkKeys = await bc.deriveLinkKeys(room.secret, room.roomId);
  const accomplice = { memberId: bc.randomId(), identity: await bc.generateIdentity() };
  const announcement = await bc.sealAnnouncement({ linkKeys, roomId: room.roomId, ...accomplice, name: "Accomplice" });
  await traitor.addMember(announcement);
  const { blobs: [blob] } = await traitor.answerKeyRequest({ epoch, create: false, for: [accomplice.memberId] });
  const traitorAnn = room.announcements.find((a) => a.member_id === traitor.memberId);
  const sender = await bc.openAnnouncement({ linkKeys, roomId: room.roomId, announcement: traitorAnn });
  const { roomKey } = await bc.openRoomKey({ roomId: room.roomId, blob, identity: accomplice.identity, myId: accomplice.memberId, sender });
  return roomKey;
}

/** Imports a sig_pub for a direct openMessage call. */
function importSig(sigPub) {
  return globalThis.crypto.subtle.importKey("raw", bc.b64uDecode(sigPub), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
}
