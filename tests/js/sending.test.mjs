// Resume (§7.4) and acknowledged sending (§6.6): the resume secret, missed events, pending
// envelopes, resends after refusals, the offline queue, and a property test of random
// interleavings of acks, refusals, drops and rekeys against an honest relay.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as bc from "../../static/js/crypto.js";
import { fakeClock, joinSessions, deliver, serverEpoch, rejectsWith, flush, rekeyAcked } from "./sessions.mjs";

async function ackedRoom(names) {
  const clock = fakeClock();
  const room = await joinSessions(names, { now: clock.now, acks: true });
  await rekeyAcked(room.sessions[0], room.sessions);
  return { room, clock, sessions: room.sessions };
}

const notices = (results) => results.flatMap((r) => r?.notices ?? []);
const texts = (results) => results.filter((r) => r?.text !== undefined).map((r) => r.text);

describe("resume (§7.4)", () => {
  test("start puts resume_hash = b64u(SHA-256(R)) in the join; resumePayload carries R; wipe forgets it", async () => {
    const { room, sessions: [ada] } = await ackedRoom(["Ada"]);
    const fresh = new (ada.constructor)({ roomId: room.roomId, secret: room.secret });
    const join = await fresh.start("Dee");
    const payload = fresh.resumePayload();
    assert.deepEqual(Object.keys(payload).sort(), ["heads", "member_id", "proof", "room"]);
    assert.deepEqual(payload.heads, [], "nobody heard from yet");
    assert.equal(payload.room, room.roomId);
    assert.equal(payload.member_id, join.member_id);
    assert.equal(bc.b64uDecode(payload.proof).length, 16);
    assert.equal(join.resume_hash, bc.b64uEncode(await bc.sha256(bc.b64uDecode(payload.proof))));
    const other = new (ada.constructor)({ roomId: room.roomId, secret: room.secret });
    assert.notEqual((await other.start("Eve")).resume_hash, join.resume_hash);
    fresh.wipe();
    assert.throws(() => fresh.resumePayload(), (e) => e.code === "not_ready");
  });

  test("away members stay in members() and in the roster, greyed; back clears it", async () => {
    const { room, sessions: [ada, bob, cy] } = await ackedRoom(["Ada", "Bob", "Cy"]);
    assert.equal(ada.markAway(bob.memberId), true);
    assert.deepEqual(ada.members().map((m) => m.away), [false, true, false]);
    assert.equal(ada.markAway(bc.randomId()), false);
    // The roster rule is unchanged: a new epoch made meanwhile still keys the away member.
    const delivery = await ada.answerKeyRequest({ epoch: serverEpoch(room.sessions) + 1, for: [bob.memberId, cy.memberId] });
    assert.ok(delivery.roster.includes(bob.memberId));
    assert.equal(ada.markBack(bob.memberId), true);
    assert.equal(ada.member(bob.memberId).away, false);
    ada.markAway(cy.memberId);
    ada.removeMember(cy.memberId);
    assert.deepEqual(ada.members().map((m) => m.away), [false, false]);
  });

  test("resumed: missed messages, a newcomer and its rekey are fed in order - each text once, no notice", async () => {
    const clock = fakeClock();
    const room = await joinSessions(["Ada", "Bob"], { now: clock.now, acks: true });
    const [ada, bob] = room.sessions;
    await rekeyAcked(ada, [ada, bob]);
    ada.markAway(bob.memberId);
    const missed = [];
    const relay = async (session) => {
      for (let out = await session.takeResendable(); out.length; out = await session.takeResendable()) {
        for (const e of out) { await session.sent(e); missed.push(["message", e]); }
      }
    };
    ada.queue("one");
    ada.queue("two");
    await relay(ada);
    // Cy joins while Bob is away: member_joined, rekey, Bob's room_key are kept for him.
    const { RoomSession } = await import("../../static/js/protocol.js");
    const cy = new RoomSession({ roomId: room.roomId, secret: room.secret, now: clock.now, acks: true });
    const cyJoin = await cy.start("Cy");
    const { v, room: _r, join_key: _k, resume_hash: _h, ...cyAnn } = cyJoin;
    const epoch = serverEpoch([ada, bob]) + 1;
    await cy.joined({ v: 2, epoch, members: room.announcements.map((a) => ({ ...a, held: 0 })) });
    await ada.addMember(cyAnn);
    ada.onRekey({ epoch, creator: ada.memberId, passed_over: null });
    missed.push(["member_joined", { ...cyAnn, held: 0 }], ["rekey", { epoch, creator: ada.memberId, passed_over: null }]);
    const delivery = await ada.answerKeyRequest({ epoch, for: [bob.memberId, cy.memberId] });
    const { roomKeyEvent } = await import("./sessions.mjs");
    for (const blob of delivery.blobs) {
      const event = roomKeyEvent(delivery, ada.memberId, blob);
      if (blob.to === cy.memberId) await cy.acceptRoomKey(event); else missed.push(["room_key", event]);
    }
    await relay(ada); // ada's confirm
    ada.queue("three");
    await relay(ada);
    const ack = { ok: true, epoch, held: epoch - 1, members: [{ ...room.announcements[0], held: epoch, away: false }, { ...cyAnn, held: epoch, away: false }], missed };
    const { missed: events, joined, left } = await bob.resumed(ack);
    assert.deepEqual([joined, left], [[], []]);
    assert.equal(events.length, missed.length); // the missed rekey reached ack.epoch: nothing added
    const results = [];
    for (const [name, data] of events) {
      if (name === "message") results.push(await bob.open(data));
      else if (name === "member_joined") assert.ok(await bob.addMember(data));
      else if (name === "rekey") bob.onRekey(data);
      else if (name === "room_key") await bob.acceptRoomKey(data);
    }
    assert.deepEqual(texts(results), ["one", "two", "three"]);
    assert.deepEqual(notices(results), []);
    assert.equal(bob.rejectedCount, 0);
    assert.equal(bob.ready, true);
    assert.deepEqual(bob.members().map((m) => m.name), ["Ada", "Bob", "Cy"]);
  });

  test("resumed reconciles members no missed event explains, and ends at the ack's epoch", async () => {
    const { room, sessions: [ada, bob, cy] } = await ackedRoom(["Ada", "Bob", "Cy"]);
    const epoch = serverEpoch(room.sessions) + 3;
    // Cy left in the moment before the server saw Bob's socket drop: no member_left was kept for him.
    const { missed, left, joined } = await bob.resumed({ ok: true, epoch, held: 1, members: [{ ...room.announcements[0], held: 1, away: true }], missed: [] });
    assert.deepEqual([left, joined], [[cy.memberId], []]);
    assert.deepEqual(bob.members().map((m) => [m.name, m.away]), [["Ada", true], ["Bob", false]]);
    assert.deepEqual(missed, [["rekey", { epoch, creator: null, passed_over: null }]]);
    assert.ok(bob.floor > 1); // normal floor rules: nothing more under a key Cy holds
    await rejectsWith(assert, bob.resumed({ ok: true }), "bad_encoding");
  });
});

