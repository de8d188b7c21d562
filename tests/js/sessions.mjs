// Test-only fixtures: a simulated room of RoomSessions driven the way the server
// (or a lying relay) would drive them. Never imported by the app.
import * as bc from "../../static/js/crypto.js";
import { RoomSession } from "../../static/js/protocol.js";

/** A fake clock: `clock.now()` for sessions, `clock.advance(ms)` in tests. */
export function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

/** Drops the join payload's extra fields, leaving the announcement the server relays. */
export function announcementOf(joinPayload) {
  const { v, room, join_key: joinKey, resume_hash: resumeHash, ...announcement } = joinPayload;
  return announcement;
}

/** Simulated room: sessions joined in order, each seeing the others as the server would relay them. */
export async function joinSessions(names, { roomId = bc.randomId(), secret = bc.randomId(), now, acks = false } = {}) {
  const room = { roomId, secret, sessions: [], announcements: [] };
  for (const name of names) await joinOne(room, name, { now, acks });
  return room;
}

/** One more member joins the simulated room: a new epoch at every join (§5.1). */
export async function joinOne(room, name, { now, acks = false } = {}) {
  const session = new RoomSession({ roomId: room.roomId, secret: room.secret, now, acks });
  const announcement = announcementOf(await session.start(name));
  const epoch = serverEpoch(room.sessions) + 1;
  await session.joined({ v: 2, epoch, members: room.announcements.map((a) => ({ ...a, held: 0 })) });
  for (const other of room.sessions) {
    await other.addMember(announcement); // member_joined, then rekey
    other.onRekey({ epoch, creator: room.sessions[0].memberId, passed_over: null });
  }
  room.sessions.push(session);
  room.announcements.push(announcement);
  return session;
}

/** Server-side removal: the others drop the member (member_left), then all move to a new epoch (rekey). */
export function removeOne(room, memberId) {
  room.sessions = room.sessions.filter((s) => s.memberId !== memberId);
  room.announcements = room.announcements.filter((a) => a.member_id !== memberId);
  const epoch = serverEpoch(room.sessions) + 1;
  for (const s of room.sessions) {
    s.removeMember(memberId);
    s.setEpoch(epoch);
  }
  return epoch;
}

/** The highest epoch any session knows or must reach (what the simulated server is at). */
export function serverEpoch(sessions) {
  return Math.max(0, ...sessions.flatMap((s) => [s.epoch, s.floor]));
}

/** The room_key event the server sends for one blob of a key_deliver payload (§5.3). */
export function roomKeyEvent(delivery, creatorId, blob) {
  const { epoch, roster, line_macs: lineMacs, commit_sig: commitSig } = delivery;
  return { epoch, from: creatorId, to: blob.to, wrapped: blob.wrapped, sig: blob.sig, roster, line_macs: lineMacs, commit_sig: commitSig };
}

/** Delivers a key_deliver payload: each blob to the session it is addressed to (when among `sessions`). */
export async function deliver(delivery, creatorId, sessions) {
  for (const blob of delivery.blobs) {
    const recipient = sessions.find((s) => s.memberId === blob.to);
    if (recipient) await recipient.acceptRoomKey(roomKeyEvent(delivery, creatorId, blob));
  }
}

/** Relays one envelope from `from` to every other session; returns their open() results in order. */
export async function broadcast(from, envelope, sessions) {
  const results = [];
  for (const s of sessions) if (s !== from) results.push(await s.open(envelope));
  return results;
}

/** A whole epoch as an honest server runs it: everyone moves to `epoch`, `creator` keys all, everyone confirms. */
export async function rekey(creator, sessions, epoch = serverEpoch(sessions)) {
  for (const s of sessions) s.setEpoch(epoch);
  const others = sessions.filter((s) => s !== creator).map((s) => s.memberId);
  await deliver(await creator.answerKeyRequest({ epoch, for: others }), creator.memberId, sessions);
  for (const s of sessions) {
    const confirm = await s.makeConfirm();
    if (confirm) await broadcast(s, confirm, sessions);
  }
}

/** Flips one bit of a b64u value (at byte `index`, default the middle) and re-encodes it. */
export function flipBit(text, index) {
  const bytes = bc.b64uDecode(text);
  bytes[index ?? bytes.length >> 1] ^= 0x01;
  return bc.b64uEncode(bytes);
}

/** Asserts that `promise` rejects with ProtocolError(code). */
export async function rejectsWith(assert, promise, code) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.name, "ProtocolError", `expected ProtocolError(${code}), got ${error}`);
    assert.equal(error.code, code);
    return true;
  });
}

/** Sends what `session` has to send, the server accepting each, to every other session; -> their open() results. */
export async function flush(session, sessions) {
  const results = [];
  for (let out = await session.takeResendable(); out.length > 0; out = await session.takeResendable()) {
    for (const envelope of out) {
      await session.sent(envelope);
      for (const other of sessions) if (other !== session) results.push(await other.open(envelope));
    }
  }
  return results;
}

/** An honest rekey with acks: everyone moves to `epoch`, the creator keys all, each sends its confirm (and what waited). */
export async function rekeyAcked(creator, sessions, epoch = serverEpoch(sessions)) {
  for (const s of sessions) s.onRekey({ epoch, creator: creator.memberId, passed_over: null });
  const others = sessions.filter((s) => s !== creator).map((s) => s.memberId);
  await deliver(await creator.answerKeyRequest({ epoch, for: others }), creator.memberId, sessions);
  const results = [];
  for (const s of sessions) results.push(...await flush(s, sessions));
  return results;
}
