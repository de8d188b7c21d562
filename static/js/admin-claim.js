// "I'm the admin" in the people panel: after a reload the creator's admin rights (bound to the
// old connection) are gone; typing the PIN here claims them back for this member's own socket.
// The PIN's shape is checked here first, so a typo never costs one of the few attempts.
import { normalizePin, PIN_SHAPE, pinProof } from "./crypto.js";
import { errorText, part, say } from "./ui.js";

export { normalizePin, PIN_SHAPE };
export const SHAPE_ERROR = "A PIN has 8 letters and digits, like ABCD-2345 (no 0, 1, I or O).";
/** The failed ack a page answers with when it can't make a proof (a salt it can't read). */
export const UNUSABLE_SALT = { ok: false, code: "unusable_salt", error: "This page can't check a PIN. Reload it and try again." };

/** The PIN's proof under the room's `salt` (PBKDF2: a moment on a phone), or null. The PIN itself never leaves the page (§8.1). */
export function claimProof(pin, salt) {
  return pinProof(pin, salt).catch(() => null);
}

export class AdminClaim {
  #root; #claim; #open; #form; #input; #error; #submit;

  /** `claim(pin)` resolves the admin_auth ack (RoomChat.claimAdmin). */
  constructor(root, { claim }) {
    this.#root = part(root, "admin-claim");
    this.#claim = claim;
    this.#open = part(root, "admin-claim-open");
    this.#form = part(root, "admin-claim-form");
    this.#input = part(root, "admin-claim-pin");
    this.#error = part(root, "admin-claim-error");
    this.#submit = part(root, "admin-claim-submit");
    this.#open.addEventListener("click", () => this.#toggle(this.#form.hidden));
    this.#form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#send();
    });
  }

  /** Shows the form (and focuses the PIN) or folds it away. */
  #toggle(open) {
    this.#form.hidden = !open;
    this.#open.setAttribute("aria-expanded", String(open));
    if (open) this.#input.focus();
  }

  async #send() {
    const pin = normalizePin(this.#input.value);
    if (!PIN_SHAPE.test(pin)) {
      this.#invalid(SHAPE_ERROR);
      return;
    }
    this.#submit.disabled = true;
    const ack = await this.#claim(pin);
    this.#submit.disabled = false;
    if (!ack.ok) {
      this.#invalid(errorText(ack));
      return;
    }
    this.#input.value = "";
    this.#input.removeAttribute("aria-invalid");
    say(this.#error, "");
    this.#root.hidden = true; // the admin panel shows from now on
  }

  #invalid(text) {
    this.#input.setAttribute("aria-invalid", "true");
    say(this.#error, text);
    this.#input.focus();
  }

  /** Shown only to a member who isn't the admin yet. */
  show(visible) {
    this.#root.hidden = !visible;
  }

  /** Forgets what was typed (the room ended). */
  wipe() {
    this.#input.value = "";
    say(this.#error, "");
    this.#toggle(false);
  }
}
