// Who the room says is in it (docs/PROTOCOL.md §4, §5.2-§5.3): duplicate names numbered alike for
// everyone whatever order the server lists members in, and line MACs a relay cannot rewrite.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as bc from "../../static/js/crypto.js";
import { RoomSession } from "../../static/js/protocol.js";
import { joinSessions, rekey, roomKeyEvent, announcementOf, rejectsWith, serverEpoch } from "./sessions.mjs";

describe("duplicate names (§4)", () => {
  test("two viewers the server lists in opposite orders number the two Sams alike, by member ID", async () => {
    const roomId = bc.randomId(), secret = bc.randomId();
    const make = async (name) => {
      const session = new RoomSession({ roomId, secret });
      return { session, announcement: announcementOf(await session.start(name)) };
    };
    const [s1, s2, pat, quinn] = await Promise.all(["Sam", "Sam", "Pat", "Quinn"].map(make));
    await pat.session.joined({ v: 2, epoch: 1, members: [s1.announcement, s2.announcement, quinn.announcement] });
    await quinn.session.joined({ v: 2, epoch: 1, members: [s2.announcement, s1.announcement, pat.announcement] });
    const view = (viewer) => Object.fromEntries(viewer.session.members().filter((m) => m.duplicate).map((m) => [m.memberId, m.name]));
    assert.deepEqual(view(pat), view(quinn));
    const [low, high] = [s1.session.memberId, s2.session.memberId].sort();
    assert.deepEqual(view(pat), { [low]: "Sam", [high]: "Sam (2)" });
    assert.ok(pat.session.members().filter((m) => m.duplicate).every((m) => /^[0-9a-f]{4}( [0-9a-f]{4}){3}$/.test(m.fingerprint)));
  });
});

describe("line MACs are signed (§5.2-§5.3)", () => {
  /** Alice's key for Bob in a keyed room of Alice, Bob and Cy, for the next epoch. */
  async function nextKey() {
    const room = await joinSessions(["Alice", "Bob", "Cy"]);
    const [alice, bob, cy] = room.sessions;
    await rekey(alice, room.sessions);
    const epoch = serverEpoch(room.sessions) + 1;
    for (const s of room.sessions) s.setEpoch(epoch);
    const delivery = await alice.answerKeyRequest({ epoch, for: [] });
    return { alice, bob, cy, event: roomKeyEvent(delivery, alice.memberId, delivery.blobs.find((b) => b.to === bob.memberId)) };
  }

  test("a relay that rewrites Cy's line MAC gets the key refused as tampered (bad_sig), Cy not blamed", async () => {
    const { bob, cy, event } = await nextKey();
    const macs = [...event.line_macs];
    macs[event.roster.indexOf(cy.memberId)] = bc.b64uEncode(new Uint8Array(16));
    await rejectsWith(assert, bob.acceptRoomKey({ ...event, line_macs: macs }), "bad_sig");
    assert.equal(await bob.acceptRoomKey(event), event.epoch, "the untouched key is still good");
  });

  test("a roster list out of order is bad_encoding", async () => {
    const { bob, event } = await nextKey();
    await rejectsWith(assert, bob.acceptRoomKey({ ...event, roster: [...event.roster].reverse(), line_macs: [...event.line_macs].reverse() }), "bad_encoding");
  });
});
