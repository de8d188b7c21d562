// The creator's admin panel inside the room: the PIN (from memory) claims admin rights for
// this connection, and a kick is reported as done only when this page's own key shows it
// (docs/PROTOCOL.md §5.5): "Removed" once the held key's roster leaves the member out,
// "The server didn't confirm the removal" when no such key arrives within 5 s.
import { AdminControls } from "./admin-controls.js";
import { request } from "./net.js";
import { errorText, part } from "./ui.js";

export class RoomAdmin {
  #root; #log; #keys; #session; #controls = null; #active = false;

  /**
   * `log`: the MessageLog; `keys`: RoomKeys (confirmRemoval); `session()`: the current
   * RoomSession; `onExtended(expiresAt, now)`: the countdown follows an extension; `relink`:
   * {prepare, cancel} of the session's link change (§5.6), for Ban and New link.
   */
  constructor({ root, log, keys, session, onExtended, send, relink }) {
    this.#root = root;
    this.#log = log;
    this.#keys = keys;
    this.#session = session;
    this.#controls = new AdminControls(part(root, "admin-controls"), {
      request: send,
      onExtended,
      confirmKick: (person, ack) => this.#confirmKick(person, ack),
      relink,
    });
  }

  /** True once this connection holds admin rights. */
  get active() {
    return this.#active;
  }

  /**
   * Claims admin rights with the PIN's `proof` (§8.1) on `socket`; shows the panel -> the ack. A
   * refusal is said in the chat unless `report` is false (the people panel's own form shows it).
   */
  async claim(socket, roomId, proof, joinAck, { report = true } = {}) {
    const ack = await request(socket, "admin_auth", { room: roomId, proof });
    if (!ack.ok) {
      if (report) this.#log.addSystem([`Admin controls unavailable: ${errorText(ack)}`], "warn");
      return ack;
    }
    this.#active = true;
    this.#controls.update({ locked: ack.locked ?? joinAck.locked, expiresAt: ack.expires_at, maxExpiresAt: ack.max_expires_at });
    part(this.#root, "admin-slot").hidden = false;
    part(this.#root, "admin-claim").hidden = true;
    return ack;
  }

  /** Room state from the server (lock, expiry). */
  update(state) {
    this.#controls.update(state);
  }

  /** The Kick button's action; Ban's with `relink` (kick and change the link). */
  kick(person, button, { relink = false } = {}) {
    return this.#controls.kick(person, button, { relink });
  }

  /** Our link message reached the server: the new link is the room's. */
  linkChanged() {
    this.#controls.linkChanged();
  }

  /** "Kick and lock the room": locked first, so the kicked can't come straight back with the link. */
  async kickAndLock(person, button) {
    const ack = await this.#controls.lock(true);
    if (ack.ok) await this.#controls.kick(person, button);
  }

  /** True while our kick of `memberId` waits for its proof. */
  kicking(memberId) {
    return this.#controls.kicking(memberId);
  }

  /** After an admin_kick ack: true once our own key leaves the member out, false after 5 s without. */
  async #confirmKick(person, ack) {
    const session = this.#session();
    const removed = session ? await this.#keys.confirmRemoval(session, person.memberId, ack.epoch ?? 0) : false;
    if (!this.#active) return removed; // the room ended meanwhile
    if (removed) this.#log.addSystem([{ name: person.name }, " was removed by the admin"], "warn");
    else this.#log.addSystem(["The server didn't confirm the removal of ", { name: person.name }, " - don't trust this room"], "warn");
    return removed;
  }

  /** The room ended: nothing more is said. */
  wipe() {
    this.#active = false;
    this.#controls.wipe();
  }
}
