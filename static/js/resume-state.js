// Resuming on a new socket (docs/PROTOCOL.md §7.4): the resume secret and its hash for `join`, the
// heads the server replays from, and the reading of a `resume` ack - which missed events to feed,
// which listed members no missed event explains. protocol.js applies it under the normal floor rules.
import { b64uDecode, b64uEncode, randomId, sha256 } from "./crypto.js";

/** `resume.heads` entries sent at most. */
export const MAX_RESUME_HEADS = 50;

/** A fresh resume secret R (b64u) and the resume_hash the `join` carries. */
export async function newResumeSecret() {
  const secret = randomId();
  return { secret, hash: b64uEncode(await sha256(b64uDecode(secret))) };
}

/** [sender, epoch, seq] of the last envelope accepted from each other member still here, at most MAX_RESUME_HEADS. */
export function resumeHeads(lastAccepted, selfId, isMember) {
  return lastAccepted.filter(([id]) => id !== selfId && isMember(id)).slice(0, MAX_RESUME_HEADS);
}

/**
 * Reads a `resume` ack (its members list already checked): {missed, listed, joinedLater, leftLater}.
 * `missed` keeps the well-formed [event, data] pairs; joinedLater / leftLater are the member IDs
 * that a missed member_joined / member_left explains, so reconciliation leaves them to it.
 */
export function readResumeAck(ack) {
  const missed = (Array.isArray(ack.missed) ? ack.missed : [])
    .filter((item) => Array.isArray(item) && item.length === 2 && typeof item[0] === "string");
  const named = (event) => new Set(missed.filter(([name]) => name === event).map(([, data]) => data?.member_id));
  return {
    missed, listed: new Set(ack.members.map((a) => a?.member_id)),
    joinedLater: named("member_joined"), leftLater: named("member_left"),
  };
}

/** The events to feed in order: `missed`, then a rekey to ack.epoch when no missed rekey (nor `epoch` known) reached it. */
export function missedEvents(missed, ackEpoch, epoch) {
  const rekeyed = Math.max(epoch, ...missed.filter(([name, data]) => name === "rekey" && Number.isSafeInteger(data?.epoch))
    .map(([, data]) => data.epoch));
  const events = [...missed];
  if (Number.isSafeInteger(ackEpoch) && ackEpoch > rekeyed) events.push(["rekey", { epoch: ackEpoch, creator: null, passed_over: null }]);
  return events;
}
