// protocol.js RoomSession: membership, epochs and the §5-§6 client rules, and the
// issue-10 attack scenarios replayed against sessions by a simulated malicious relay
// (the relay decides who hears what; a colluding sender is built from the primitives).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as bc from "../../static/js/crypto.js";
import { createEpoch } from "../../static/js/epoch.js";
import { sealMessage, ZERO_HASH } from "../../static/js/ratchet.js";
import {
  RoomSession, HOLD_BACK_MS, MAX_HELD_MESSAGES, KEY_MISSING_MS, DIGEST_INTERVAL_MS, DIGEST_GRACE_MS, CONFIRM_MS,
} from "../../static/js/protocol.js";
import { withFixedRandom, sTwin, isLowS } from "./helpers.mjs";
import {
  fakeClock, joinSessions, joinOne, removeOne, serverEpoch, deliver, roomKeyEvent, broadcast, rekey, rejectsWith, announcementOf, flipBit,
} from "./sessions.mjs";

/** A keyed room of `names` (the first makes the key), on a fake clock. */
async function keyedRoom(names) {
  const clock = fakeClock();
  const room = await joinSessions(names, { now: clock.now });
  await rekey(room.sessions[0], room.sessions);
  return { room, clock, sessions: room.sessions };
}

/** Notices of one kind from a list of open() results. */
function noticesOf(results, kind) {
  return results.flatMap((r) => r?.notices ?? []).filter((n) => n.kind === kind);
}

/**
 * A member built from the primitives, who joins first and can sign anything: a colluding
 * sender. It makes the epoch with a fixed E twice, so it holds two identical copies of its
 * own chain and can send different messages under one seq.
 */
async function colludingRoom(names) {
  const clock = fakeClock();
  const roomId = bc.randomId(), secret = bc.randomId();
  const linkKeys = await bc.deriveLinkKeys(secret, roomId);
  const x = { memberId: bc.randomId(), identity: await bc.generateIdentity() };
  x.announcement = await bc.sealAnnouncement({ linkKeys, roomId, memberId: x.memberId, identity: x.identity, name: "Xavier" });
  const room = { roomId, secret, sessions: [], announcements: [x.announcement] };
  for (const name of names) await joinOne(room, name, { now: clock.now });
  const opened = await Promise.all(room.announcements.map((announcement) => bc.openAnnouncement({ linkKeys, roomId, announcement })));
  const epoch = serverEpoch(room.sessions);
  const E = globalThis.crypto.getRandomValues(new Uint8Array(32));
  const make = () => withFixedRandom([E.slice()], () => createEpoch({ roomId, epoch, identity: x.identity, creatorId: x.memberId, roster: opened }));
  const [first, twin] = [await make(), await make()];
  await deliver(first.delivery, x.memberId, room.sessions);
  for (const s of room.sessions) await broadcast(s, await s.makeConfirm(), room.sessions);
  x.chains = [first.keys.chains.get(x.memberId), twin.keys.chains.get(x.memberId)];
  x.prev = [ZERO_HASH, ZERO_HASH];
  /** Seals `body` on copy `which` of X's chain (with that copy's prev unless given). */
  x.seal = async (body, which = 0, prev = x.prev[which]) => {
    const { envelope, hash } = await sealMessage({ roomId, epoch, chain: x.chains[which], identity: x.identity, sender: x.memberId, prev, body });
    x.prev[which] = hash;
    return envelope;
  };
  const confirm = await x.seal({ t: "confirm" }, 0);
  await x.seal({ t: "confirm" }, 1, ZERO_HASH);
  x.prev[1] = x.prev[0];
  for (const s of room.sessions) await s.open(confirm);
  return { room, clock, x, epoch, sessions: room.sessions };
}

const text = (t, after = null) => ({ t: "text", text: t, after, me: false });

