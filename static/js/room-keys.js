// The room key's life on this page (docs/PROTOCOL.md §5): `rekey`, answering `key_request`
// as an epoch's creator, accepting `room_key` (or raising a roster mismatch), the `confirm`
// that must be each member's first message of an epoch, and the admin's check that a kick
// really happened: "Removed" only once this page holds a key whose roster leaves the member out.
import { request } from "./net.js";

const REMOVAL_WAIT_MS = 5000;

export class RoomKeys {
  #socket; #notices; #onChange; #deliver; #proven = 0; #watchers = new Map(); // check(session) -> finish(result)

  /**
   * `socket()`: the current socket; `notices`: IntegrityNotices; `onChange()`: refresh composer, safety
   * code, people; `deliver(envelope)`: sends one of our envelopes and reports its outcome (outbox.js).
   */
  constructor({ socket, notices, onChange, deliver }) {
    this.#socket = socket;
    this.#notices = notices;
    this.#onChange = onChange;
    this.#deliver = deliver;
  }

  /** True when `session` holds a usable key: texts may be written (protocol.js sends our confirm before them). */
  canSend(session) {
    return Boolean(session?.ready);
  }

  /** A new epoch: it locks the composer until its key is here; a creator passed over twice is named. */
  onRekey(session, event) {
    const { passedOverTwice } = session.onRekey(event);
    if (passedOverTwice) this.#notices.passedOver(passedOverTwice);
    this.#onChange();
  }

  /** We are this epoch's creator: make it for everyone we accept, deliver, then confirm. */
  async onKeyRequest(session, keyRequest) {
    let delivery;
    try {
      delivery = await session.answerKeyRequest(keyRequest);
    } catch {
      return; // stale or refused: the server passes the request on after 2 s (§5.1)
    }
    const ack = await request(this.#socket(), "key_deliver", delivery);
    if (!ack.ok) return; // refused (it doesn't key everyone the server lists): it proves nothing about the room
    this.#proven = delivery.epoch;
    await this.#confirm(session);
    this.#changed(session);
  }

  /** A wrapped key for us: accept it (and say key_held, then confirm) or show who differs. */
  async onRoomKey(session, event) {
    let epoch;
    try {
      epoch = await session.acceptRoomKey(event);
    } catch (error) {
      if (error?.code === "roster_mismatch") this.#notices.rosterMismatch(error.detail);
      return; // any other failure is dropped quietly; key_missing asks for another creator
    }
    this.#proven = epoch;
    await request(this.#socket(), "key_held", { epoch });
    await this.#confirm(session);
    this.#changed(session);
  }

  /** Sends our `confirm` for the held epoch, once (§5.5); null while an older envelope is pending (the outbox sends it then). */
  async #confirm(session) {
    const envelope = await session.makeConfirm().catch(() => null);
    if (envelope) await this.#deliver(envelope);
  }

  /** The held key changed: tell the page and every waiting removal check. */
  #changed(session) {
    this.#onChange();
    for (const check of [...this.#watchers.keys()]) check(session);
  }

  /**
   * After an `admin_kick` ack: resolves true once this page holds a key of an epoch >= `epoch`
   * whose roster leaves `memberId` out, false after REMOVAL_WAIT_MS without one (or when the room ends).
   */
  confirmRemoval(session, memberId, epoch) {
    return new Promise((resolve) => {
      const finish = (result) => {
        clearTimeout(timer);
        this.#watchers.delete(check);
        resolve(result);
      };
      // A key we made counts only once the server took its delivery (protocol.js holds it from the start).
      const check = (current) => {
        const held = current?.safetyCode()?.epoch ?? 0;
        const roster = current?.keyRosterIds();
        if (roster && held === this.#proven && held >= epoch && !roster.includes(memberId)) finish(true);
      };
      const timer = setTimeout(() => finish(false), REMOVAL_WAIT_MS);
      this.#watchers.set(check, finish);
      check(session);
    });
  }

  /** The session ended (rejoin, burn, kick): pending removal checks fail, the confirm is forgotten. */
  reset() {
    this.#proven = 0;
    for (const finish of [...this.#watchers.values()]) finish(false);
  }
}
