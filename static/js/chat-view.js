// The chat's two widgets: the message log (text only via textContent, sticky
// scrolling) and the composer (Securing... state, UTF-8 byte budget, Enter to
// send, nothing lost on a failed send).
import { MAX_TEXT_BYTES, utf8Length } from "./crypto.js";
import { messageText } from "./message-text.js";
import { formatClock, make, userText } from "./ui.js";

const STICK_PX = 64;           // "at the bottom" tolerance, so a half-visible last line still counts
const GROUP_MS = 3 * 60 * 1000; // consecutive messages of one sender within this share a header

/** A stable hue for a member, so each name keeps its colour. */
function hueOf(memberId) {
  let hash = 0;
  for (const ch of memberId || "") hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return hash % 360;
}

/** The role="log" list of messages and system lines. */
export class MessageLog {
  #log; #jump; #last = { senderId: null, at: 0 }; #hueOf;
  #pinned = true; // the reader is following the newest message
  #height = 0;     // the log's height when last laid out (ResizeObserver)

  /**
   * `log`: the role="log" element; `jump`: the "New messages" button shown when scrolled up;
   * `hueOf(memberId)`: the person's colour, the same as their avatar's (colours.js).
   */
  constructor(log, jump, { hueOf: colourOf = hueOf } = {}) {
    this.#log = log;
    this.#jump = jump;
    this.#hueOf = colourOf;
    this.#height = log.clientHeight;
    log.addEventListener("scroll", () => {
      // A scroll the browser makes as the log shrinks (clamping, scroll anchoring) may come
      // before the ResizeObserver's turn: it is no reader scrolling up, so it unpins nothing.
      if (log.clientHeight !== this.#height) return;
      this.#pinned = this.#atBottom();
      if (this.#pinned) jump.hidden = true;
    }, { passive: true });
    jump.addEventListener("click", () => this.scrollToBottom());
    // A shorter log (the composer grows, the phone keyboard opens, the final-minute banner
    // appears) scrolls nothing by itself: whoever was following must stay at the newest line.
    globalThis.ResizeObserver && new ResizeObserver(() => {
      this.#height = log.clientHeight;
      if (this.#pinned) this.#stick();
    }).observe(log);
  }

  /** True when the reader is at (or very near) the newest message. */
  #atBottom() {
    const log = this.#log;
    return log.scrollHeight - log.scrollTop - log.clientHeight <= STICK_PX;
  }

  /** Scrolls to the very bottom without touching the "New messages" state. */
  #stick() {
    this.#log.scrollTop = this.#log.scrollHeight;
  }

  /** Appends a node; follows it if the reader was following (or `force`: one's own message). */
  #append(node, force = false) {
    const follow = force || this.#pinned || this.#atBottom();
    this.#log.append(node);
    if (follow) this.scrollToBottom();
    else this.#jump.hidden = false;
  }

  /** Jumps to the newest message. */
  scrollToBottom() {
    this.#pinned = true;
    this.#stick();
    this.#jump.hidden = true;
  }