describe("joining and members", () => {
  test("start returns a v2 join payload; joined lists earlier members then us", async () => {
    const room = await joinSessions(["Ada", "Bob", "Cy"]);
    const [ada, , cy] = room.sessions;
    assert.deepEqual(cy.members().map((m) => [m.name, m.isSelf]), [["Ada", false], ["Bob", false], ["Cy", true]]);
    assert.equal(ada.members().length, 3);
    const payload = await new RoomSession({ roomId: room.roomId, secret: room.secret }).start("Dee");
    assert.deepEqual(Object.keys(payload).sort(), ["ecdh_pub", "enc_name", "join_key", "mac", "member_id", "resume_hash", "room", "sig_pub", "v"]);
    assert.equal(payload.v, 2);
    assert.equal(payload.enc_name.length, 214);
    assert.equal(payload.join_key, (await bc.deriveJoinKey(room.secret)).joinKey);
  });

  test("a broken link or name is refused up front; a v1 join ack is bad_version", async () => {
    assert.throws(() => new RoomSession({ roomId: "short", secret: bc.randomId() }), { code: "bad_encoding" });
    await rejectsWith(assert, new RoomSession({ roomId: bc.randomId(), secret: bc.randomId() }).start(" "), "bad_name");
    const s = new RoomSession({ roomId: bc.randomId(), secret: bc.randomId() });
    await s.start("Ada");
    await rejectsWith(assert, s.joined({ v: 1, epoch: 1, members: [] }), "bad_version");
  });

  test("look-alike names are numbered by member ID order (the lowest plain) and marked duplicate", async () => {
    const room = await joinSessions(["Sam", "Sam", "S\u200bam", "Kim", "ｓam".normalize("NFC")]);
    const listed = room.sessions[0].members();
    const sams = listed.slice(0, 3).map((m) => m.memberId).sort();
    const byId = new Map(listed.map((m) => [m.memberId, m]));
    assert.deepEqual(sams.map((id) => byId.get(id).name.replace("\u200b", "")), ["Sam", "Sam (2)", "Sam (3)"]);
    assert.deepEqual(listed.map((m) => m.duplicate), [true, true, true, false, false]);
  });

  test("tampered, foreign, duplicate and removed announcements are flagged, never accepted", async () => {
    const room = await joinSessions(["Ada", "Bob"]);
    const [ada, bob] = room.sessions;
    const mallory = new RoomSession({ roomId: room.roomId, secret: room.secret });
    const good = announcementOf(await mallory.start("Mallory"));
    assert.equal(await ada.addMember({ ...good, ecdh_pub: (await bc.generateIdentity()).ecdhPub }), null);
    assert.equal(await ada.addMember(room.announcements[1]), null, "already accepted");
    assert.equal(await ada.addMember(room.announcements[0]), null, "our own");
    assert.ok(await ada.addMember(good));
    ada.removeMember(good.member_id);
    assert.equal(await ada.addMember(good), null, "removed stays removed");
    assert.equal(ada.flaggedCount, 4);
    assert.equal(bob.flaggedCount, 0);
  });
});

