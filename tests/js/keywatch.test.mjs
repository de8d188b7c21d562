// A relay that plays with keys (docs/PROTOCOL.md §5.5): a split hidden behind a rekey every few
// seconds, rekeys nothing explains, two keys for one epoch, and a member removed while a key
// was being made or opened. Each is seen by protocol.js, whatever the server says.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { CONFIRM_MS } from "../../static/js/protocol.js";
import { CHURN_REKEYS } from "../../static/js/keywatch.js";
import { fakeClock, joinSessions, rekey, deliver, broadcast, roomKeyEvent, serverEpoch, rejectsWith } from "./sessions.mjs";

/** Moves everyone to a new epoch with `rekey` (no membership change, nobody passed over). */
function rekeyAll(sessions) {
  const epoch = serverEpoch(sessions) + 1;
  for (const s of sessions) s.onRekey({ epoch, creator: null, passed_over: null });
  return epoch;
}

/** One split epoch: A keys its half, C keys its half, each half confirms and chats inside itself only. */
async function splitEpoch([a, b, c, d], round) {
  const epoch = rekeyAll([a, b, c, d]);
  await deliver(await a.answerKeyRequest({ epoch, for: [] }), a.memberId, [b]);
  await deliver(await c.answerKeyRequest({ epoch, for: [] }), c.memberId, [d]);
  for (const [s, half] of [[a, [a, b]], [b, [a, b]], [c, [c, d]], [d, [c, d]]]) await broadcast(s, await s.makeConfirm(), half);
  await broadcast(a, await a.seal(`a ${round}`), [a, b]);
  await broadcast(c, await c.seal(`c ${round}`), [c, d]);
}

describe("split treadmill (§5.5)", () => {
  test("a relay that re-splits every 4 s is still seen: 'not heard from' survives new epochs", async () => {
    const clock = fakeClock();
    const room = await joinSessions(["A", "B", "C", "D"], { now: clock.now });
    const [a, , c] = room.sessions;
    await rekey(a, room.sessions);
    const notices = [];
    for (let round = 0; round < 4; round++) {
      await splitEpoch(room.sessions, round);
      clock.advance(4000);
      notices.push(...a.pendingNotices());
    }
    const unconfirmed = notices.filter((n) => n.kind === "unconfirmed");
    assert.equal(unconfirmed.length, 1, "said once, not once per epoch");
    assert.ok(unconfirmed[0].memberIds.includes(c.memberId));
    assert.ok(a.unconfirmed().includes(c.memberId));
  });

  test("quiet members who confirmed each new key are never flagged", async () => {
    const clock = fakeClock();
    const room = await joinSessions(["A", "B", "C"], { now: clock.now });
    for (let round = 0; round < 4; round++) {
      await rekey(room.sessions[round % 3], room.sessions, serverEpoch(room.sessions) + 1);
      clock.advance(CONFIRM_MS * 2);
      for (const s of room.sessions) {
        assert.deepEqual(s.unconfirmed(), []);
        assert.deepEqual(s.pendingNotices().filter((n) => n.kind === "unconfirmed"), []);
      }
    }
  });

  test(`${CHURN_REKEYS} rekeys with no membership change and nobody passed over: "keeps changing the key" once`, async () => {
    const clock = fakeClock();
    const room = await joinSessions(["A", "B"], { now: clock.now });
    const [a, b] = room.sessions;
    await rekey(a, room.sessions);
    const churn = () => a.pendingNotices().filter((n) => n.kind === "rekey_churn");
    b.onRekey({ epoch: serverEpoch(room.sessions) + 1, creator: null, passed_over: b.memberId }); // one with a reason
    a.onRekey({ epoch: serverEpoch(room.sessions) + 1, creator: null, passed_over: b.memberId });
    for (let i = 1; i < CHURN_REKEYS; i++) {
      rekeyAll(room.sessions);
      clock.advance(4000);
    }
    assert.deepEqual(churn(), [], "below the count");
    rekeyAll(room.sessions);
    assert.equal(churn().length, 1);
    rekeyAll(room.sessions);
    assert.deepEqual(churn(), [], "once per episode");
  });
});

describe("two keys for one epoch (§5.3)", () => {
  test("a second valid key for the epoch held, with another commitment, raises two_keys; the same key again is quiet", async () => {
    const room = await joinSessions(["A", "B", "C"]);
    const [a, b, c] = room.sessions;
    const epoch = serverEpoch(room.sessions);
    for (const s of room.sessions) s.setEpoch(epoch);
    const first = await a.answerKeyRequest({ epoch, for: [] });
    await deliver(first, a.memberId, [b]);
    await rejectsWith(assert, b.acceptRoomKey(roomKeyEvent(first, a.memberId, first.blobs.find((x) => x.to === b.memberId))), "bad_epoch");
    assert.deepEqual(b.pendingNotices().filter((n) => n.kind === "two_keys"), [], "a copy of the key held is no split");
    const second = await c.answerKeyRequest({ epoch, for: [] });
    await rejectsWith(assert, b.acceptRoomKey(roomKeyEvent(second, c.memberId, second.blobs.find((x) => x.to === b.memberId))), "bad_epoch");
    const [notice] = b.pendingNotices().filter((n) => n.kind === "two_keys");
    assert.equal(notice.memberId, c.memberId);
    assert.equal(notice.otherId, a.memberId);
    assert.equal(b.safetyCode().digits, a.safetyCode().digits, "the key held stays");
  });
});

describe("a member removed while a key is made or opened (§5.5)", () => {
  const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

  for (const path of ["accept", "create"]) {
    test(`${path}: the key is dropped as stale, never held with the removed member in its roster`, async () => {
      const outcomes = new Set();
      for (let delay = 0; delay <= 8; delay++) {
        const room = await joinSessions(["A", "B", "X"]);
        const [a, b, x] = room.sessions;
        await rekey(a, room.sessions);
        const epoch = b.epoch + 6; // the server skips `rekey`: B's own epoch stays low
        const delivery = await a.answerKeyRequest({ epoch, for: [] });
        const pending = path === "accept"
          ? b.acceptRoomKey(roomKeyEvent(delivery, a.memberId, delivery.blobs.find((blob) => blob.to === b.memberId)))
          : b.answerKeyRequest({ epoch, for: [] });
        for (let i = 0; i < delay; i++) await tick();
        b.removeMember(x.memberId); // member_left lands mid-await
        const outcome = await pending.then(() => "held", (error) => error.code);
        const roster = b.keyRosterIds() ?? [];
        // Removed before the key was looked at, X is someone the key has and B doesn't see: a mismatch, as for a phantom kick.
        assert.ok(["held", "bad_epoch", "roster_mismatch"].includes(outcome), `delay ${delay}: ${outcome}`);
        // Held before the removal is fine as long as nothing more goes out under it.
        assert.ok(!b.ready || !roster.includes(x.memberId), `delay ${delay}: ready with X in the held roster`);
        outcomes.add(outcome);
      }
      assert.ok(outcomes.has("bad_epoch"), "removed mid-await: dropped as stale (a later epoch comes), not a mismatch");
    });
  }
});
