// Changing the room's link (docs/PROTOCOL.md §5.6), as bookkeeping: the admin's new secret until the
// server acknowledges the `link` message carrying it, and the one member a `rekey` named as the sender
// of the link message we accept. No keys, no network: protocol.js seals, opens and adopts.
import { b64uDecode, deriveJoinKey, randomId } from "./crypto.js";

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
  #ours = null;      // {secret, epoch, sealedUnder}: our change, until the server takes our link message

  /** A `rekey` of a newer `epoch` naming `by` (not null): ours to seal, or someone's to await. */
  noteRekey(epoch, by, selfId, isMember) {
    if (typeof by !== "string") return;
    if (by === selfId) {
      if (this.#ours?.epoch === Infinity) this.#ours.epoch = epoch;
    } else if (isMember(by)) {
      this.#awaited = { epoch, by };
    }
  }

  /** A fresh link secret S' -> {secret, joinKeyHash} for admin_kick / admin_relink. */
  async prepare() {
    const secret = randomId();
    const { joinKeyHash } = await deriveJoinKey(secret);
    this.#ours = { secret, epoch: Infinity, sealedUnder: 0 };
    return { secret, joinKeyHash };
  }

  /** The server refused the admin request: nothing changes. */
  cancel() {
    this.#ours = null;
  }

  /** Our link body to seal under `heldEpoch`, or null: once per epoch, from the epoch the rekey named. */
  bodyFor(heldEpoch) {
    const ours = this.#ours;
    if (!ours || heldEpoch < ours.epoch || heldEpoch <= ours.sealedUnder) return null;
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
  }
}

