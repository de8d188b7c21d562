// What a message from the room becomes on screen: shown only if every check of
// docs/PROTOCOL.md §6 passes (with its late / out-of-order note), held back while its key is
// on its way, counted as rejected otherwise. The checks themselves are RoomSession.open().
import { HOLD_BACK_MS } from "./protocol.js";

export class RoomMessages {
  #session; #ended; #schedule; #log; #notices; #rejected; #heard; #onText; #onTyping; #onRelink; #files; #heldTimer = 0;

  /**
   * `session()`: the current RoomSession or null; `ended()`: true once the chat ended;
   * `schedule(fn)`: runs fn in the chat's event queue; `log`, `notices`, `rejected`: the
   * MessageLog, IntegrityNotices and RejectedCount; `heard()`: someone was heard from;
   * `onText(result)`: a text was shown; `onTyping(result)`: someone is typing (a typing body);
   * `onRelink(relink, name)`: the member the server named sent the room's new link (§5.6); `files`: the
   * RoomFiles that shows a file's card (§6.7).
   */
  constructor({ session, ended, schedule, log, notices, rejected, heard, onText = () => {}, onTyping = () => {}, onRelink = () => {}, files }) {
    this.#onText = onText;
    this.#onTyping = onTyping;
    this.#onRelink = onRelink;
    this.#files = files;
    this.#session = session;
    this.#ended = ended;
    this.#schedule = schedule;
    this.#log = log;
    this.#notices = notices;
    this.#rejected = rejected;
    this.#heard = heard;
  }

  /** A message: shown only if every §6 check passes, held back while its key is on its way, else counted. */
  async open(envelope) {
    try {
      const result = await this.#session().open(envelope);
      if (result) this.#show(result);
      else this.#armHeldTimer();
    } catch {
      this.#rejected.show(this.#session());
    }
  }

  /** What open() gave: notices as system lines, then a text (with its late / out-of-order note). */
  #show(result) {
    this.#notices.show(result.notices);
    if (result.relink) this.#onRelink(result.relink, result.name);
    if (result.file) {
      this.#files.announced(result);
      this.#onText({ ...result, text: "Sent a file" }); // unread, sound, notification: never its name
    }
    if (result.text === undefined) {
      if (result.typing && !result.late) this.#onTyping(result); // a late one says nothing about now
      this.#heard(); // a confirm, digest or typing body: its sender has been heard from
      return;
    }
    const { memberId, name, text, me, late, outOfOrder, afterReplies } = result;
    if (outOfOrder) this.#notices.outOfOrder(memberId);
    const note = late ? "arrived late" : afterReplies ? "arrived after the replies to it" : outOfOrder ? "shown out of order" : "";
    this.#log.addMessage({ senderId: memberId, name, text, me, note, own: false });
    this.#onText(result);
    this.#heard();
  }

  /** Shows held-back messages whose key is here; counts those stale or waiting too long. */
  async releaseHeld() {
    const session = this.#session();
    if (!session?.heldCount) return;
    const shown = await session.releaseHeld();
    if (session !== this.#session() || this.#ended()) return;
    for (const result of shown) this.#show(result);
    this.#rejected.show(this.#session());
    if (session.heldCount) this.#armHeldTimer();
  }

  /** Makes sure held-back messages are given up on (and counted) once their time is over. */
  #armHeldTimer() {
    if (this.#heldTimer) return;
    this.#heldTimer = setTimeout(() => {
      this.#heldTimer = 0;
      this.#schedule(() => (this.#session() && !this.#ended() ? this.releaseHeld() : undefined));
    }, HOLD_BACK_MS + 100);
  }

  /** Stops the held-back timer. */
  wipe() {
    clearTimeout(this.#heldTimer);
    this.#heldTimer = 0;
  }
}