describe("sending with acknowledgements (§6.6)", () => {
  test("prev is the last acknowledged hash; an envelope is pending until sent(); one at a time", async () => {
    const { sessions: [ada, bob] } = await ackedRoom(["Ada", "Bob"]);
    const first = await ada.seal("one");
    await rejectsWith(assert, ada.seal("two"), "not_ready"); // one pending at a time: queue() instead
    const id = ada.queue("two");
    assert.deepEqual(await ada.takeResendable(), []);
    assert.deepEqual(ada.pending().map((p) => [p.text, p.state]), [["one", "sending"], ["two", "queued"]]);
    assert.deepEqual(await ada.sent(first), { localId: "p1", text: "one", me: false, epoch: first.epoch, seq: first.seq });
    const [second] = await ada.takeResendable();
    const result = await ada.sent(second);
    assert.equal(result.localId, id);
    assert.equal(ada.sentCount, 2);
    assert.deepEqual(texts([await bob.open(first), await bob.open(second)]), ["one", "two"]);
  });

  test("stale_epoch: the text is re-sealed under the new epoch after the confirm; receivers get it once, no notice", async () => {
    const { room, sessions: [ada, bob, cy] } = await ackedRoom(["Ada", "Bob", "Cy"]);
    const results = await flush(ada, room.sessions); // nothing yet
    ada.queue("before");
    results.push(...await flush(ada, room.sessions));
    const [doomed] = (ada.queue("during the rekey"), await ada.takeResendable());
    const epoch = serverEpoch(room.sessions) + 1; // the server moves on before it sees `doomed`
    assert.deepEqual(await ada.refused(doomed, "stale_epoch"), { localId: "p2", text: "during the rekey", me: false, state: "queued" });
    assert.deepEqual(await ada.takeResendable(), []); // never again under the old key
    results.push(...await rekeyAcked(bob, room.sessions, epoch));
    assert.deepEqual(texts(results), ["before", "before", "during the rekey", "during the rekey"]);
    assert.deepEqual(notices(results), []);
    assert.deepEqual(ada.pending(), []);
    for (const s of [bob, cy]) assert.equal(s.rejectedCount, 0);
    // Ada's next message links on as usual.
    ada.queue("after");
    assert.deepEqual(notices(await flush(ada, room.sessions)), []);
  });

  test("rate_limited: the very same envelope is sent again - no fork, no equivocation, no gap", async () => {
    const { clock, room, sessions: [ada, bob, cy] } = await ackedRoom(["Ada", "Bob", "Cy"]);
    ada.queue("slow");
    const [first] = await ada.takeResendable();
    assert.equal((await ada.refused(first, "rate_limited")).state, "retry");
    assert.deepEqual(ada.pending().map((p) => p.state), ["retry"]);
    ada.queue("next");
    const [again] = await ada.takeResendable();
    assert.deepEqual(again, first);
    const results = [];
    await ada.sent(again);
    for (const s of [bob, cy]) results.push(await s.open(again));
    results.push(...await flush(ada, room.sessions));
    // Digests both ways: every head agrees.
    clock.advance(6000);
    for (const s of room.sessions) {
      const digest = await s.makeDigest();
      if (!digest) continue;
      await s.sent(digest);
      for (const o of room.sessions) if (o !== s) results.push(await o.open(digest));
    }
    clock.advance(4000);
    assert.deepEqual(texts(results), ["slow", "slow", "next", "next"]);
    assert.deepEqual([...notices(results), ...room.sessions.flatMap((s) => s.pendingNotices())], []);
  });

  test("a drop: the envelope whose ack was lost is sent again unchanged; a copy that did arrive is ignored", async () => {
    const { room, sessions: [ada, bob] } = await ackedRoom(["Ada", "Bob"]);
    ada.queue("maybe");
    const [env] = await ada.takeResendable();
    const first = await bob.open(env); // the server relayed it, then the socket dropped before the ack
    await ada.resumed({ ok: true, epoch: ada.epoch, held: ada.epoch, members: [{ ...room.announcements[1], held: ada.epoch }], missed: [] });
    const [again] = await ada.takeResendable();
    assert.deepEqual(again, env);
    assert.deepEqual(await bob.open(again), { ignored: true, duplicate: true, notices: [] });
    assert.deepEqual([first.text, first.notices, bob.rejectedCount], ["maybe", [], 0]);
  });

  test("offline queue: texts written before the key are sent in order once it is held, each `after` the one before", async () => {
    const clock = fakeClock();
    const room = await joinSessions(["Ada", "Bob"], { now: clock.now, acks: true });
    const [ada, bob] = room.sessions;
    const ids = ["a", "b", "c"].map((t) => ada.queue(t));
    assert.deepEqual(ada.pending().map((p) => [p.localId, p.state]), ids.map((id) => [id, "queued"]));
    assert.deepEqual(await ada.takeResendable(), []); // securing
    const results = await rekeyAcked(bob, room.sessions);
    assert.deepEqual(texts(results), ["a", "b", "c"]);
    assert.deepEqual(results.filter((r) => r.text).map((r) => r.outOfOrder), [false, false, false]);
    assert.deepEqual(notices(results), []);
  });

  test("a text still pending when the room burns, or refused for good, is reported failed", async () => {
    const { sessions: [ada] } = await ackedRoom(["Ada", "Bob"]);
    ada.queue("doomed");
    const [env] = await ada.takeResendable();
    assert.deepEqual(await ada.refused(env, "not_member"), { localId: "p1", text: "doomed", me: false, state: "failed", code: "not_member" });
    ada.queue("in flight", { me: true });
    await ada.takeResendable();
    ada.queue("queued");
    assert.deepEqual(ada.wipe(), [{ localId: "p2", text: "in flight", me: true }, { localId: "p3", text: "queued", me: false }]);
    assert.deepEqual(ada.pending(), []);
  });
});

