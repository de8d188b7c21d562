// The people panel of a joined chat: the session's members, greyed "reconnecting..." while
// away, marked when not heard from under the current key (docs/PROTOCOL.md §5.5), with Kick
// buttons for an admin and the "I'm the admin" form otherwise. The list itself is people-view.js.
import { renderPeople } from "./people-view.js";
import { part } from "./ui.js";

const UNCONFIRMED_LABEL = "hasn't confirmed the room key";
const AWAY_LABEL = "reconnecting...";

export class RoomPeople {
  #root; #session; #admin; #claim; #colours; #unconfirmed = [];

  /** `session()`: the current RoomSession or null; `admin`: RoomAdmin; `claim`: AdminClaim; `colours`: ColourBook. */
  constructor({ root, session, admin, claim, colours }) {
    this.#colours = colours;
    this.#root = root;
    this.#session = session;
    this.#admin = admin;
    this.#claim = claim;
  }

  /** Marks roster members not heard from under the new key in the people list (§5.5). */
  refreshUnconfirmed(force = false) {
    const silent = this.#session()?.unconfirmed() ?? [];
    if (!force && silent.join() === this.#unconfirmed.join()) return;
    this.#unconfirmed = silent;
    this.refresh();
  }

  /** Re-renders the people list (with Kick buttons for an admin) and its count. */
  refresh() {
    const silent = new Set(this.#unconfirmed);
    const people = (this.#session()?.members() ?? []).map((person) => {
      if (person.away) return { ...person, label: AWAY_LABEL, labelClass: "tag--away" };
      return silent.has(person.memberId) ? { ...person, label: UNCONFIRMED_LABEL, labelClass: "tag--warn" } : person;
    });
    const admin = this.#admin.active;
    const onKick = admin ? (person, button) => this.#admin.kick(person, button) : null;
    const onKickLock = admin ? (person, button) => this.#admin.kickAndLock(person, button) : null;
    const onBan = admin ? (person, button) => this.#admin.kick(person, button, { relink: true }) : null;
    this.#colours.sync(people.map((person) => person.memberId));
    renderPeople(part(this.#root, "people"), people, { onKick, onKickLock, onBan, hueOf: (id) => this.#colours.hueOf(id) });
    this.#claim.show(!this.#admin.active);
    part(this.#root, "people-count").textContent = String(people.length);
  }

  /** Removes every name from the list. */
  wipe() {
    part(this.#root, "people").replaceChildren();
  }
}