describe("epochs (§5)", () => {
  test("not ready until a key of the floor's epoch is held; seal waits for the confirm", async () => {
    const room = await joinSessions(["Ada", "Bob"]);
    const [ada, bob] = room.sessions;
    assert.equal(bob.ready, false);
    await rejectsWith(assert, bob.seal("hi"), "not_ready");
    const delivery = await ada.answerKeyRequest({ epoch: serverEpoch(room.sessions), for: [bob.memberId] });
    await deliver(delivery, ada.memberId, room.sessions);
    assert.ok(bob.ready);
    await rejectsWith(assert, bob.seal("hi"), "not_ready");
    const confirm = await bob.makeConfirm();
    assert.equal(confirm.seq, 1);
    assert.equal(await bob.makeConfirm(), null, "once per epoch");
    assert.deepEqual(await ada.open(confirm), { confirm: true, notices: [] });
    assert.equal((await bob.seal("hi")).seq, 2);
    assert.deepEqual(bob.keyRosterIds(), [ada.memberId, bob.memberId].sort());
  });

  test("answerKeyRequest: the same payload when asked again for its epoch; never an older or a second key", async () => {
    const { sessions: [ada, bob] } = await keyedRoom(["Ada", "Bob"]);
    const epoch = ada.epoch;
    const again = await ada.answerKeyRequest({ epoch, for: [bob.memberId] });
    const once = await ada.answerKeyRequest({ epoch, for: [bob.memberId] });
    assert.deepEqual(again, once);
    await rejectsWith(assert, bob.answerKeyRequest({ epoch, for: [ada.memberId] }), "bad_epoch");
    await rejectsWith(assert, ada.answerKeyRequest({ epoch: epoch - 1, for: [bob.memberId] }), "bad_epoch");
  });

  test("a second key for the epoch held, and a key below the floor, are refused as stale", async () => {
    const room = await joinSessions(["Ada", "Bob", "Cy"]);
    const [ada, bob, cy] = room.sessions;
    const epoch = serverEpoch(room.sessions);
    const first = await ada.answerKeyRequest({ epoch, for: [] });
    const rival = await cy.answerKeyRequest({ epoch, for: [] }); // a relay asks two creators for one epoch
    const blobFor = (d, s) => d.blobs.find((b) => b.to === s.memberId);
    await bob.acceptRoomKey(roomKeyEvent(first, ada.memberId, blobFor(first, bob)));
    const code = bob.safetyCode();
    await rejectsWith(assert, bob.acceptRoomKey(roomKeyEvent(rival, cy.memberId, blobFor(rival, bob))), "bad_epoch");
    assert.deepEqual(bob.safetyCode(), code, "one epoch never has two keys");
    // Below the floor: a leave raised it past every key made so far.
    const stale = await cy.answerKeyRequest({ epoch, for: [] }); // the same payload again
    const fresh = new RoomSession({ roomId: room.roomId, secret: room.secret });
    await fresh.start("Dee");
    bob.removeMember(ada.memberId);
    await rejectsWith(assert, bob.acceptRoomKey(roomKeyEvent(stale, cy.memberId, blobFor(stale, bob))), "bad_epoch");
  });

  test("a key blob that is not for us, from a non-member or badly signed is refused", async () => {
    const room = await joinSessions(["Ada", "Bob", "Cy"]);
    const [ada, bob, cy] = room.sessions;
    const delivery = await ada.answerKeyRequest({ epoch: serverEpoch(room.sessions), for: [] });
    const event = roomKeyEvent(delivery, ada.memberId, delivery.blobs.find((b) => b.to === bob.memberId));
    await rejectsWith(assert, cy.acceptRoomKey(event), "wrong_recipient");
    await rejectsWith(assert, bob.acceptRoomKey({ ...event, from: bc.randomId() }), "not_member");
    await rejectsWith(assert, bob.acceptRoomKey({ ...event, sig: sTwin(event.sig) }), "bad_sig");
    assert.equal(bob.ready, false);
    assert.equal(await bob.acceptRoomKey(event), delivery.epoch);
  });

  test("after member_left without a rekey the old key is below the floor: its messages are refused, seal is not_ready", async () => {
    const { room, sessions: [ada, bob, cy] } = await keyedRoom(["Ada", "Bob", "Cy"]);
    const envelope = await cy.seal("still here?");
    removeOne(room, cy.memberId);
    assert.equal(ada.ready, false);
    await rejectsWith(assert, ada.seal("x"), "not_ready");
    await rejectsWith(assert, ada.open(envelope), "not_member");
    await rekey(ada, [ada, bob]);
    assert.ok(ada.ready && bob.ready);
    assert.equal(ada.keyRosterIds().includes(cy.memberId), false);
  });

  test("after member_joined the old key is below the floor: a newcomer never gets a key used before it came", async () => {
    const { room, sessions: [ada, bob] } = await keyedRoom(["Ada", "Bob"]);
    const old = await bob.seal("before cy");
    // member_joined without any rekey (a relay that wants cy on the old key): ada stops using it at once.
    const cyAnnouncement = announcementOf(await new RoomSession({ roomId: room.roomId, secret: room.secret }).start("Cy"));
    await ada.addMember(cyAnnouncement);
    assert.equal(ada.ready, false);
    await rejectsWith(assert, ada.seal("x"), "not_ready");
    await rejectsWith(assert, ada.open(old), "bad_epoch");
    ada.removeMember(cyAnnouncement.member_id);
    const cy = await joinOne(room, "Cy");
    await rejectsWith(assert, ada.answerKeyRequest({ epoch: old.epoch, for: [] }), "bad_epoch");
    await rekey(ada, room.sessions);
    assert.ok(ada.ready && bob.ready && cy.ready);
    assert.ok(ada.keyRosterIds().includes(cy.memberId));
  });

  test("a message that overtakes its key is held back and shown when the key arrives; 10 s later it is dropped", async () => {
    const { room, clock, sessions: [ada, bob, cy] } = await keyedRoom(["Ada", "Bob", "Cy"]);
    const epoch = serverEpoch(room.sessions) + 1;
    for (const s of room.sessions) s.setEpoch(epoch);
    const delivery = await ada.answerKeyRequest({ epoch, for: [] });
    await deliver(delivery, ada.memberId, [bob]);
    await bob.makeConfirm();
    const early = await bob.seal("early");
    await ada.makeConfirm();
    assert.equal(await cy.open(early), null);
    assert.equal(cy.heldCount, 1);
    await deliver(delivery, ada.memberId, [cy]);
    const [shown] = await cy.releaseHeld();
    assert.equal(shown.text, "early");
    assert.deepEqual(noticesOf([shown], "gap"), [{ kind: "gap", memberId: bob.memberId, count: 1, otherId: null }], "bob's confirm never reached cy");
    // Held past HOLD_BACK_MS: rejected.
    const later = epoch + 1;
    for (const s of room.sessions) s.setEpoch(later);
    const next = await bob.answerKeyRequest({ epoch: later, for: [] });
    await deliver(next, bob.memberId, [ada]);
    await ada.makeConfirm();
    assert.equal(await cy.open(await ada.seal("too early")), null);
    clock.advance(HOLD_BACK_MS);
    await deliver(next, bob.memberId, [cy]);
    const before = cy.rejectedCount;
    assert.deepEqual(await cy.releaseHeld(), []);
    assert.equal(cy.rejectedCount, before + 1);
  });

  test("hold-back keeps at most 64 messages", async () => {
    const { room, sessions: [ada, bob] } = await keyedRoom(["Ada", "Bob"]);
    const epoch = serverEpoch(room.sessions) + 1;
    ada.setEpoch(epoch);
    bob.setEpoch(epoch);
    await ada.answerKeyRequest({ epoch, for: [] });
    await ada.makeConfirm();
    for (let i = 0; i < MAX_HELD_MESSAGES; i++) assert.equal(await bob.open(await ada.seal(`m${i}`)), null);
    await rejectsWith(assert, bob.open(await ada.seal("one more")), "not_ready");
    assert.equal(bob.heldCount, MAX_HELD_MESSAGES);
  });

  test("keyMissing: after 3 s without a usable key, the epoch once; never while ready", async () => {
    const clock = fakeClock();
    const room = await joinSessions(["Ada", "Bob"], { now: clock.now });
    const [, bob] = room.sessions;
    assert.equal(bob.keyMissing(), null);
    clock.advance(KEY_MISSING_MS - 1);
    assert.equal(bob.keyMissing(), null);
    clock.advance(1);
    assert.equal(bob.keyMissing(), bob.epoch);
    assert.equal(bob.keyMissing(), null, "once per epoch");
    bob.onRekey({ epoch: bob.epoch + 1, creator: bob.memberId, passed_over: room.sessions[0].memberId });
    assert.equal(bob.keyMissing(), null, "a new epoch starts a new wait");
    clock.advance(KEY_MISSING_MS);
    assert.equal(bob.keyMissing(), bob.epoch);
    await rekey(bob, room.sessions);
    clock.advance(10 * KEY_MISSING_MS);
    assert.equal(bob.keyMissing(), null);
  });

  test("onRekey counts passed_over per member: from the second time it names the member", async () => {
    const room = await joinSessions(["Ada", "Bob", "Cy"]);
    const [ada, bob, cy] = room.sessions;
    assert.deepEqual(cy.onRekey({ epoch: 10, creator: bob.memberId, passed_over: ada.memberId }), { passedOverTwice: null });
    assert.deepEqual(cy.onRekey({ epoch: 11, creator: cy.memberId, passed_over: bob.memberId }), { passedOverTwice: null });
    assert.equal(cy.onRekey({ epoch: 12, creator: bob.memberId, passed_over: ada.memberId }).passedOverTwice.name, "Ada");
    assert.equal(cy.onRekey({ epoch: 13, creator: bob.memberId, passed_over: null }).passedOverTwice, null);
    assert.equal(cy.epoch, 13);
  });

  test("the kicking admin makes the next epoch itself: its key's roster excludes the kicked member", async () => {
    const { room, sessions: [admin, bob, kicked] } = await keyedRoom(["Admin", "Bob", "Kim"]);
    const epoch = removeOne(room, kicked.memberId);
    const delivery = await admin.answerKeyRequest({ epoch, for: [bob.memberId] });
    assert.equal(delivery.blobs.some((b) => b.to === kicked.memberId), false);
    assert.equal(admin.keyRosterIds().includes(kicked.memberId), false);
    await deliver(delivery, admin.memberId, [bob]);
    assert.equal(bob.safetyCode().digits, admin.safetyCode().digits);
  });
});

