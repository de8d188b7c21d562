// Kick and change the link (§5.6): the admin's new secret reaches only the roster of an epoch that
// leaves the kicked member out, only from the member the relink rekey named, and the old link's
// announcements stop being accepted by everyone who moved.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as bc from "../../static/js/crypto.js";
import { RoomSession } from "../../static/js/protocol.js";
import { announcementOf, deliver, fakeClock, joinSessions, serverEpoch } from "./sessions.mjs";

/** Sends what `session` has, the server accepting each, to `sessions`; -> [sent() results, open() results]. */
async function flush(session, sessions) {
  const own = [], heard = [];
  for (let out = await session.takeResendable(); out.length > 0; out = await session.takeResendable()) {
    for (const envelope of out) {
      own.push(await session.sent(envelope));
      for (const other of sessions) {
        if (other !== session) heard.push(await other.open(envelope).catch((error) => ({ refused: error.code })));
      }
    }
  }
  return [own, heard];
}

/** An honest epoch with acks: everyone hears `rekey` (with `relink`), the creator keys all, all flush. */
async function rekeyAcked(creator, sessions, { relink = null } = {}) {
  const epoch = serverEpoch(sessions) + (relink ? 1 : 0);
  for (const s of sessions) s.onRekey({ epoch, creator: creator.memberId, passed_over: null, relink });
  const others = sessions.filter((s) => s !== creator).map((s) => s.memberId);
  await deliver(await creator.answerKeyRequest({ epoch, for: others }), creator.memberId, sessions);
  const own = [], heard = [];
  for (const s of sessions) {
    const [mine, theirs] = await flush(s, sessions);
    own.push(...mine.map((r) => [s, r]));
    heard.push(...theirs);
  }
  return { epoch, own, heard };
}

async function room(names) {
  const clock = fakeClock();
  const r = await joinSessions(names, { now: clock.now, acks: true });
  await rekeyAcked(r.sessions[0], r.sessions);
  return r;
}

/** The server's side of a kick: the member is gone for everyone else. */
function kick(sessions, memberId) {
  for (const s of sessions) s.removeMember(memberId);
  return sessions.filter((s) => s.memberId !== memberId);
}

