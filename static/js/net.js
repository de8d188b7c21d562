// The socket side of the pages: a websocket-only Socket.IO connection to our
// own origin, acknowledged requests that never hang, and a queue that handles
// server events one at a time and in order (their handlers await crypto).

const ACK_TIMEOUT_MS = 10000;
const CONNECT_TIMEOUT_MS = 10000;

/** Opens a Socket.IO connection (global `io` from /static/vendor/socket.io.min.js), websocket only. */
export function openSocket() {
  return globalThis.io({
    transports: ["websocket"],
    reconnectionDelay: 500,
    reconnectionDelayMax: 4000,
    timeout: CONNECT_TIMEOUT_MS,
  });
}

/** Resolves {ok: true} once `socket` is connected, or {ok: false, code} when it can't connect. */
export function whenConnected(socket, timeoutMs = CONNECT_TIMEOUT_MS) {
  if (socket.connected) return Promise.resolve({ ok: true });
  return new Promise((resolve) => {
    const finish = (result) => {
      clearTimeout(timer);
      socket.off("connect", onConnect);
      socket.off("connect_error", onError);
      resolve(result);
    };
    const onConnect = () => finish({ ok: true });
    // The server refuses a connection with data {code} (busy, rate_limited); anything else is "offline".
    const onError = (error) => finish({ ok: false, code: error?.data?.code || "offline", error: error?.data?.error });
    const timer = setTimeout(() => finish({ ok: false, code: "offline" }), timeoutMs);
    socket.on("connect", onConnect);
    socket.on("connect_error", onError);
  });
}

/**
 * Emits `event` and resolves with the server's ack, {ok: false, code: "timeout"}, or "offline" when the
 * socket is down or drops before the answer; never rejects. Nothing is emitted while disconnected:
 * Socket.IO would buffer it and flush it on the next socket before that socket has joined or resumed.
 */
export function request(socket, event, payload, timeoutMs = ACK_TIMEOUT_MS) {
  if (!socket?.connected) return Promise.resolve({ ok: false, code: "offline" });
  return new Promise((resolve) => {
    const dropped = () => resolve({ ok: false, code: "offline" }); // that ack can't come any more
    socket.once("disconnect", dropped);
    socket.timeout(timeoutMs).emitWithAck(event, payload).then(
      (ack) => resolve(ack && typeof ack === "object" ? ack : { ok: false, code: "invalid" }),
      () => resolve({ ok: false, code: "timeout" }),
    ).finally(() => socket.off("disconnect", dropped));
  });
}

/**
 * Runs event handlers one after another. While paused (before the join ack is
 * processed) events wait; `reset()` drops everything queued for an old session.
 */
export class EventQueue {
  #tail = Promise.resolve();
  #gate = null;
  #open = null;
  #generation = 0;

  /** Queues `handler`; it runs after every earlier one, once the queue is open. */
  push(handler) {
    const generation = this.#generation;
    const gate = this.#gate;
    this.#tail = this.#tail
      .then(() => gate)
      .then(() => (generation === this.#generation ? handler() : undefined))
      .catch(() => { /* one failed handler must not stop the room; handlers report their own errors */ });
    return this.#tail;
  }

  /** Holds every event queued from now on until resume(). */
  pause() {
    if (this.#gate) return;
    this.#gate = new Promise((resolve) => { this.#open = resolve; });
  }

  /** Lets the held events run. */
  resume() {
    this.#open?.();
    this.#gate = this.#open = null;
  }

  /** Forgets queued events (a new session starts, or the room ended) and opens the queue. */
  reset() {
    this.#generation += 1;
    this.resume();
  }
}
