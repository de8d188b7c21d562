// Transcript digests from a lying member (docs/PROTOCOL.md §6.5): a made-up head never moves the
// chain we check, so it can't switch off gap and fork detection for that sender.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { DIGEST_GRACE_MS, DIGEST_INTERVAL_MS } from "../../static/js/protocol.js";
import { Transcript } from "../../static/js/transcript.js";
import { fakeClock, joinSessions, rekey } from "./sessions.mjs";

/** Notices of `kind` in open() results. */
const kinds = (results, kind) => results.flatMap((r) => r?.notices ?? []).filter((n) => n.kind === kind);

/** Mallory's digest carrying exactly `heads` (her client would never make it; her code can). */
async function forgedDigest(mallory, heads) {
  const real = Transcript.prototype.heads;
  Transcript.prototype.heads = () => heads;
  try {
    return await mallory.makeDigest();
  } finally {
    Transcript.prototype.heads = real;
  }
}

describe("digest heads (§6.5)", () => {
  test("a fake head beyond the epoch held is ignored; later drops are still gaps, and an honest digest still finds them", async () => {
    const clock = fakeClock();
    const room = await joinSessions(["Mallory", "Bob", "Xavier", "Carol"], { now: clock.now });
    const [mallory, bob, xavier, carol] = room.sessions;
    await rekey(mallory, room.sessions);
    const epoch = bob.safetyCode().epoch;
    const send = async (text, to) => {
      const envelope = await xavier.seal(text);
      return Promise.all(to.map((s) => s.open(envelope)));
    };
    await send("x1", [bob, mallory, carol]);
    clock.advance(DIGEST_INTERVAL_MS);
    await bob.open(await forgedDigest(mallory, [[xavier.memberId, epoch + 1000, 1, "A".repeat(43)]]));
    clock.advance(DIGEST_GRACE_MS);
    assert.deepEqual(bob.pendingNotices().filter((n) => n.kind === "gap"), [], "no gap for an epoch that doesn't exist yet");
    for (let i = 2; i <= 4; i++) await send(`x${i}`, [mallory, carol]); // the relay drops x2..x4 for Bob
    const [atBob] = await send("x5", [bob, mallory, carol]);
    assert.deepEqual(kinds([atBob], "gap").map((n) => n.count), [3]);
    assert.deepEqual(kinds([atBob], "late"), []);
    for (let i = 6; i <= 7; i++) await send(`x${i}`, [mallory, carol]);
    clock.advance(DIGEST_INTERVAL_MS);
    await bob.open(await carol.makeDigest());
    clock.advance(DIGEST_GRACE_MS);
    assert.deepEqual(bob.pendingNotices().filter((n) => n.kind === "gap").map((n) => [n.memberId, n.count, n.otherId]),
      [[xavier.memberId, 2, carol.memberId]], "the honest digest reveals x6-x7, naming who said so");
  });

  test("a gap a digest reported is not counted again when the next message comes, and the chain head stays real", async () => {
    const clock = fakeClock();
    const room = await joinSessions(["Ada", "Bob", "Cy"], { now: clock.now });
    const [ada, bob, cy] = room.sessions;
    await rekey(ada, room.sessions);
    const first = await ada.seal("a1");
    await bob.open(first);
    await cy.open(first);
    const dropped = await ada.seal("a2"); // only Bob gets it
    await bob.open(dropped);
    clock.advance(DIGEST_INTERVAL_MS);
    await cy.open(await bob.makeDigest());
    clock.advance(DIGEST_GRACE_MS);
    assert.deepEqual(cy.pendingNotices().map((n) => [n.kind, n.count, n.otherId]), [["gap", 1, bob.memberId]]);
    const next = await cy.open(await ada.seal("a3"));
    assert.deepEqual(next.notices, [], "already reported");
    assert.deepEqual(cy.resumePayload().heads.find(([id]) => id === ada.memberId), [ada.memberId, next.epoch, next.seq],
      "the head is what Cy really accepted");
  });
});