describe("kick and change the link (§5.6)", () => {
  test("the admin's secret reaches the remaining members, who re-announce under it", async () => {
    const r = await room(["Ada", "Bob", "Cy"]);
    const [ada, bob, cy] = r.sessions;
    const { secret, joinKeyHash } = await ada.prepareRelink();
    assert.equal(bc.b64uDecode(secret).length, 16);
    assert.equal(joinKeyHash, (await bc.deriveJoinKey(secret)).joinKeyHash);
    const left = kick(r.sessions, cy.memberId);
    const { own, heard } = await rekeyAcked(ada, left, { relink: ada.memberId });
    const adopted = own.filter(([, result]) => result?.relink);
    assert.equal(adopted.length, 1, "the admin adopts once the server took its link message");
    assert.equal(adopted[0][0], ada);
    assert.equal(adopted[0][1].relink.secret, secret);
    const bobs = heard.filter((result) => result?.relink);
    assert.equal(bobs.length, 1);
    assert.equal(bobs[0].relink.secret, secret);
    assert.equal(bobs[0].memberId, ada.memberId);

    // Bob's re-announcement opens under the new link, for Ada and for a newcomer alike.
    const again = { ...r.announcements[1], ...bobs[0].relink.announce };
    assert.equal((await ada.memberAnnounced(again)).memberId, bob.memberId);
    const newcomer = new RoomSession({ roomId: r.roomId, secret });
    await newcomer.start("Dee");
    assert.equal((await newcomer.addMember(again))?.name, "Bob");
    // The old announcement (under the old link) no longer opens for anyone who moved.
    assert.equal(await newcomer.addMember(r.announcements[0]), null);
    const cyAgain = new RoomSession({ roomId: r.roomId, secret: r.secret });
    const cyJoin = announcementOf(await cyAgain.start("Cy"));
    assert.equal(await bob.addMember(cyJoin), null, "the kicked member's link mints nothing any more");
  });

  test("a link message from anyone but the member the rekey named is ignored", async () => {
    const r = await room(["Ada", "Bob", "Cy"]);
    const [ada, bob, cy] = r.sessions;
    await bob.prepareRelink();
    // A lying server names Bob to Bob, and Ada to everyone else: Bob's link message must change nothing.
    const epoch = serverEpoch(r.sessions) + 1;
    for (const s of r.sessions) s.onRekey({ epoch, creator: ada.memberId, passed_over: null, relink: s === bob ? bob.memberId : ada.memberId });
    await deliver(await ada.answerKeyRequest({ epoch, for: [bob.memberId, cy.memberId] }), ada.memberId, r.sessions);
    await flush(ada, r.sessions);
    const [bobOwn, heard] = await flush(bob, r.sessions);
    assert.ok(bobOwn.some((x) => x?.relink), "Bob sealed and adopted its own secret");
    assert.equal(heard.filter((x) => x?.relink).length, 0);
    assert.ok(heard.some((x) => x?.ignored), "Bob's link message is dropped by the others");
    assert.equal(cy.flaggedCount, 0);
  });

  test("without a relink rekey a link message changes nothing", async () => {
    const r = await room(["Ada", "Bob"]);
    const [ada, bob] = r.sessions;
    await ada.prepareRelink();
    const { own, heard } = await rekeyAcked(bob, r.sessions, { relink: bob.memberId }); // the server names Bob, not Ada
    assert.equal(own.filter(([, x]) => x?.relink).length, 0, "nobody named us: nothing is sealed");
    assert.equal(heard.filter((x) => x?.relink).length, 0);
  });

  test("a re-announcement that changes a known member's name is flagged", async () => {
    const r = await room(["Ada", "Bob"]);
    const [ada, bob] = r.sessions;
    const impostor = new RoomSession({ roomId: r.roomId, secret: r.secret });
    const forged = { ...announcementOf(await impostor.start("Mallory")), member_id: bob.memberId };
    assert.equal(await ada.memberAnnounced(forged), null);
    assert.equal(ada.flaggedCount, 1);
    assert.equal(ada.member(bob.memberId).name, "Bob");
  });

  test("prepareRelink needs acknowledged sending; cancelRelink seals nothing", async () => {
    const plain = (await joinSessions(["Ada"])).sessions[0];
    assert.throws(() => plain.prepareRelink(), (e) => e.code === "not_ready");
    const r = await room(["Ada", "Bob"]);
    const [ada] = r.sessions;
    await ada.prepareRelink();
    ada.cancelRelink();
    const { own } = await rekeyAcked(ada, r.sessions, { relink: ada.memberId });
    assert.equal(own.filter(([, x]) => x?.relink).length, 0);
  });

  test("a banned member seated again under a new ID before the new link goes out never gets it", async () => {
    const r = await room(["Ada", "Bob", "Cy"]);
    const [ada, bob, cy] = r.sessions;
    const { secret } = await ada.prepareRelink();
    const left = kick(r.sessions, cy.memberId);
    // The lying server seats "Cy2" (Cy's old link, a fresh ID) right after the relink rekey.
    const cy2 = new RoomSession({ roomId: r.roomId, secret: r.secret, acks: true });
    const cy2Announcement = announcementOf(await cy2.start("Cy2"));
    const epoch = serverEpoch(left) + 1;
    for (const s of left) s.onRekey({ epoch, creator: ada.memberId, passed_over: null, relink: ada.memberId });
    assert.equal(await ada.addMember(cy2Announcement), null, "the admin holds newcomers while its change is under way");
    assert.equal(await bob.addMember(cy2Announcement), null, "so does everyone awaiting the new link");
    assert.ok(ada.changingLink && bob.changingLink);
    const delivery = await ada.answerKeyRequest({ epoch, for: [bob.memberId, cy2.memberId] });
    assert.deepEqual(delivery.blobs.map((b) => b.to), [bob.memberId], "nobody wraps a key for Cy2");
    await deliver(delivery, ada.memberId, [bob, cy2]);
    const [adaOwn, heard] = await flush(ada, [ada, bob, cy2]);
    assert.ok(adaOwn.some((x) => x?.relink?.secret === secret));
    const bobs = heard.filter((x) => x?.relink);
    assert.equal(bobs.length, 1, "Bob adopts; Cy2 holds no key and opens nothing");
    assert.ok(heard.filter((x) => x?.refused).length >= 1, "Cy2 refuses what it can't open");
    assert.deepEqual(bobs[0].relink.joined, [], "under the new link Cy2's announcement fails");
    assert.ok(!bob.members().some((m) => m.memberId === cy2.memberId));
    assert.ok(!ada.members().some((m) => m.memberId === cy2.memberId));
    assert.equal(bob.flaggedCount, 1);
  });

  test("a newcomer on the new link, seen before the link message, is accepted once it arrives", async () => {
    const r = await room(["Ada", "Bob"]);
    const [ada, bob] = r.sessions;
    const { secret } = await ada.prepareRelink();
    const epoch = serverEpoch(r.sessions) + 1;
    for (const s of r.sessions) s.onRekey({ epoch, creator: ada.memberId, passed_over: null, relink: ada.memberId });
    await deliver(await ada.answerKeyRequest({ epoch, for: [bob.memberId] }), ada.memberId, [bob]);
    await flush(ada, []); // Ada's link message reaches the server; Bob hasn't opened it yet
    const dee = new RoomSession({ roomId: r.roomId, secret });
    const deeAnnouncement = announcementOf(await dee.start("Dee"));
    assert.equal(await ada.addMember(deeAnnouncement).then((m) => m?.name), "Dee");
    assert.equal(await bob.addMember(deeAnnouncement), null, "held: Bob still checks under the old link");
    assert.equal(bob.flaggedCount, 0);
  });

  test("one link change at a time", async () => {
    const r = await room(["Ada", "Bob"]);
    await r.sessions[0].prepareRelink();
    await assert.rejects(r.sessions[0].prepareRelink(), (e) => e.code === "busy");
  });
});

