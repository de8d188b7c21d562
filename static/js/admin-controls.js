// The admin's buttons (templates/_admin_controls.html): lock/unlock, extend,
// burn now with an in-page confirm step, and kick. Shared by the creator's
// in-room panel and the /admin page; both pass a `request(event, payload)`
// that sends over their socket and resolves with the server's ack. A kick's ack
// is only the server's word: the room passes `confirmKick`, which checks it.
import { errorText, formatDuration, part, parts, userText } from "./ui.js";

const CAP_SLACK_MS = 1000; // the server treats "within a second of the cap" as at the cap
// No answer is not a refusal: the server may have changed the link, and then only our client can hand it out.
const UNANSWERED = new Set(["timeout", "no_answer"]);

export class AdminControls {
  #root; #request; #onExtended; #confirmKick; #relink; #statusTimer = 0; #kicking = new Set();
  #state = { locked: false, expiresAt: 0, maxExpiresAt: Infinity };

  /**
   * `onExtended(expiresAt, now)` lets the page move its countdown as soon as the ack lands;
   * `confirmKick(person, ack)` resolves true once the page has proof the member is out, false
   * if not; without it (the /admin page holds no key) the ack is all there is, and it says so.
   * `relink` ({prepare, cancel}, the room page only) makes the new link Ban and "New link" need (§5.6).
   */
  constructor(root, { request, onExtended = () => {}, confirmKick = null, relink = null }) {
    this.#root = root;
    this.#relink = relink;
    const newLink = part(root, "new-link");
    newLink.hidden = !relink; // the /admin page holds no key: it can't hand a new link to anyone
    newLink.addEventListener("click", () => this.#changeLink(newLink));
    this.#request = request;
    this.#onExtended = onExtended;
    this.#confirmKick = confirmKick;
    part(root, "lock-toggle").addEventListener("click", () => this.#toggleLock());
    for (const button of parts(root, "extend")) {
      button.addEventListener("click", () => this.#extend(button, Number(button.dataset.seconds)));
    }
    part(root, "burn-now").addEventListener("click", () => this.#askBurn());
    part(root, "burn-confirm-cancel").addEventListener("click", () => this.#cancelBurn());
    part(root, "burn-confirm-yes").addEventListener("click", (event) => this.#burn(event.currentTarget));
  }

  /** Takes the room's state from an ack, `room_state` or `countdown` (missing fields keep their value). */
  update({ locked, expiresAt, maxExpiresAt } = {}) {
    if (typeof locked === "boolean") this.#state.locked = locked;
    if (Number.isFinite(expiresAt)) this.#state.expiresAt = expiresAt;
    if (Number.isFinite(maxExpiresAt)) this.#state.maxExpiresAt = maxExpiresAt;
    this.#render();
  }

  /** Shows the lock button's label and the extend buttons' availability. */
  #render() {
    const lock = part(this.#root, "lock-toggle");
    lock.textContent = this.#state.locked ? "Unlock room" : "Lock room";
    lock.dataset.locked = String(this.#state.locked);
    const atCap = this.#state.expiresAt >= this.#state.maxExpiresAt - CAP_SLACK_MS;
    for (const button of parts(this.#root, "extend")) button.disabled = atCap;
    part(this.#root, "extend-note").hidden = !atCap;
  }

  /**
   * A short confirmation or error under the controls: a string, or parts (strings and {name}).
   * Warnings stay until the next message; the rest clears after a while.
   */
  #say(text, tone = "") {
    const status = part(this.#root, "admin-status");
    clearTimeout(this.#statusTimer);
    const pieces = Array.isArray(text) ? text : [text];
    status.replaceChildren(...pieces.map((piece) => (typeof piece === "string" ? piece : userText("span", "", piece.name))));
    status.dataset.tone = tone;
    if (tone !== "warn") this.#statusTimer = setTimeout(() => { status.textContent = ""; }, 6000);
  }

  /** Runs one admin request with `button` busy meanwhile; returns the ack and reports failures. */
  async #run(button, event, payload) {
    button.disabled = true;
    const ack = await this.#request(event, payload);
    button.disabled = false;
    if (!ack.ok) this.#say(errorText(ack), "error");
    return ack;
  }

  /** Locks or unlocks the room for newcomers. */
  async #toggleLock() {
    const button = part(this.#root, "lock-toggle");
    const locked = !this.#state.locked;
    const ack = await this.#run(button, "admin_lock", { locked });
    if (ack.ok) {
      this.#state.locked = locked;
      this.#say(locked ? "Room locked: nobody new can join." : "Room unlocked: people with the link can join.", "ok");
    }
    this.#render();
  }

  /** Locks (or unlocks) the room without the toggle -> the ack ("Kick and lock the room" locks first). */
  async lock(locked) {
    if (this.#state.locked === locked) return { ok: true };
    const ack = await this.#run(part(this.#root, "lock-toggle"), "admin_lock", { locked });
    if (ack.ok) this.#state.locked = locked;
    this.#render();
    return ack;
  }

  /** Adds time; at the 72 h cap the server refuses with max_ttl and the buttons explain why. */
  async #extend(button, seconds) {
    const ack = await this.#run(button, "admin_extend", { seconds });
    if (ack.ok) {
      this.#state.expiresAt = ack.expires_at;
      this.#onExtended(ack.expires_at, ack.now);
      this.#say(`Added ${formatDuration(seconds)}.`, "ok");
    } else if (ack.code === "max_ttl") {
      this.#state.expiresAt = this.#state.maxExpiresAt;
    }
    this.#render();
  }

  /** First press of "Burn now": ask inside the page (no window.confirm). */
  #askBurn() {
    part(this.#root, "burn-now").hidden = true;
    part(this.#root, "burn-confirm").hidden = false;
    part(this.#root, "burn-confirm-cancel").focus();
  }

  /** Backs out of the confirm step. */
  #cancelBurn() {
    part(this.#root, "burn-confirm").hidden = true;
    const burn = part(this.#root, "burn-now");
    burn.hidden = false;
    burn.focus();
  }

  /** Burns the room for everyone; the `destroyed` event then burns this screen too. */
  async #burn(button) {
    const ack = await this.#run(button, "admin_burn", {});
    if (ack.ok) this.#say("Burning...", "ok");
    else this.#cancelBurn();
  }

  /** True while a kick of `memberId` from this panel waits for its proof. */
  kicking(memberId) {
    return this.#kicking.has(memberId);
  }

  /** A new link's join-key hash for the server, or null (said) when the session can't make one now. */
  async #newLinkHash() {
    try {
      return (await this.#relink.prepare()).joinKeyHash;
    } catch (error) {
      this.#say(error?.code === "busy" ? "The link is already changing - wait for it to finish."
        : "The link can't change while the room key is being set up - try again in a moment.", "error");
      return null;
    }
  }

  /** "New link": the old link stops admitting anyone; our client hands the new one to the members. */
  async #changeLink(button) {
    const hash = await this.#newLinkHash();
    if (!hash) return;
    const ack = await this.#run(button, "admin_relink", { join_key_hash: hash });
    if (ack.ok) this.#say("Changing the link...");
    else if (!UNANSWERED.has(ack.code)) this.#relink.cancel();
  }

  /** Our link message reached the server (§5.6). */
  linkChanged() {
    this.#say("New link ready: the old one no longer lets anyone in. Copy link gives the new one.", "ok");
  }

  /**
   * Removes a member: "Removing...", then "Removed" only with proof (confirmKick), else a warning.
   * `relink` (Ban) changes the link in the same step, so the old link admits nobody any more.
   */
  async kick(person, button, { relink = false } = {}) {
    const hash = relink && this.#relink ? await this.#newLinkHash() : null;
    if (relink && !hash) return;
    this.#kicking.add(person.memberId);
    this.#say(["Removing ", { name: person.name }, "..."]);
    const ack = await this.#run(button, "admin_kick", { member_id: person.memberId, ...(hash ? { join_key_hash: hash } : {}) });
    if (!ack.ok) {
      if (hash && !UNANSWERED.has(ack.code)) this.#relink.cancel();
      this.#kicking.delete(person.memberId);
      return;
    }
    if (!this.#confirmKick) {
      this.#kicking.delete(person.memberId);
      this.#say(["The server says ", { name: person.name }, " was removed. Only a member's page can check it: this page holds no room key."], "ok");
      return;
    }
    const removed = await this.#confirmKick(person, ack);
    if (!this.#kicking.delete(person.memberId)) return; // wiped meanwhile
    if (removed) this.#say(["Removed ", { name: person.name }, ". The room switched to a new key without them."], "ok");
    else this.#say("The server didn't confirm the removal - don't trust this room", "warn");
  }

  /** The room ended: forget pending kicks and the status line. */
  wipe() {
    this.#kicking.clear();
    clearTimeout(this.#statusTimer);
    part(this.#root, "admin-status").textContent = "";
  }
}
