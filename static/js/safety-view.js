// The safety code (docs/PROTOCOL.md §5.4): 40 digits in 8 groups, shown with its key's epoch
// in the security strip (two lines of four groups, readable on a phone), and a panel with
// its QR code and "Compare with another phone", which scans the other screen's QR and says
// Match or Mismatch. Comparing uses epoch.js's compareSafety on the whole QR value.
import { compareSafety } from "./epoch.js";
import { drawQr } from "./qr.js";
import { CameraScan } from "./qr-scan.js";
import { make, part } from "./ui.js";

const NOTICE_MS = 8000;
const PLACEHOLDER = "····· ····· ····· ····· ····· ····· ····· ·····";

/** Fills `element` with the code as two lines of four groups (textContent stays "g1 g2 ... g8"). */
function showDigits(element, digits) {
  const groups = (digits || PLACEHOLDER).split(" ");
  const first = make("span", "safety-code__line", groups.slice(0, 4).join(" "));
  const second = make("span", "safety-code__line", groups.slice(4).join(" "));
  element.replaceChildren(first, document.createTextNode(" "), second);
}

/** {room, epoch} of a safety QR text, or null when it isn't one. */
function parseQr(text) {
  const match = /^burnchat-safety:2:([A-Za-z0-9_-]{22}):(\d{1,15}):[A-Za-z0-9_-]{43}$/.exec(text || "");
  return match ? { room: match[1], epoch: Number(match[2]) } : null;
}

export class SafetyView {
  #root; #code = null; #scan; #flashTimer = 0;

  /** `root`: the room markup (the strip and the panel's data-parts). */
  constructor(root) {
    this.#root = root;
    this.#scan = new CameraScan(part(root, "safety-video"));
    part(root, "safety-open").addEventListener("click", () => this.#setOpen(part(root, "safety-panel").hidden));
    part(root, "safety-close").addEventListener("click", () => this.#setOpen(false));
    part(root, "safety-scan").addEventListener("click", () => this.#compare());
    part(root, "safety-scan-stop").addEventListener("click", () => this.#scan.stop());
    part(root, "safety-panel").addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.#setOpen(false);
    });
    this.show(null);
  }

  /**
   * Shows `code` ({epoch, digits, qr} from RoomSession.safetyCode(), or null before any key).
   * `current` false: the room is moving to a newer key, so this one is shown dimmed.
   */
  show(code, { current = true } = {}) {
    const changed = this.#code && code && this.#code.qr !== code.qr;
    this.#code = code;
    for (const name of ["safety-epoch", "safety-panel-epoch"]) {
      // "Safety code (key 7)", in two pieces that each stay on one line when the strip is narrow.
      const label = [make("span", "safety-label__part", "Safety code")];
      if (code) label.push(document.createTextNode(" "), make("span", "safety-label__part", `(key ${code.epoch})`));
      part(this.#root, name).replaceChildren(...label);
    }
    showDigits(part(this.#root, "safety-code"), code?.digits);
    part(this.#root, "safety-code").dataset.current = String(Boolean(code) && current);
    showDigits(part(this.#root, "safety-panel-code"), code?.digits);
    part(this.#root, "safety-open").disabled = !code;
    if (!code) this.#setOpen(false);
    else if (!part(this.#root, "safety-panel").hidden) this.#drawQr();
    if (changed) {
      this.#flash();
      this.#result(null); // an earlier Match said nothing about the new key
    }
  }

  /** Opens or closes the panel; closing stops the camera. */
  #setOpen(open) {
    const panel = part(this.#root, "safety-panel");
    const toggle = part(this.#root, "safety-open");
    if (open && !this.#code) return;
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    if (open) {
      this.#drawQr();
      part(this.#root, "safety-scan").focus({ preventScroll: true });
    } else {
      this.#scan.stop();
    }
  }

  /** Draws the QR of the current code (the canvas must be visible to know its size). */
  #drawQr() {
    const canvas = part(this.#root, "safety-qr");
    if (this.#code) drawQr(canvas, this.#code.qr);
  }

  /** "Safety code changed" for a few seconds. */
  #flash() {
    const pill = part(this.#root, "safety-changed");
    pill.hidden = false;
    clearTimeout(this.#flashTimer);
    this.#flashTimer = setTimeout(() => { pill.hidden = true; }, NOTICE_MS);
  }

  /** Shows a comparison result: "match", "mismatch", "other" (with `text`), or null to clear. */
  #result(kind, text = "") {
    const result = part(this.#root, "safety-result");
    result.dataset.result = kind || "";
    result.textContent = kind === "match" ? "Match - you both see the same people and the same key."
      : kind === "mismatch" ? "Mismatch - someone may be in the middle. Don't trust this room."
        : text;
    if (kind) result.scrollIntoView({ block: "nearest" });
  }

  /** "Compare with another phone": camera on, scan the other screen's QR, camera off, Match or Mismatch. */
  async #compare() {
    const button = part(this.#root, "safety-scan");
    const camera = part(this.#root, "safety-camera");
    if (!navigator.mediaDevices?.getUserMedia) {
      this.#result("other", "This browser can't use the camera here. Compare the digits out loud instead.");
      return;
    }
    this.#result("other", "Point the camera at the other phone's safety QR code.");
    button.disabled = true;
    camera.hidden = false;
    part(this.#root, "safety-qr").hidden = true;
    let text = null;
    try {
      text = await this.#scan.start();
      if (text === null) this.#result(null); // stopped, or nothing found in time
    } catch {
      this.#result("other", "The camera isn't available. Compare the digits out loud instead.");
    } finally {
      camera.hidden = true;
      part(this.#root, "safety-qr").hidden = false;
      button.disabled = false;
    }
    if (text !== null) this.compareWith(text);
  }

  /** Compares a scanned QR text with our code and shows the answer. */
  compareWith(text) {
    const mine = this.#code;
    if (!mine) return;
    const theirs = parseQr(text);
    const ours = parseQr(mine.qr);
    if (!theirs) {
      this.#result("other", "That isn't a Burn Chat safety code.");
    } else if (theirs.room !== ours.room) {
      this.#result("other", "That safety code is from another room.");
    } else if (theirs.epoch !== ours.epoch) {
      this.#result("other", `The other phone shows key ${theirs.epoch}, this one key ${ours.epoch}. Wait until both show the same key, then compare again.`);
    } else {
      this.#result(compareSafety(text, mine.qr) ? "match" : "mismatch");
    }
  }

  /** Forgets the code, stops the camera, blanks the QR (burn, kick, pagehide). */
  wipe() {
    this.#scan.stop();
    clearTimeout(this.#flashTimer);
    part(this.#root, "safety-changed").hidden = true;
    this.#code = null;
    this.show(null);
    this.#result(null);
    const canvas = part(this.#root, "safety-qr");
    canvas.width = canvas.height = 0; // resizing a canvas clears its pixels
  }
}