/** A tiny seeded generator (mulberry32), so a failing interleaving can be replayed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("property: acks, refusals, drops and rekeys in any order", () => {
  test("every text reaches every honest receiver exactly once, in order, with zero notices", async () => {
    const seen = { stale: 0, limited: 0, drop: 0, texts: 0 };
    for (let seed = 1; seed <= 12; seed++) {
      const random = rng(seed);
      const pick = (list) => list[Math.floor(random() * list.length)];
      const clock = fakeClock();
      const room = await joinSessions(["Ada", "Bob", "Cy"], { now: clock.now, acks: true });
      const sessions = room.sessions;
      let server = serverEpoch(sessions);
      await rekeyAcked(sessions[0], sessions, server);
      const wrote = new Map(sessions.map((s) => [s.memberId, []]));
      const got = new Map(sessions.map((s) => [s.memberId, []]));
      const all = [];
      let keyed = true;
      const wire = new Map(); // session -> its envelope on the way to the server
      const relay = async (from, envelope) => {
        for (const s of sessions) {
          if (s === from) continue;
          const r = await s.open(envelope);
          all.push(r);
          if (r?.text !== undefined) got.get(s.memberId).push(`${r.memberId}:${r.text}`);
        }
      };
      for (let step = 0; step < 40; step++) {
        const s = pick(sessions);
        const roll = random();
        if (roll < 0.3) {
          const text = `${seed}.${step}`;
          s.queue(text);
          wrote.get(s.memberId).push(`${s.memberId}:${text}`);
        } else if (roll < 0.55) {
          if (!wire.has(s)) { const [envelope] = await s.takeResendable(); if (envelope) wire.set(s, envelope); }
        } else if (roll < 0.85) {
          const envelope = wire.get(s); // the server now handles what was on the wire (a rekey may have come first)
          if (!envelope) continue;
          wire.delete(s);
          const fate = random();
          if (envelope.epoch !== server) seen.stale += (await s.refused(envelope, "stale_epoch")) ? 1 : 0;
          else if (fate < 0.15) seen.limited += (await s.refused(envelope, "rate_limited")) ? 1 : 0;
          else if (fate < 0.25) await s.refused(envelope, "offline"); // lost before the server
          else if (fate < 0.35) { // relayed, then the ack was lost: resumed, sent again at once
            await relay(s, envelope);
            const members = room.announcements.filter((a) => a.member_id !== s.memberId);
            await s.resumed({ ok: true, epoch: server, held: server, members, missed: [] });
            seen.drop += 1;
            const [again] = await s.takeResendable();
            assert.deepEqual(again, envelope);
            await s.sent(again);
            await relay(s, again);
          } else {
            await s.sent(envelope);
            await relay(s, envelope);
          }
        } else if (roll < 0.93 && keyed) {
          server += 1; // rekey announced; envelopes in flight under the old key are now stale
          for (const o of sessions) o.onRekey({ epoch: server, creator: s.memberId, passed_over: null });
          keyed = false;
        } else if (!keyed) {
          const others = sessions.filter((o) => o !== s).map((o) => o.memberId);
          await deliver(await s.answerKeyRequest({ epoch: server, for: others }), s.memberId, sessions);
          keyed = true;
        } else {
          clock.advance(6000);
          const digest = await s.makeDigest();
          if (digest) { await s.sent(digest); await relay(s, digest); }
        }
      }
      // Settle: the server answers what is on the wire, the room is keyed if needed, then everyone sends everything.
      for (const [o, envelope] of wire) {
        if (envelope.epoch !== server) await o.refused(envelope, "stale_epoch");
        else { await o.sent(envelope); await relay(o, envelope); }
      }
      if (!keyed) await deliver(await sessions[0].answerKeyRequest({ epoch: server, for: sessions.slice(1).map((o) => o.memberId) }), sessions[0].memberId, sessions);
      for (let round = 0; round < 4; round++) {
        for (const s of sessions) {
          for (let out = await s.takeResendable(); out.length; out = await s.takeResendable()) {
            for (const envelope of out) {
              if (envelope.epoch !== server) await s.refused(envelope, "stale_epoch");
              else { await s.sent(envelope); await relay(s, envelope); }
            }
          }
        }
      }
      clock.advance(10000);
      for (const s of sessions) {
        const expected = sessions.filter((o) => o !== s).flatMap((o) => wrote.get(o.memberId));
        const received = got.get(s.memberId);
        for (const o of sessions) {
          if (o === s) continue;
          const mine = (list) => list.filter((t) => t.startsWith(`${o.memberId}:`));
          assert.deepEqual(mine(received), mine(expected), `seed ${seed}: ${s.members()[0].name} from another sender`);
        }
        assert.equal(received.length, expected.length, `seed ${seed}`);
        seen.texts += received.length;
        assert.deepEqual(s.pending(), [], `seed ${seed}: everything sent`);
        assert.equal(s.rejectedCount, 0, `seed ${seed}`);
      }
      // Rekeys here come for no reason, which is exactly what rekey_churn reports: every other notice is a bug.
      const pendingNotices = sessions.flatMap((s) => s.pendingNotices()).filter((n) => n.kind !== "rekey_churn");
      assert.deepEqual([...notices(all), ...pendingNotices], [], `seed ${seed}`);
    }
    // The interleavings did exercise every path.
    for (const [what, count] of Object.entries(seen)) assert.ok(count > 0, `no ${what} in any run: ${JSON.stringify(seen)}`);
    console.log(JSON.stringify(seen));
  });
});

describe("resume heads (§7.4)", () => {
  test("resumePayload names, per other member heard from, the last envelope accepted (never ourselves, never the unheard)", async () => {
    const { sessions: [ada, bob] } = await ackedRoom(["Ada", "Bob", "Cy"]);
    bob.queue("hi");
    const [envelope] = await bob.takeResendable();
    await bob.sent(envelope);
    await ada.open(envelope);
    const heads = ada.resumePayload().heads;
    assert.deepEqual(heads.find(([id]) => id === bob.memberId), [bob.memberId, envelope.epoch, envelope.seq]);
    assert.ok(heads.every(([id]) => id !== ada.memberId));
    assert.ok(heads.length <= 50);
    assert.deepEqual(heads.map(([id]) => id), [...heads.map(([id]) => id)].sort());
  });
});
