// Changing the room's link (docs/PROTOCOL.md §5.6), as bookkeeping: the admin's new secret until the
// server acknowledges the `link` message carrying it, and the one member a `rekey` named as the sender
// of the link message we accept. No keys, no network: protocol.js seals, opens and adopts.
import { ProtocolError, b64uDecode, deriveJoinKey, randomId } from "./crypto.js";

/** Announcements kept unchecked while a link change is under way (more are refused). */
export const MAX_DEFERRED = 64;

/** True for a 16-byte b64u link secret. */
function isSecret(text) {
  try {
    return typeof text === "string" && b64uDecode(text).length === 16;
  } catch {
    return false;
  }
}

export class LinkChange {
  #awaited = null;   // {epoch, by}: a `rekey` said `by` changes the link from `epoch` on
  #ours = null;      // {secret, epoch, sealedUnder, roster}: our change, until the server takes our link message
  #deferred = [];    // announcements that arrived meanwhile: checked under the new link once we hold it

  /**
   * True from our prepare() or a relink `rekey` until the new link is ours. Meanwhile no announcement
   * is accepted under the old link: the banned member holds it, and a lying server could seat them
   * again under a new ID before the new secret goes out (they would then be keyed, and read it).
   */
  get changing() {
    return this.#awaited !== null || this.#ours !== null;
  }

  /** Keeps `announcement` to check under the new link; false when too many wait already. */
  defer(announcement) {
    if (this.#deferred.length >= MAX_DEFERRED) return false;
    this.#deferred.push(announcement);
    return true;
  }

  /** The announcements kept meanwhile, in arrival order (taken once the new link is ours). */
  takeDeferred() {
    const taken = this.#deferred;
    this.#deferred = [];
    return taken;
  }

  /** A `rekey` of a newer `epoch` naming `by` (not null): ours to seal, or someone's to await. */
  noteRekey(epoch, by, selfId, isMember) {
    if (typeof by !== "string") return;
    if (by === selfId) {
      if (this.#ours?.epoch === Infinity) this.#ours.epoch = epoch;
    } else if (isMember(by)) {
      this.#awaited = { epoch, by };
    }
  }

  /**
   * A fresh link secret S' -> {secret, joinKeyHash} for admin_kick / admin_relink; `rosterIds`: the members
   * we accept now, the only ones S' may ever be sealed for. busy while a change is under way (one at a time,
   * or an acknowledgement could adopt a secret other than the one the others got).
   */
  async prepare(rosterIds) {
    if (this.changing) throw new ProtocolError("busy");
    const ours = { secret: randomId(), epoch: Infinity, sealedUnder: 0, roster: new Set(rosterIds) };
    this.#ours = ours;
    const { joinKeyHash } = await deriveJoinKey(ours.secret);
    return { secret: ours.secret, joinKeyHash };
  }

  /** The server refused the admin request: nothing changes. */
  cancel() {
    this.#ours = null;
  }

  /**
   * Our link body to seal under `heldEpoch` (roster `rosterIds`), or null: once per epoch, from the epoch the
   * rekey named, and only for a roster of members we accepted before the change began.
   */
  bodyFor(heldEpoch, rosterIds) {
    const ours = this.#ours;
    if (!ours || heldEpoch < ours.epoch || heldEpoch <= ours.sealedUnder) return null;
    if (!rosterIds.every((id) => ours.roster.has(id))) return null;
    ours.sealedUnder = heldEpoch; // refused as stale, it is sealed again under the next epoch
    return { t: "link", secret: ours.secret };
  }

  /** The server acknowledged our link message -> our secret (to adopt), or null. */
  takeOurs() {
    const secret = this.#ours?.secret ?? null;
    this.#ours = null;
    return secret;
  }

  /** The secret of a `link` body from `memberId` under `epoch`, if the awaited sender sent it; else null. */
  accept(memberId, epoch, body) {
    const awaited = this.#awaited;
    if (!awaited || memberId !== awaited.by || epoch < awaited.epoch || !isSecret(body?.secret)) return null;
    this.#awaited = null;
    return body.secret;
  }

  /** Forgets everything (wipe). */
  clear() {
    this.#awaited = this.#ours = null;
    this.#deferred = [];
  }
}

