// The join page's watch on its room before joining: GET /api/rooms/ROOM every few seconds (the
// same facts the page was rendered with - lock, head count, expiry - and nothing that names
// anyone), so a locked room shows as locked and changes when it is unlocked. Stops at the join.

const POLL_MS = 3000;

export class RoomStatus {
  #roomId; #onState; #onGone; #timer = 0; #running = false;

  /** `onState({locked, count, expires_at, now})` on each answer; `onGone()` on a 404 (burned, expired). */
  constructor(roomId, { onState, onGone }) {
    this.#roomId = roomId;
    this.#onState = onState;
    this.#onGone = onGone;
  }

  /** Starts watching (again). */
  start() {
    if (this.#running) return;
    this.#running = true;
    this.#schedule();
  }

  /** Stops watching (joined, or the page ended). */
  stop() {
    this.#running = false;
    clearTimeout(this.#timer);
  }

  #schedule() {
    clearTimeout(this.#timer);
    if (this.#running) this.#timer = setTimeout(() => this.#poll(), POLL_MS);
  }

  /** One look; a hidden page waits for the next turn, a network hiccup is simply tried again. */
  async #poll() {
    if (!this.#running) return;
    if (document.visibilityState === "hidden") return this.#schedule();
    try {
      const response = await fetch(`/api/rooms/${encodeURIComponent(this.#roomId)}`, { cache: "no-store", credentials: "omit" });
      if (!this.#running) return;
      if (response.status === 404) {
        this.stop();
        this.#onGone();
        return;
      }
      if (response.ok) this.#onState(await response.json());
    } catch {
      // offline for a moment: the next turn tries again
    }
    this.#schedule();
  }
}