describe("messages (§6)", () => {
  test("round trip with name, me, seq and the hash chain; every signature low-s", async () => {
    const { sessions: [ada, bob] } = await keyedRoom(["Ada", "Bob"]);
    const first = await ada.seal("hello");
    const second = await ada.seal("waves", { me: true });
    assert.ok(isLowS(first.sig) && isLowS(second.sig));
    assert.equal(first.seq, 2, "seq 1 was the confirm");
    const got = await bob.open(first);
    assert.deepEqual([got.name, got.text, got.me, got.late, got.outOfOrder, got.notices], ["Ada", "hello", false, false, false, []]);
    assert.equal((await bob.open(second)).me, true);
  });

  test("a high-s twin, a v1 envelope, our own, a non-member's and an altered copy are refused and counted; an exact copy is ignored", async () => {
    const { sessions: [ada, bob] } = await keyedRoom(["Ada", "Bob"]);
    const envelope = await ada.seal("hi");
    await rejectsWith(assert, bob.open({ ...envelope, sig: sTwin(envelope.sig) }), "bad_sig");
    await rejectsWith(assert, bob.open({ ...envelope, v: 1 }), "bad_version");
    await rejectsWith(assert, bob.open({ ...envelope, ct: flipBit(envelope.ct) }), "bad_sig");
    await rejectsWith(assert, ada.open(envelope), "not_member");
    await rejectsWith(assert, bob.open({ ...envelope, sender: bc.randomId() }), "not_member");
    await bob.open(envelope);
    // An exact copy (a resend whose first copy arrived, §6.6) is ignored, not shown, not counted.
    assert.deepEqual(await bob.open(envelope), { ignored: true, duplicate: true, notices: [] });
    // The same seq with another body is no copy: the chain refuses it as a replay.
    const other = await ada.seal("hi again");
    await rejectsWith(assert, bob.open({ ...other, seq: envelope.seq, prev: envelope.prev }), "bad_sig");
    assert.equal(bob.rejectedCount, 5);
    assert.equal(ada.rejectedCount, 1);
  });

  test("the same message opened twice at once is shown once", async () => {
    const { sessions: [ada, bob] } = await keyedRoom(["Ada", "Bob"]);
    const envelope = await ada.seal("once");
    const results = await Promise.all([bob.open(envelope), bob.open(envelope)]);
    assert.deepEqual(results.map((r) => [r.text, r.duplicate]), [["once", undefined], [undefined, true]]);
  });

  test("seal refuses empty and oversize texts without using a seq", async () => {
    const { sessions: [ada, bob] } = await keyedRoom(["Ada", "Bob"]);
    await rejectsWith(assert, ada.seal(""), "empty");
    await rejectsWith(assert, ada.seal("x".repeat(4097)), "too_long");
    await rejectsWith(assert, ada.seal("\\".repeat(4096)), "too_long");
    const ok = await ada.seal("x".repeat(4096));
    assert.equal(ok.seq, 2);
    assert.deepEqual((await bob.open(ok)).notices, []);
  });

  test("padding: ciphertexts of texts of different lengths in one class have equal lengths", async () => {
    const { sessions: [ada] } = await keyedRoom(["Ada", "Bob"]);
    const lengths = [];
    for (const t of ["k", "ok, see you there", "x".repeat(120)]) lengths.push((await ada.seal(t)).ct.length);
    assert.equal(new Set(lengths).size, 1);
    assert.notEqual((await ada.seal("x".repeat(300))).ct.length, lengths[0]);
  });

  test("split: a message from the other half's epoch key fails to decrypt and is counted", async () => {
    const { sessions: [ada, bob, , dee] } = await splitRoom();
    const fromAda = await ada.seal("to everyone");
    await rejectsWith(assert, dee.open(fromAda), "decrypt_failed");
    assert.equal(dee.rejectedCount, 1);
    assert.equal((await bob.open(fromAda)).text, "to everyone");
  });
});