  /**
   * Shows one chat message; `own` ones are right-aligned bubbles without a name. `me`: a /me
   * action; `note`: how it arrived when that matters ("arrived late", "shown out of order");
   * `pending`: one of ours not acknowledged yet (see setSendState); `content`: a node shown instead
   * of text (a file card, room-files.js). Returns the message's node.
   */
  addMessage({ senderId, name, text, own, me = false, note = "", pending = false, at = new Date(), content = null }) {
    const grouped = this.#last.senderId === senderId && at - this.#last.at < GROUP_MS;
    this.#last = { senderId, at };
    const item = make("div", `msg ${own ? "msg--own" : "msg--other"}${grouped ? " msg--cont" : ""}${me ? " msg--me" : ""}`);
    item.dataset.testid = own ? "message-own" : "message";
    item.style.setProperty("--hue", this.#hueOf(senderId));
    const bubble = make("div", "msg__bubble");
    if (!own && !grouped) bubble.append(userText("span", "msg__name", name));
    else item.append(userText("span", "visually-hidden", own ? "You" : name));
    bubble.append(content ?? messageText(text));
    if (me && !content) bubble.querySelector(".msg__text").prepend(userText("span", "msg__actor", name), " "); // "/me waves": "Ana waves"
    const time = make("time", "msg__time", formatClock(at));
    time.dateTime = at.toISOString();
    bubble.append(time);
    if (note) bubble.append(make("span", "msg__note", note));
    item.append(bubble);
    if (own && !content) this.setSendState(item, pending ? "pending" : "sent");
    this.#append(item, own);
    return item;
  }

  /**
   * One of our bubbles: "pending" (a clock, drawn by the CSS), "sent" (a normal bubble) or
   * "failed" with `reason` said on it. The state is also said in words for screen readers.
   */
  setSendState(item, state, reason = "") {
    item.dataset.state = state;
    const bubble = item.querySelector(".msg__bubble");
    bubble.querySelector(".msg__send-state")?.remove();
    if (state === "pending") bubble.append(make("span", "visually-hidden msg__send-state", "Not sent yet"));
    if (state === "failed") {
      const note = make("span", "msg__note msg__note--failed msg__send-state", `Couldn't be sent: ${reason}`);
      note.dataset.testid = "send-failed";
      bubble.append(note);
    }
  }

  /** True while at least one chat message is on screen (a reload would erase it). */
  hasMessages() {
    return this.#log.querySelector(".msg") !== null;
  }

  /**
   * Shows a system line such as "Ana joined"; `parts` are plain strings or {name} for user text.
   * `tone`: join, leave, key, quiet (a minor oddity) or warn (someone may be cheating).
   */
  addSystem(parts, tone = "") {
    const line = make("p", `sys${tone ? ` sys--${tone}` : ""}`);
    line.dataset.testid = "system-line";
    this.rewriteSystem(line, parts);
    this.#last = { senderId: null, at: 0 };
    this.#append(line);
    return line;
  }

  /** Replaces what a system line says (a folded run of joins grows: "Ana, Ben and 3 others joined"). */
  rewriteSystem(line, parts) {
    line.replaceChildren(...parts.map((piece) => (typeof piece === "string" ? document.createTextNode(piece) : userText("span", "sys__name", piece.name))));
  }

  /** Removes every message node at once (burn, kick): no text of the room stays in the DOM. */
  clear() {
    this.#log.replaceChildren();
    this.#last = { senderId: null, at: 0 };
    this.#jump.hidden = true;
    this.#pinned = true;
  }
}

/** The message box: sends on Enter, counts bytes, locks while securing, keeps text on failure. */
export class Composer {
  #form; #text; #send; #status; #bytes; #onSend;
  #ready = false; #writable = false; #sending = false; #waitingText = "Securing..."; #statusTimer = 0;

  /** `onSend(text)` resolves {ok} or {ok: false, message}; the text is cleared only on ok. */
  constructor(form, { onSend }) {
    this.#form = form;
    this.#text = form.querySelector("[data-part=composer-text]");
    this.#send = form.querySelector("[data-part=send]");
    this.#status = form.querySelector("[data-part=composer-status]");
    this.#bytes = form.querySelector("[data-part=byte-counter]");
    this.#onSend = onSend;
    this.#text.addEventListener("input", () => this.#refreshBytes());
    this.#text.addEventListener("keydown", (event) => this.#onKey(event));
    form.addEventListener("submit", (event) => { event.preventDefault(); this.#submit(); });
    this.#autosizeFallback();
    this.#refreshBytes();
    this.#render();
  }

  /** Enter sends, Shift+Enter (or an IME composition) types a newline. */
  #onKey(event) {
    if (event.key !== "Enter" || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    this.#form.requestSubmit();
  }

  /** Browsers without `field-sizing: content` grow the box with a little script instead. */
  #autosizeFallback() {
    if (globalThis.CSS?.supports?.("field-sizing", "content")) return;
    this.#text.addEventListener("input", () => {
      this.#text.style.setProperty("height", "auto");
      this.#text.style.setProperty("height", `${this.#text.scrollHeight}px`);
    });
  }

