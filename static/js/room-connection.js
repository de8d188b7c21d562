// One room page's socket over its life (docs/PROTOCOL.md §7.4): opened for the first join, then
// kept alive across drops. A lost network is noticed from the browser at once (not after the
// ping timeout), Socket.IO reconnects with its own backoff, and we reconnect where it doesn't (a
// socket the server closed, or one we closed when the network went). Each new socket after the
// first join is reported through onBack(), where the chat resumes its seat. A real navigation
// away says `leave` (the seat is given up at once); a page that is only frozen or put in the
// back/forward cache says nothing, so it can resume when it wakes.
import { openSocket } from "./net.js";

const RECONNECT_MS = [1000, 2000, 4000, 8000, 15000];

export class RoomConnection {
  #socket = null; #onLost; #onBack; #live = false; #closed = false; #timer = 0; #attempt = 0;

  /** `onLost(reason)`: the socket of a joined chat dropped; `onBack()`: a new socket is connected. */
  constructor({ onLost, onBack }) {
    this.#onLost = onLost;
    this.#onBack = onBack;
  }

  /** The current socket (one Socket.IO socket for the page's life, reconnected in place), or null. */
  get socket() {
    return this.#socket;
  }

  /** True while the socket is connected. */
  get connected() {
    return Boolean(this.#socket?.connected);
  }

  /** The socket, opened (or reconnected) if needed; `route(socket)` wires the room's events once. */
  open(route) {
    if (!this.#socket) {
      this.#socket = openSocket();
      this.#socket.on("disconnect", (reason) => this.#lost(reason));
      this.#socket.on("connect", () => this.#back());
      route(this.#socket);
      window.addEventListener("offline", this.#offline);
      window.addEventListener("online", this.wake);
      document.addEventListener("resume", this.wake); // a frozen page (a phone's background tab) runs again
    } else if (!this.#socket.connected) {
      this.#socket.connect();
    }
    return this.#socket;
  }

  /** The first join succeeded: drops are handled from now on. */
  joined() {
    this.#live = true;
  }

  #lost(reason) {
    if (!this.#live || this.#closed) return;
    this.#onLost(reason);
    if (!navigator.onLine && this.#socket.active) {
      this.#socket.disconnect(); // no attempts while the browser knows they fail; `online` brings us back
      this.#reconnectLater();
      return;
    }
    // Socket.IO reconnects by itself after a transport error, not after a close by either side.
    if (reason === "io server disconnect" || reason === "io client disconnect") this.#reconnectLater();
  }

  #back() {
    clearTimeout(this.#timer);
    this.#timer = 0;
    this.#attempt = 0;
    if (this.#live && !this.#closed) this.#onBack();
  }

  /** Tries again after a growing pause; the `online` event cuts the wait short. */
  #reconnectLater() {
    if (this.#timer || this.#closed) return;
    const wait = RECONNECT_MS[Math.min(this.#attempt, RECONNECT_MS.length - 1)];
    this.#attempt += 1;
    this.#timer = setTimeout(() => {
      this.#timer = 0;
      this.wake();
    }, wait);
  }

  /** The network is gone: close now (the server keeps the seat) rather than after ~40 s of silence. */
  #offline = () => {
    if (this.#live && !this.#closed && this.#socket?.connected) this.#socket.disconnect();
  };

  /** The network is back, or the page woke up: connect if we aren't. */
  wake = () => {
    if (!this.#live || this.#closed || !this.#socket || this.#socket.connected) return;
    if (!navigator.onLine) {
      this.#reconnectLater();
      return;
    }
    this.#socket.connect();
  };

  /** The page goes into the back/forward cache: close quietly (the seat is kept, as for a drop); wake() resumes. */
  sleep() {
    if (this.#live && !this.#closed && this.#socket?.connected) this.#socket.disconnect();
  }

  /** The page is really going away: give the seat up now, so nobody sees us "reconnecting..." for a minute. */
  leave() {
    if (this.#live && this.#socket?.connected) this.#socket.emit("leave", {});
    this.close();
  }

  /** Stops everything: no more events, no reconnects. */
  close() {
    this.#closed = true;
    clearTimeout(this.#timer);
    window.removeEventListener("offline", this.#offline);
    window.removeEventListener("online", this.wake);
    document.removeEventListener("resume", this.wake);
    const socket = this.#socket;
    this.#socket = null;
    if (socket) {
      socket.off();
      socket.disconnect();
    }
  }
}