/** Ada, Bob, Cy, Dee; a relay split: Ada keys Bob only, Cy keys Dee only, one epoch, traffic between halves dropped. */
async function splitRoom() {
  const clock = fakeClock();
  const room = await joinSessions(["Ada", "Bob", "Cy", "Dee"], { now: clock.now });
  const [ada, bob, cy, dee] = room.sessions;
  const epoch = serverEpoch(room.sessions);
  await deliver(await ada.answerKeyRequest({ epoch, for: [bob.memberId] }), ada.memberId, [bob]);
  await deliver(await cy.answerKeyRequest({ epoch, for: [dee.memberId] }), cy.memberId, [dee]);
  for (const [s, half] of [[ada, [ada, bob]], [bob, [ada, bob]], [cy, [cy, dee]], [dee, [cy, dee]]]) await broadcast(s, await s.makeConfirm(), half);
  return { room, clock, sessions: room.sessions };
}

describe("attacks: the safety code (issue 10, 1)", () => {
  test("everyone holding the epoch shows the same 40-digit code and QR; a scanned QR compares whole", async () => {
    const { sessions } = await keyedRoom(["Ada", "Bob", "Cy"]);
    const codes = sessions.map((s) => s.safetyCode());
    assert.match(codes[0].digits, /^(\d{5} ){7}\d{5}$/);
    assert.equal(codes[0].digits.replace(/ /g, "").length, 40);
    for (const c of codes) assert.deepEqual(c, codes[0]);
    assert.equal(codes[0].qr.split(":")[3], String(codes[0].epoch));
  });

  test("split: two creators in one epoch, each keying half - both halves accept, but the codes differ and unconfirmed() names the other half", async () => {
    const { clock, sessions: [ada, bob, cy, dee] } = await splitRoom();
    assert.ok(ada.ready && bob.ready && cy.ready && dee.ready);
    assert.equal(ada.safetyCode().digits, bob.safetyCode().digits);
    assert.equal(cy.safetyCode().digits, dee.safetyCode().digits);
    assert.notEqual(ada.safetyCode().digits, dee.safetyCode().digits);
    assert.deepEqual(bob.unconfirmed(), []);
    clock.advance(CONFIRM_MS);
    assert.deepEqual(bob.unconfirmed().sort(), [cy.memberId, dee.memberId].sort());
    const [notice] = bob.pendingNotices();
    assert.equal(notice.kind, "unconfirmed");
    assert.deepEqual(notice.memberIds.sort(), [cy.memberId, dee.memberId].sort());
    assert.deepEqual(bob.pendingNotices(), [], "said once");
  });
});