  /** Bytes left of the 4096-byte budget (negative when over). */
  #left() {
    return MAX_TEXT_BYTES - utf8Length(this.#text.value);
  }

  /** Updates the byte counter and the over-limit warning. */
  #refreshBytes() {
    const left = this.#left();
    // Quiet until it matters: the count shows only near the limit, in plain words past it.
    this.#bytes.textContent = left < 0 ? `${(-left).toLocaleString("en")} bytes over` : left < 200 ? `${left.toLocaleString("en")} bytes left` : "";
    this.#bytes.dataset.level = left < 0 ? "over" : left < 200 ? "low" : "";
    if (left < 0) this.showStatus(this.#tooLongText(left), "error", 0);
    else if (this.#status.dataset.tone === "error" && this.#status.dataset.kind === "too-long") this.#render();
  }

  /** The sentence for a message over the limit. */
  #tooLongText(left) {
    return `Message too long (${MAX_TEXT_BYTES.toLocaleString("en")} bytes max) - shorten it by ${(-left).toLocaleString("en")} to send.`;
  }

  /** Validates and hands the text to onSend; keeps it in the box unless it was sent. */
  async #submit() {
    if (!(this.#ready || this.#writable) || this.#sending) return;
    const text = this.#text.value;
    if (!text.trim()) return;
    const left = this.#left();
    if (left < 0) {
      this.showStatus(this.#tooLongText(left), "error", 0);
      return;
    }
    this.#sending = true;
    this.#render();
    let result;
    try {
      result = await this.#onSend(text);
    } catch {
      result = { ok: false, message: "Couldn't send - try again." };
    }
    this.#sending = false;
    if (result.ok && this.#text.value === text) {
      this.#text.value = "";
      this.#text.style.removeProperty("height");
      this.#refreshBytes();
    }
    this.#render();
    if (!result.ok && result.message) this.showStatus(result.message, "error", 5000);
    if (this.#ready || this.#writable) this.#text.focus({ preventScroll: true });
  }

  /**
   * Ready: the current epoch's key is held. Otherwise the box says `waitingText` and locks, unless
   * `writable` (offline: what is written now waits and goes out on return).
   */
  setReady(ready, waitingText = "Securing...", { writable = false } = {}) {
    this.#ready = ready;
    this.#writable = !ready && writable;
    this.#waitingText = waitingText;
    this.#render();
  }

  /** Shows a status sentence under the box; it clears itself after `ms` (0 keeps it). */
  showStatus(text, tone = "", ms = 4000) {
    clearTimeout(this.#statusTimer);
    this.#status.textContent = text;
    this.#status.dataset.tone = tone;
    this.#status.dataset.kind = text.startsWith("Message too long") ? "too-long" : "";
    if (ms) this.#statusTimer = setTimeout(() => this.#render(), ms);
  }

  /** Puts the box and button in the state that matches ready/sending. */
  #render() {
    const open = this.#ready || this.#writable;
    const locked = !open || this.#sending;
    // readonly + aria-disabled rather than `disabled`: the box keeps focus (and the phone keyboard) across a rekey.
    this.#text.readOnly = locked;
    this.#text.setAttribute("aria-disabled", String(!open));
    this.#text.placeholder = open ? "Write a message" : this.#waitingText;
    this.#send.disabled = locked;
    this.#form.dataset.state = this.#ready ? (this.#sending ? "sending" : "ready") : this.#writable ? "offline" : "securing";
    clearTimeout(this.#statusTimer);
    if (this.#left() < 0) this.showStatus(this.#tooLongText(this.#left()), "error", 0);
    else {
      this.#status.textContent = this.#ready ? "End-to-end encrypted" : this.#waitingText;
      this.#status.dataset.tone = this.#ready ? "ok" : this.#writable ? "offline" : "wait";
      this.#status.dataset.kind = "";
    }
  }

  /** Empties the box and locks it for good (the room ended). */
  wipe() {
    this.#text.value = "";
    this.#ready = this.#writable = false;
    this.#refreshBytes();
    this.#render();
  }

  /** Focuses the message box. */
  focus() {
    this.#text.focus({ preventScroll: true });
  }
}
