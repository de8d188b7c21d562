// The `typing` body (§6.3) in the session: it opens as {typing}, counts in the sender's chain
// like any envelope (the next text arrives with no gap notice), never waits in the outbox, is
// never sealed again after stale_epoch, and causes no digest.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fakeClock, joinSessions, serverEpoch, flush, rekeyAcked } from "./sessions.mjs";

async function room(names) {
  const clock = fakeClock();
  const made = await joinSessions(names, { now: clock.now, acks: true });
  await rekeyAcked(made.sessions[0], made.sessions);
  return { clock, sessions: made.sessions };
}

test("typing opens as {typing} with the sender's name and chains like any envelope", async () => {
  const { clock, sessions: [ada, bob] } = await room(["Ada", "Bob"]);
  clock.t += 10_000;
  const typing = await ada.makeTyping();
  assert.ok(typing);
  const seen = await bob.open(typing);
  assert.equal(seen.typing, true);
  assert.equal(seen.name, "Ada");
  assert.equal(seen.text, undefined); // no text: nothing to count as unread
  assert.deepEqual(seen.notices, []);
  await ada.sent(typing);
  ada.queue("hello");
  const [text] = await flush(ada, [ada, bob]);
  assert.equal(text.text, "hello");
  assert.deepEqual(text.notices, [], "the typing body is in the chain: the text after it shows no gap");
  const digest = await ada.makeDigest();
  assert.ok(digest, "the text makes a digest due");
  await ada.sent(digest);
  assert.deepEqual((await bob.open(digest)).notices, []);
  clock.t += 10_000;
  await ada.makeTyping().then((env) => ada.sent(env));
  assert.equal(await ada.makeDigest(), null, "typing alone never makes a digest due");
});

test("typing never waits: none while a text is queued or an outcome is awaited", async () => {
  const { sessions: [ada, bob] } = await room(["Ada", "Bob"]);
  ada.queue("first");
  assert.equal(await ada.makeTyping(), null, "a text is queued");
  const [envelope] = await ada.takeResendable();
  assert.equal(await ada.makeTyping(), null, "the text's outcome is awaited");
  await ada.sent(envelope);
  assert.ok(await ada.makeTyping());
  assert.equal(await ada.makeTyping(), null, "the typing body's own outcome is awaited");
  assert.deepEqual(ada.pending(), [], "typing never shows among our pending texts");
  void bob;
});

test("a typing body refused as stale is dropped, never sealed again under the next key", async () => {
  const { sessions } = await room(["Ada", "Bob"]);
  const [ada, bob] = sessions;
  const typing = await ada.makeTyping();
  await ada.refused(typing, "stale_epoch");
  await rekeyAcked(bob, sessions, serverEpoch(sessions) + 1);
  assert.deepEqual(await ada.takeResendable(), [], "nothing left to send: the confirm went, the typing body is gone");
  ada.queue("after the rekey");
  const [text] = await flush(ada, sessions);
  assert.equal(text.text, "after the rekey");
  assert.deepEqual(text.notices, []);
});