describe("attacks: roster mismatch (issue 10, 2-3)", () => {
  /** The roster_mismatch detail `session` raises on `event`. */
  async function mismatchOf(session, event) {
    try {
      await session.acceptRoomKey(event);
    } catch (error) {
      assert.equal(error.code, "roster_mismatch");
      return error.detail;
    }
    return assert.fail("a key for another roster was accepted");
  }

  test("phantom kick: the admin is told K left, another member who still sees K makes the key - K is unseen by the admin", async () => {
    const { room, sessions: [admin, bob, k] } = await keyedRoom(["Admin", "Bob", "Kim"]);
    const before = admin.keyRosterIds();
    admin.removeMember(k.memberId); // member_left sent to the admin only
    const epoch = serverEpoch(room.sessions) + 1;
    for (const s of room.sessions) s.setEpoch(epoch);
    const delivery = await bob.answerKeyRequest({ epoch, for: [admin.memberId, k.memberId] });
    const blob = delivery.blobs.find((b) => b.to === admin.memberId);
    assert.deepEqual(await mismatchOf(admin, roomKeyEvent(delivery, bob.memberId, blob)), { unseen: [k.memberId], left_out: [], differs: [] });
    assert.deepEqual(admin.keyRosterIds(), before, "the admin holds no key without K: its page keeps saying Removing...");
    assert.ok(admin.keyRosterIds().includes(k.memberId));
    await deliver(delivery, bob.memberId, [k]);
    assert.ok(k.ready, "the kicked member would read everything - which is why the admin is warned");
  });

  test("phantom kick, other side: the admin's key leaves K out while Bob still sees K - left_out", async () => {
    const { room, sessions: [admin, bob, k] } = await keyedRoom(["Admin", "Bob", "Kim"]);
    admin.removeMember(k.memberId);
    const epoch = serverEpoch(room.sessions) + 1;
    for (const s of room.sessions) s.setEpoch(epoch);
    const delivery = await admin.answerKeyRequest({ epoch, for: [bob.memberId] });
    assert.deepEqual(await mismatchOf(bob, roomKeyEvent(delivery, admin.memberId, delivery.blobs[0])), { unseen: [], left_out: [k.memberId], differs: [] });
  });

  test("ghost: a member only the creator was shown is unseen by everyone else", async () => {
    const { room, sessions: [ada, bob, cy] } = await keyedRoom(["Ada", "Bob", "Cy"]);
    const ghost = new RoomSession({ roomId: room.roomId, secret: room.secret });
    const ghostAnnouncement = announcementOf(await ghost.start("Ghost"));
    await ada.addMember(ghostAnnouncement); // the relay shows the ghost to ada alone
    const epoch = serverEpoch(room.sessions) + 1;
    for (const s of room.sessions) s.setEpoch(epoch);
    const delivery = await ada.answerKeyRequest({ epoch, for: [bob.memberId, cy.memberId] });
    for (const s of [bob, cy]) {
      const blob = delivery.blobs.find((b) => b.to === s.memberId);
      assert.deepEqual(await mismatchOf(s, roomKeyEvent(delivery, ada.memberId, blob)), { unseen: [ghostAnnouncement.member_id], left_out: [], differs: [] });
      assert.equal(s.ready, false);
    }
  });

  test("name swap: a link-holder shows a newcomer two members' names swapped - differs names both", async () => {
    const { room, sessions: [ada, bob] } = await keyedRoom(["Ada", "Bob"]);
    const linkKeys = await bc.deriveLinkKeys(room.secret, room.roomId);
    const [annA, annB] = room.announcements;
    const swapped = async (ann, name) => bc.sealAnnouncement({
      linkKeys, roomId: room.roomId, memberId: ann.member_id, identity: { ecdhPub: ann.ecdh_pub, sigPub: ann.sig_pub }, name,
    });
    const newcomer = new RoomSession({ roomId: room.roomId, secret: room.secret });
    const newAnn = announcementOf(await newcomer.start("Newt"));
    const epoch = serverEpoch(room.sessions) + 1;
    await newcomer.joined({ v: 2, epoch, members: [await swapped(annA, "Bob"), await swapped(annB, "Ada")] });
    assert.deepEqual(newcomer.members().map((m) => m.name), ["Bob", "Ada", "Newt"]);
    for (const s of [ada, bob]) {
      await s.addMember(newAnn);
      s.setEpoch(epoch);
    }
    const delivery = await ada.answerKeyRequest({ epoch, for: [bob.memberId, newcomer.memberId] });
    const blob = delivery.blobs.find((b) => b.to === newcomer.memberId);
    const detail = await mismatchOf(newcomer, roomKeyEvent(delivery, ada.memberId, blob));
    assert.deepEqual(detail, { unseen: [], left_out: [], differs: [ada.memberId, bob.memberId].sort() });
  });
});

