// protocol.js RoomSession: membership, key epochs and the §6 message checks,
// plus a three-member end-to-end run with a removal and a rekey.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as bc from "../../static/js/crypto.js";
import { RoomSession, HOLD_BACK_MS, MAX_HELD_MESSAGES } from "../../static/js/protocol.js";
import { joinSessions, joinOne, removeOne, serverEpoch, deliver, rekey, rejectsWith, announcementOf, flipBit } from "./helpers.mjs";

/** Two sessions (ada first, bob second) that both hold the current epoch's key, made by ada. */
async function keyedPair() {
  const room = await joinSessions(["Ada", "Bob"]);
  const [ada, bob] = room.sessions;
  await rekey(ada, room.sessions);
  return { room, ada, bob };
}

describe("starting and joining", () => {
  test("start returns the join payload; joined lists earlier members then us", async () => {
    const room = await joinSessions(["Ada", "Bob", "Cy"]);
    const [ada, bob, cy] = room.sessions;
    assert.deepEqual(cy.members().map((m) => [m.name, m.isSelf]), [["Ada", false], ["Bob", false], ["Cy", true]]);
    assert.deepEqual(ada.members().map((m) => m.memberId), [ada.memberId, bob.memberId, cy.memberId]);
    const payload = await new RoomSession({ roomId: room.roomId, secret: room.secret }).start("Dee");
    assert.deepEqual(Object.keys(payload).sort(), ["ecdh_pub", "enc_name", "join_key", "mac", "member_id", "room", "sig_pub", "v"]);
    assert.equal(payload.room, room.roomId);
    assert.equal(payload.v, 1);
    assert.equal(payload.join_key, (await bc.deriveJoinKey(room.secret)).joinKey);
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
    await rekey(ada, room.sessions);
    assert.equal(ada.ready && bob.ready, true);
    assert.equal(bob.epoch, 2);
    ada.setEpoch(3);
    assert.equal(ada.ready, false);
    await rejectsWith(assert, ada.seal("hi"), "not_ready");
  });

  test("epochs never go back; a create request for a past epoch is refused", async () => {
    const { ada } = await keyedPair();
    ada.setEpoch(4);
    assert.equal(ada.setEpoch(3), 4);
    assert.equal(ada.epoch, 4);
    await rejectsWith(assert, ada.answerKeyRequest({ epoch: 3, create: true, for: [] }), "bad_epoch");
    assert.equal(ada.ready, false);
    assert.throws(() => ada.setEpoch(-1), { code: "bad_epoch" });
  });

  test("answerKeyRequest wraps only for listed accepted members other than us", async () => {
    const room = await joinSessions(["Ada", "Bob"]);
    const [ada, bob] = room.sessions;
    const payload = await ada.answerKeyRequest({ epoch: 2, create: true, for: [bob.memberId, bc.randomId(), ada.memberId, "junk"] });
    assert.equal(payload.epoch, 2);
    assert.deepEqual(payload.blobs.map((b) => b.to), [bob.memberId]);
    assert.equal(ada.ready, true);
    await rejectsWith(assert, ada.answerKeyRequest({ epoch: 3, create: false, for: [bob.memberId] }), "not_ready");
  });

  test("a holder serves its key (create: false) to members that missed their blob", async () => {
    const { room, ada, bob } = await keyedPair();
    const cy = await joinOne(room, "Cy");
    const dee = await joinOne(room, "Dee");
    await rekey(ada, room.sessions);
    // Dee missed her blob (a relay dropped it): Bob, a holder, serves her the same key.
    const served = await bob.answerKeyRequest({ epoch: dee.epoch, create: false, for: [dee.memberId, cy.memberId] });
    assert.deepEqual(served.blobs.map((b) => b.to).sort(), [cy.memberId, dee.memberId].sort());
    const fromDee = await dee.seal("hello from dee");
    assert.equal((await ada.open(fromDee)).text, "hello from dee");
  });

  test("a newcomer is never served a key made before it joined (review #1)", async () => {
    const { room, ada, bob } = await keyedPair();
    const before = await ada.seal("before Cy joined: the code is 4711");
    assert.equal((await bob.open(before)).text, "before Cy joined: the code is 4711");
    const heldEpoch = ada.epoch;
    // A server that skips the join rekey: Cy is told the old epoch, the others only hear member_joined...
    const cy = new RoomSession({ roomId: room.roomId, secret: room.secret });
    const cyAnn = announcementOf(await cy.start("Cy"));
    await cy.joined({ epoch: heldEpoch, members: room.announcements });
    for (const s of [ada, bob]) assert.ok(await s.addMember(cyAnn));
    assert.equal(ada.ready || bob.ready, false);
    await rejectsWith(assert, ada.seal("still the old key?"), "not_ready");
    // ...and asks the holders to serve Cy the old key anyway.
    for (const holder of [ada, bob]) {
      await rejectsWith(assert, holder.answerKeyRequest({ epoch: heldEpoch, create: false, for: [cy.memberId] }), "bad_epoch");
    }
    // Nor with create: true for the epoch already held (that would re-wrap the same key).
    await rejectsWith(assert, ada.answerKeyRequest({ epoch: heldEpoch, create: true, for: [cy.memberId] }), "bad_epoch");
    assert.equal(cy.ready, false);
    // The replayed pre-join message can only wait for a key nobody will give Cy.
    assert.equal(await cy.open(before), null);
  });

  test("a second create for the epoch held is refused: it would replace or re-wrap the key", async () => {
    const { ada, bob } = await keyedPair();
    await rejectsWith(assert, ada.answerKeyRequest({ epoch: ada.epoch, create: true, for: [bob.memberId] }), "bad_epoch");
    assert.equal((await bob.open(await ada.seal("same key as before"))).text, "same key as before");
  });

  test("a holder serves only members the key was made for (key member set)", async () => {
    const room = await joinSessions(["Ada", "Bob", "Cy"]);
    const [ada, bob, cy] = room.sessions;
    // The create request leaves Cy out; a later serve request for the same key must not reach her.
    await deliver(await ada.answerKeyRequest({ epoch: ada.epoch, create: true, for: [bob.memberId] }), room.sessions);
    const served = await ada.answerKeyRequest({ epoch: ada.epoch, create: false, for: [cy.memberId, bob.memberId] });
    assert.deepEqual(served.blobs.map((b) => b.to), [bob.memberId]);
    // Bob accepted it knowing Ada and Cy, so he may serve Cy.
    const fromBob = await bob.answerKeyRequest({ epoch: bob.epoch, create: false, for: [cy.memberId] });
    assert.deepEqual(fromBob.blobs.map((b) => b.to), [cy.memberId]);
  });

  test("a key blob from a non-member is refused", async () => {
    const { room, bob } = await keyedPair();
    // Eve has the link and accepts Bob, but Bob never accepted an announcement from Eve.
    const eve = new RoomSession({ roomId: room.roomId, secret: room.secret });
    await eve.start("Eve");
    await eve.joined({ epoch: bob.epoch, members: room.announcements });
    const payload = await eve.answerKeyRequest({ epoch: bob.epoch + 1, create: true, for: [bob.memberId] });
    assert.equal(payload.blobs.length, 1);
    await rejectsWith(assert, bob.acceptRoomKey(payload.blobs[0]), "not_member");
    assert.equal(bob.epoch, 2);
  });

  test("a key blob with a bad signature is refused", async () => {
    const room = await joinSessions(["Ada", "Bob"]);
    const [ada, bob] = room.sessions;
    const { blobs: [blob] } = await ada.answerKeyRequest({ epoch: 2, create: true, for: [bob.memberId] });
    await rejectsWith(assert, bob.acceptRoomKey({ ...blob, sig: flipBit(blob.sig) }), "bad_sig");
    assert.equal(bob.ready, false);
  });

  test("a key blob addressed to someone else is refused", async () => {
    const room = await joinSessions(["Ada", "Bob", "Cy"]);
    const [ada, bob, cy] = room.sessions;
    const { blobs } = await ada.answerKeyRequest({ epoch: 3, create: true, for: [bob.memberId, cy.memberId] });
    const forBob = blobs.find((b) => b.to === bob.memberId);
    await rejectsWith(assert, cy.acceptRoomKey(forBob), "wrong_recipient");
    assert.equal(cy.ready, false);
  });

  test("a key blob for an older epoch is refused and the newer key kept", async () => {
    const room = await joinSessions(["Ada", "Bob"]);
    const [ada, bob] = room.sessions;
    const old = await ada.answerKeyRequest({ epoch: 2, create: true, for: [bob.memberId] });
    await rekey(ada, room.sessions, 3);
    await rejectsWith(assert, bob.acceptRoomKey(old.blobs[0]), "bad_epoch");
    assert.equal(bob.ready, true);
    assert.equal(bob.epoch, 3);
  });

  test("a second key for an epoch already held does not replace the first", async () => {
    const room = await joinSessions(["Ada", "Bob", "Cy"]);
    const [ada, bob, cy] = room.sessions;
    await rekey(ada, room.sessions, 3);
    for (const s of room.sessions) s.setEpoch(4);
    await deliver(await ada.answerKeyRequest({ epoch: 4, create: true, for: [bob.memberId] }), room.sessions);
    // Cy (misled or malicious) makes a different key for the same epoch and sends it to Bob.
    const rival = await cy.answerKeyRequest({ epoch: 4, create: true, for: [bob.memberId] });
    assert.equal(await bob.acceptRoomKey(rival.blobs[0]), 4);
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
    await rekey(ada, room.sessions);
    // Cy builds a message as if from Ada: the signature is Cy's, Ada's key rejects it.
    const envelope = await cy.seal("I am Ada");
    await rejectsWith(assert, bob.open({ ...envelope, sender: ada.memberId, seq: 99 }), "bad_sig");
  });

  test("a held-back message under the previous epoch is refused after a rekey", async () => {
    const { room, ada, bob } = await keyedPair();
    const heldBack = await ada.seal("before the removal");
    for (const s of room.sessions) s.setEpoch(3); // rekey: bob still holds only epoch 2's key
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
  test("a join and a removal each need a new key: the removed members' key opens nothing new", async () => {
    let clock = 0;
    const room = await joinSessions(["Ada", "Bob"], { now: () => clock });
    const [ada, bob] = room.sessions;
    await rekey(ada, room.sessions);
    assert.equal((await bob.open(await ada.seal("one"))).text, "one");

    const cy = await joinOne(room, "Cy", { now: () => clock });
    const mal = await joinRaw(room, "Mal"); // Bob's accomplice: any client code, keys in hand
    assert.equal(ada.ready || bob.ready || cy.ready, false); // the joins moved everyone past the old key
    const malKey = await rekeyWith(ada, room, mal);
    const fromCy = await cy.seal("hello all");
    assert.equal((await ada.open(fromCy)).text, "hello all");
    assert.equal((await bob.open(fromCy)).name, "Cy");
    const codes = await Promise.all(room.sessions.map((s) => s.safetyCode()));
    assert.equal(new Set(codes).size, 1);

    // Bob and Mal are kicked: everyone left moves on, and Cy makes the next key.
    removeOne(room, bob.memberId);
    removeOne(room, mal.memberId);
    await rekey(cy, room.sessions);
    const secret = await ada.seal("bob must not read this");
    assert.equal((await cy.open(secret)).text, "bob must not read this");

    // Bob's session holds it back waiting for a key that never comes, then rejects it...
    assert.equal(await bob.open(secret), null);
    clock += HOLD_BACK_MS;
    assert.deepEqual(await bob.releaseHeld(), []);
    assert.equal(bob.rejectedCount, 1);
    // ...and the old key, in Mal's hands, does not decrypt it, while it still opens what came before.
    const adaSig = { sigKey: await importSig(room.announcements[0].sig_pub) };
    await rejectsWith(assert, bc.openMessage({ roomId: room.roomId, envelope: secret, roomKey: malKey, sender: adaSig }), "decrypt_failed");
    const cySig = { sigKey: await importSig(room.announcements[1].sig_pub) };
    assert.equal(await bc.openMessage({ roomId: room.roomId, envelope: fromCy, roomKey: malKey, sender: cySig }), "hello all");

    // Messages Bob sends after his removal are refused, and the safety code moved on.
    const lateFromBob = await bob.seal("still here?"); // Bob never heard of his removal
    await rejectsWith(assert, ada.open(lateFromBob), "not_member");
    const codesAfter = await Promise.all(room.sessions.map((s) => s.safetyCode()));
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

/** A member made from bare crypto.js calls (no RoomSession rules): joins the simulated room. */
async function joinRaw(room, name) {
  const linkKeys = await bc.deriveLinkKeys(room.secret, room.roomId);
  const member = { memberId: bc.randomId(), identity: await bc.generateIdentity() };
  const announcement = await bc.sealAnnouncement({ linkKeys, roomId: room.roomId, ...member, name });
  const epoch = serverEpoch(room.sessions) + 1;
  for (const s of room.sessions) {
    assert.ok(await s.addMember(announcement));
    s.setEpoch(epoch);
  }
  room.announcements.push(announcement);
  return member;
}

/** `creator` makes the current epoch's key for every session and the raw member; returns the raw member's copy. */
async function rekeyWith(creator, room, raw) {
  const others = room.sessions.filter((s) => s !== creator).map((s) => s.memberId);
  const payload = await creator.answerKeyRequest({ epoch: creator.floor, create: true, for: [...others, raw.memberId] });
  const forRaw = payload.blobs.find((b) => b.to === raw.memberId);
  await deliver({ blobs: payload.blobs.filter((b) => b !== forRaw) }, room.sessions);
  const linkKeys = await bc.deriveLinkKeys(room.secret, room.roomId);
  const creatorAnn = room.announcements.find((a) => a.member_id === creator.memberId);
  const sender = await bc.openAnnouncement({ linkKeys, roomId: room.roomId, announcement: creatorAnn });
  const { roomKey } = await bc.openRoomKey({ roomId: room.roomId, blob: forRaw, identity: raw.identity, myId: raw.memberId, sender });
  return roomKey;
}

/** Imports a sig_pub for a direct openMessage call. */
function importSig(sigPub) {
  return globalThis.crypto.subtle.importKey("raw", bc.b64uDecode(sigPub), { name: "ECDSA", namedCurve: "P-256" }, true, ["verify"]);
}

describe("epoch floor, removed members and hold-back (security review)", () => {
  test("after member_left without any rekey, old-epoch messages are refused and seal is not_ready", async () => {
    const room = await joinSessions(["Ada", "Bob", "Mallory"]);
    const [ada, bob, mallory] = room.sessions;
    await rekey(ada, room.sessions);
    const fromBob = await bob.seal("sent after the kick");
    // The server says Mallory was kicked but never rekeys (and relays Bob's old-epoch message).
    ada.removeMember(mallory.memberId);
    assert.equal(ada.ready, false);
    assert.equal(ada.floor, ada.epoch + 1);
    await rejectsWith(assert, ada.seal("after the kick"), "not_ready");
    await rejectsWith(assert, ada.open(fromBob), "bad_epoch");
    // The next key is accepted whatever epoch the server gives it, as long as it is above the old one.
    await deliver(await bob.answerKeyRequest({ epoch: ada.floor, create: true, for: [ada.memberId] }), [ada]);
    assert.equal(ada.ready, true);
  });

  test("after member_joined the old key is below the floor, and the server's next key is still fine", async () => {
    const { room, ada, bob } = await keyedPair();
    const old = ada.epoch;
    await joinOne(room, "Cy"); // member_joined then rekey to old + 1
    assert.equal(ada.floor, old + 1);
    assert.equal(ada.ready, false);
    await rekey(bob, room.sessions); // the server's legit key of old + 1
    assert.ok(room.sessions.every((s) => s.ready && s.epoch === old + 1));
  });

  test("a key below the floor is refused", async () => {
    const room = await joinSessions(["Ada", "Bob", "Cy"]);
    const [ada, bob, cy] = room.sessions;
    const payload = await ada.answerKeyRequest({ epoch: ada.epoch, create: true, for: [bob.memberId, cy.memberId] });
    bob.removeMember(cy.memberId); // Bob hears of Cy's removal before the key arrives
    const forBob = payload.blobs.find((b) => b.to === bob.memberId);
    await rejectsWith(assert, bob.acceptRoomKey(forBob), "bad_epoch");
    assert.equal(bob.ready, false);
  });

  test("a replayed announcement of a removed member is flagged, never accepted (review #5)", async () => {
    const room = await joinSessions(["Ada", "Mallory"]);
    const [ada, mallory] = room.sessions;
    const malloryAnn = room.announcements[1];
    assert.equal(ada.removeMember(mallory.memberId), true);
    assert.equal(await ada.addMember(malloryAnn), null);
    assert.equal(ada.flaggedCount, 1);
    assert.equal(ada.member(mallory.memberId), null);
  });

  test("a message that overtakes its key is held back, then shown when the key arrives", async () => {
    const room = await joinSessions(["Ada", "Bob", "Cy"]);
    const [ada, bob, cy] = room.sessions;
    const { blobs } = await ada.answerKeyRequest({ epoch: ada.epoch, create: true, for: [bob.memberId, cy.memberId] });
    await deliver({ blobs: blobs.filter((b) => b.to === bob.memberId) }, room.sessions); // Bob is served first
    const early = await bob.seal("I got the key before you");
    assert.equal(await cy.open(early), null);
    assert.equal(cy.heldCount, 1);
    assert.equal(cy.rejectedCount, 0);
    assert.deepEqual(await cy.releaseHeld(), []); // still no key: it keeps waiting
    await deliver({ blobs: blobs.filter((b) => b.to === cy.memberId) }, room.sessions);
    const shown = await cy.releaseHeld();
    assert.deepEqual(shown.map((m) => [m.name, m.text]), [["Bob", "I got the key before you"]]);
    assert.equal(cy.heldCount, 0);
    assert.equal(cy.rejectedCount, 0);
  });

  test("a held message whose key does not come within 10 s is rejected and counted", async () => {
    let clock = 1000;
    const room = await joinSessions(["Ada", "Bob"], { now: () => clock });
    const [ada, bob] = room.sessions;
    const { blobs } = await ada.answerKeyRequest({ epoch: ada.epoch, create: true, for: [bob.memberId] });
    assert.equal(await bob.open(await ada.seal("too early")), null);
    clock += HOLD_BACK_MS - 1;
    await bob.releaseHeld();
    assert.equal(bob.heldCount, 1);
    clock += 1;
    await bob.releaseHeld();
    assert.equal(bob.heldCount, 0);
    assert.equal(bob.rejectedCount, 1);
    await deliver({ blobs }, room.sessions); // the late key opens nothing that expired
    assert.deepEqual(await bob.releaseHeld(), []);
  });

  test("hold-back keeps at most 64 messages; more are rejected", async () => {
    const room = await joinSessions(["Ada", "Bob"]);
    const [ada, bob] = room.sessions;
    await ada.answerKeyRequest({ epoch: ada.epoch, create: true, for: [] }); // Bob's blob never comes
    for (let i = 0; i < MAX_HELD_MESSAGES; i += 1) assert.equal(await bob.open(await ada.seal(`m${i}`)), null);
    await rejectsWith(assert, bob.open(await ada.seal("one too many")), "not_ready");
    assert.equal(bob.heldCount, MAX_HELD_MESSAGES);
    assert.equal(bob.rejectedCount, 1);
  });

  test("a message under an epoch below the floor is not held back", async () => {
    const { room, ada, bob } = await keyedPair();
    const stale = await ada.seal("old key");
    bob.setEpoch(bob.epoch + 2); // rekeys Bob has no key for
    await rejectsWith(assert, bob.open(stale), "bad_epoch");
    assert.equal(bob.heldCount, 0);
    assert.equal(room.sessions.length, 2);
  });

  test("look-alike names (NFKC, format characters) are disambiguated", async () => {
    const room = await joinSessions(["Ada", "Ad\u200Ba", "\uFF21da", "Ada\u00AD"]);
    assert.deepEqual(room.sessions[0].members().map((m) => m.name), ["Ada", "Ad\u200Ba (2)", "\uFF21da (3)", "Ada\u00AD (4)"]);
  });
});
