// The live countdown. The server's `expires_at` is the truth; we only track
// how far this device's clock is from the server's (taken from each `now` the
// server sends) and recompute the remaining time on every tick, so a sleeping
// tab, a slow phone or a skewed clock never drifts.
import { formatCountdown } from "./ui.js";

const TICK_MS = 250;
const WARN_MS = 5 * 60 * 1000;
const DANGER_MS = 60 * 1000;
const FINAL_MS = 10 * 1000;

/** This device's estimate of the server's clock. */
export class ServerClock {
  offset = 0;

  /** Learns the offset from a server timestamp (ms) that just arrived. */
  sync(serverNowMs) {
    if (Number.isFinite(serverNowMs)) this.offset = serverNowMs - Date.now();
  }

  /** The server's time now, in ms since the epoch. */
  now() {
    return Date.now() + this.offset;
  }
}

/** Drives timer elements (and the final-minute banner) from an expiry time. */
export class Countdown {
  #timers; #banner; #onTick; #onZero; #interval = 0; #zeroFired = false; #lastText = "";
  expiresAt = 0;

  /** `timers`: elements showing the time; `banner`: shown in the last minute; callbacks optional. */
  constructor({ clock, timers, banner = null, onTick = null, onZero = null }) {
    this.clock = clock;
    this.#timers = timers;
    this.#banner = banner;
    this.#onTick = onTick;
    this.#onZero = onZero;
  }

  /** Adds an element that should show the same time (e.g. a second place on the page). */
  addTimer(element) {
    this.#timers.push(element);
    this.#lastText = "";
    this.tick();
  }

  /** Takes a new expiry (and optionally the server's `now` sent with it). */
  update(expiresAtMs, serverNowMs = undefined) {
    if (!Number.isFinite(expiresAtMs)) return;
    this.clock.sync(serverNowMs);
    this.expiresAt = expiresAtMs;
    if (this.remaining() > 0) this.#zeroFired = false; // extended after reaching zero
    this.tick();
  }

  /** Milliseconds left, by the server's clock. */
  remaining() {
    return this.expiresAt - this.clock.now();
  }

  /** Starts ticking every 250 ms. */
  start() {
    if (!this.#interval) this.#interval = setInterval(() => this.tick(), TICK_MS);
    this.tick();
  }

  /** Stops ticking (the room ended). */
  stop() {
    clearInterval(this.#interval);
    this.#interval = 0;
    if (this.#banner) this.#banner.hidden = true;
  }

  /** Redraws the timers and fires onZero once when the time runs out. */
  tick() {
    const left = this.remaining();
    const text = formatCountdown(left);
    // What the timer shows (whole seconds, rounded up): the banner agrees with it.
    const shown = Math.ceil(Math.max(0, left) / 1000) * 1000;
    const level = left <= DANGER_MS ? "danger" : left <= WARN_MS ? "warn" : "calm";
    for (const timer of this.#timers) {
      if (text !== this.#lastText) timer.textContent = text;
      timer.dataset.level = level;
      timer.classList.toggle("is-final", left > 0 && left <= FINAL_MS);
    }
    this.#lastText = text;
    if (this.#banner) this.#banner.hidden = !(left > 0 && shown < DANGER_MS);
    this.#onTick?.(left);
    if (left <= 0 && !this.#zeroFired) {
      this.#zeroFired = true;
      this.#onZero?.();
    }
  }
}