describe("attacks: the transcript (issue 10, 4)", () => {
  test("a dropped message: a gap notice with its count; the next in order is quiet", async () => {
    const { sessions: [ada, bob] } = await keyedRoom(["Ada", "Bob"]);
    const [m1, , , m4, m5] = [await ada.seal("1"), await ada.seal("2"), await ada.seal("3"), await ada.seal("4"), await ada.seal("5")];
    assert.deepEqual((await bob.open(m1)).notices, []);
    const got = await bob.open(m4);
    assert.deepEqual(got.notices, [{ kind: "gap", memberId: ada.memberId, count: 2, otherId: null }]);
    assert.deepEqual((await bob.open(m5)).notices, []);
  });

  test("a late message (its skipped key still held) opens once, marked late", async () => {
    const { sessions: [ada, bob] } = await keyedRoom(["Ada", "Bob"]);
    const [m1, m2, m3] = [await ada.seal("1"), await ada.seal("2"), await ada.seal("3")];
    await bob.open(m1);
    assert.equal(noticesOf([await bob.open(m3)], "gap")[0].count, 1);
    const late = await bob.open(m2);
    assert.equal(late.late, true);
    // m3 named m2 as its `after`, so m2 also arrived after a reply to it.
    assert.deepEqual(late.notices.map((n) => n.kind), ["late", "reorder"]);
    assert.equal(late.notices[0].memberId, ada.memberId);
    assert.equal((await bob.open(m2)).duplicate, true); // shown once
  });

  test("reorder across senders: the reply is shown out of order, the question then arrives after the replies to it", async () => {
    const { sessions: [ada, bob, cy] } = await keyedRoom(["Ada", "Bob", "Cy"]);
    const question = await ada.seal("Are we on for tonight?");
    await bob.open(question);
    const answer = await bob.seal("YES");
    const reply = await cy.open(answer); // the relay holds the question back from cy
    assert.equal(reply.outOfOrder, true);
    const q = await cy.open(question);
    assert.equal(q.afterReplies, true);
    assert.deepEqual(noticesOf([q], "reorder"), [{ kind: "reorder", memberId: ada.memberId, count: null, otherId: null }]);
    // In order for bob's own view: no flags.
    assert.equal((await ada.open(answer)).outOfOrder, false);
  });

  test("equivocation: a colluding sender shows YES to one member and NO to another under the same seq - both see it via digests", async () => {
    const { x, sessions: [ada, bob] } = await colludingRoom(["Ada", "Bob"]);
    const yes = await x.seal(text("YES"), 0);
    const no = await x.seal(text("NO"), 1);
    assert.equal(yes.seq, no.seq);
    assert.equal((await ada.open(yes)).text, "YES");
    assert.equal((await bob.open(no)).text, "NO");
    const fromAda = await ada.makeDigest();
    const fromBob = await bob.makeDigest();
    const atBob = await bob.open(fromAda);
    const atAda = await ada.open(fromBob);
    assert.equal(atBob.digest, true);
    assert.deepEqual(noticesOf([atBob], "equivocation"), [{ kind: "equivocation", memberId: x.memberId, count: null, otherId: ada.memberId }]);
    assert.deepEqual(noticesOf([atAda], "equivocation"), [{ kind: "equivocation", memberId: x.memberId, count: null, otherId: bob.memberId }]);
  });

  test("fork: the next seq with a prev that is not the last hash seen", async () => {
    const { x, sessions: [ada] } = await colludingRoom(["Ada"]);
    const forked = await x.seal(text("rewritten history"), 0, bc.b64uEncode(new Uint8Array(32).fill(7)));
    assert.deepEqual((await ada.open(forked)).notices, [{ kind: "fork", memberId: x.memberId, count: null, otherId: null }]);
  });

  test("forged_self: a digest claims a message in our name we never sent", async () => {
    const { x, epoch, sessions: [ada] } = await colludingRoom(["Ada"]);
    await ada.seal("mine");
    const fake = bc.b64uEncode(new Uint8Array(32).fill(9));
    const result = await ada.open(await x.seal({ t: "digest", heads: [[ada.memberId, epoch, 2, fake]] }));
    assert.deepEqual(noticesOf([result], "forged_self"), [{ kind: "forged_self", memberId: ada.memberId, count: null, otherId: x.memberId }]);
  });

  test("a dropped tail seen only through a digest: a gap after the grace period, none if it arrives in time", async () => {
    const { clock, sessions: [ada, bob, cy] } = await keyedRoom(["Ada", "Bob", "Cy"]);
    const dropped = await ada.seal("only bob gets this");
    await bob.open(dropped);
    const digest = await bob.makeDigest();
    assert.deepEqual(noticesOf([await cy.open(digest)], "gap"), []);
    clock.advance(DIGEST_GRACE_MS - 1);
    assert.deepEqual(cy.pendingNotices(), []);
    clock.advance(1);
    assert.deepEqual(cy.pendingNotices(), [{ kind: "gap", memberId: ada.memberId, count: 1, otherId: bob.memberId }]);
    assert.deepEqual(cy.pendingNotices(), []);
    // In time: ada's next message reaches both, bob's digest, then the message itself.
    const next = await ada.seal("everyone");
    await bob.open(next);
    clock.advance(DIGEST_INTERVAL_MS);
    const second = await bob.makeDigest();
    await ada.open(second);
    clock.advance(DIGEST_GRACE_MS - 1);
    assert.deepEqual((await cy.open(next)).notices, []);
    clock.advance(DIGEST_GRACE_MS);
    assert.deepEqual(ada.pendingNotices(), []);
  });

  test("digests: only after a text, at most every 5 s; digests do not cause digests", async () => {
    const { clock, sessions: [ada, bob] } = await keyedRoom(["Ada", "Bob"]);
    assert.equal(await ada.makeDigest(), null, "nothing shown or sent yet");
    await bob.open(await ada.seal("hi"));
    const digest = await ada.makeDigest();
    assert.ok(digest);
    assert.equal(await ada.makeDigest(), null, "nothing new since");
    clock.advance(DIGEST_INTERVAL_MS - 1);
    await ada.seal("more");
    assert.equal(await ada.makeDigest(), null, "too soon");
    clock.advance(1);
    assert.ok(await ada.makeDigest());
    assert.deepEqual((await bob.open(digest)).notices, []);
    const fromBob = await bob.makeDigest(); // bob has shown ada's text
    assert.ok(fromBob);
    clock.advance(DIGEST_INTERVAL_MS);
    assert.equal(await bob.makeDigest(), null, "bob received only a digest since");
  });
});

describe("wipe", () => {
  test("forgets keys, chains, members and counters", async () => {
    const { sessions: [ada, bob] } = await keyedRoom(["Ada", "Bob"]);
    const envelope = await ada.seal("hi");
    bob.wipe();
    assert.equal(bob.ready, false);
    assert.deepEqual(bob.members(), []);
    assert.equal(bob.safetyCode(), null);
    assert.equal(bob.keyRosterIds(), null);
    assert.equal(bob.memberId, null);
    await assert.rejects(bob.open(envelope));
    await rejectsWith(assert, bob.seal("x"), "not_ready");
  });
});
