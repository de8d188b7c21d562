// "<name> is typing..." (docs/PROTOCOL.md §6.3): our own typing goes out as an encrypted
// `typing` body, at most once per 3 s while the box changes and never when idle; theirs shows
// under the log until it expires or their message arrives. The rules are typing.js.
import { TypingBoard, TypingThrottle, typingParts } from "./typing.js";
import { part, userText } from "./ui.js";

export class RoomTyping {
  #line; #text; #session; #deliver; #canSend; #throttle = new TypingThrottle(); #board = new TypingBoard();
  #timer = 0; #onInput;

  /**
   * `root`: the room markup; `session()`: the current RoomSession or null; `deliver(envelope)`:
   * sends a sealed envelope and reports its outcome (Outbox.deliver); `canSend()`: live and keyed.
   */
  constructor({ root, session, deliver, canSend }) {
    this.#line = part(root, "typing");
    this.#text = part(root, "composer-text");
    this.#session = session;
    this.#deliver = deliver;
    this.#canSend = canSend;
    this.#onInput = () => this.#typed();
    this.#text.addEventListener("input", this.#onInput);
  }

  /** The box changed: say so when due, and only when it can go out at once (never queued). */
  async #typed() {
    if (!this.#canSend() || !this.#throttle.input(this.#text.value)) return;
    const session = this.#session();
    const envelope = await session?.makeTyping().catch(() => null);
    if (envelope && session === this.#session()) await this.#deliver(envelope);
  }

  /** Our message went out: the next keystroke may say typing again. */
  sent() {
    this.#throttle.sent();
  }

  /** `memberId` is typing. */
  heard(memberId, name) {
    this.#board.typing(memberId, name);
    this.#render();
  }

  /** `memberId`'s message arrived, or it left. */
  stopped(memberId) {
    if (this.#board.stopped(memberId)) this.#render();
  }

  /** Shows who types now and wakes up when the next one expires. */
  #render() {
    clearTimeout(this.#timer);
    const parts = typingParts(this.#board.names());
    this.#line.replaceChildren(...parts.map((piece) => (typeof piece === "string" ? piece : userText("span", "typing__name", piece.name))));
    this.#line.hidden = parts.length === 0;
    const next = this.#board.nextExpiry();
    if (next !== null) this.#timer = setTimeout(() => this.#render(), next + 50);
  }

  /** Nobody types any more and no name stays on screen (the room ended). */
  wipe() {
    clearTimeout(this.#timer);
    this.#board.clear();
    this.#line.replaceChildren();
    this.#line.hidden = true;
    this.#text.removeEventListener("input", this.#onInput);
  }
}
