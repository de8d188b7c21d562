// The home page: choose how long the room lives, create it, then share the
// link (made here: the secret after # is born in this browser), the QR code and
// the one-time admin PIN (also made here: the server gets only its salt and
// verifier, §8.1). "Enter room" stays in this document so the PIN's proof goes
// with us in memory only - never into a URL, cookie or storage.
import { deriveJoinKey, newPinRecord, randomId } from "./crypto.js";
import { Countdown, ServerClock } from "./countdown.js";
import { drawQr } from "./qr.js";
import { canEncrypt, focusQuietly, formatDuration, part, say, wireCopyButton } from "./ui.js";

const CLOCK_SKEW_TOLERANCE_MS = 2000;
const HTTP_ERRORS = {
  400: "That duration isn't allowed.",
  429: "You've made a lot of rooms - slow down and try again in a minute.",
  503: "Burn Chat is busy, try again in a minute.",
};

const main = document.querySelector('main[data-page="home"]');
// Let, not const: "Enter room" drops them so the detached panel (link, QR, PIN closures) can go.
let home = part(main, "home");
let form = part(home, "create-form");
const minTtl = Number(main.dataset.minTtl);
const maxTtl = Number(main.dataset.maxTtl);
let creating = false;
// PBKDF2 takes a moment on a phone: the PIN is made while the creator picks a duration
// (from the first touch of the form on, so a visit that creates nothing costs nothing).
let pinRecord = null;
function startPin() {
  if (!pinRecord && canEncrypt()) pinRecord = newPinRecord().catch(() => null);
}

/** The chosen lifetime in seconds, or throws an Error whose message explains the bounds. */
function chosenTtl() {
  const choice = form.querySelector('input[name="ttl"]:checked')?.value;
  if (choice && choice !== "custom") return Number(choice);
  const amount = Number(part(home, "custom-amount").value);
  const seconds = amount * Number(part(home, "custom-unit").value);
  if (!Number.isInteger(amount) || amount <= 0 || seconds < minTtl || seconds > maxTtl) {
    throw new Error(`Choose a whole number from ${formatDuration(minTtl)} to ${formatDuration(maxTtl)}.`);
  }
  return seconds;
}

/** Shows the custom fields only while "Custom" is picked, and clears a stale error. */
function onTtlChoice() {
  const custom = part(home, "custom-radio").checked;
  part(home, "custom").hidden = !custom;
  say(part(home, "ttl-error"), "");
  part(home, "custom-amount").removeAttribute("aria-invalid");
  if (custom) part(home, "custom-amount").focus();
}

/**
 * Asks the server for a room that admits only joiners proving the link (SHA-256 of its
 * join key) and admins proving the PIN (its salt and verifier); resolves {ok, data,
 * serverDate} or {ok: false, message}.
 */
async function createRoom(ttlSeconds, joinKeyHash, pin) {
  let response;
  try {
    response = await fetch("/api/rooms", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ ttl_seconds: ttlSeconds, join_key_hash: joinKeyHash,
                             pin_salt: pin.salt, pin_verifier: pin.verifier }),
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch {
    return { ok: false, message: "Can't reach Burn Chat - check your connection and try again." };
  }
  const data = await response.json().catch(() => ({}));
  if (response.status === 201 && data.room && data.url) {
    return { ok: true, data, serverDate: Date.parse(response.headers.get("Date") || "") };
  }
  return { ok: false, message: data.error || HTTP_ERRORS[response.status] || "Couldn't create the room. Try again." };
}

/** Form submit: validate, create, then show the result panel. Only an explicit submit creates a room. */
async function onSubmit(event) {
  event.preventDefault();
  if (creating) return;
  say(part(home, "create-error"), "");
  if (!canEncrypt()) {
    say(part(home, "create-error"), "This browser can't encrypt here. Burn Chat needs a secure connection (https, or localhost) and a browser with WebCrypto.");
    return;
  }
  let ttl;
  try {
    ttl = chosenTtl();
  } catch (error) {
    say(part(home, "ttl-error"), error.message);
    part(home, "custom-amount").setAttribute("aria-invalid", "true");
    part(home, "custom-amount").focus();
    return;
  }
  const button = part(home, "create-button");
  creating = true;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  const secret = randomId();
  startPin();
  const pin = await pinRecord;
  pinRecord = null; // a retry gets a PIN of its own, in case this request made a room after all
  const result = pin ? await createRoom(ttl, (await deriveJoinKey(secret)).joinKeyHash, pin)
    : { ok: false, message: "This browser couldn't make the admin PIN. Reload the page and try again." };
  creating = false;
  button.disabled = false;
  button.removeAttribute("aria-busy");
  if (!result.ok) {
    say(part(home, "create-error"), result.message);
    return;
  }
  showCreated(result, secret, pin);
}

/** The result panel: link, QR, one-time PIN, and the way into the room. */
function showCreated({ data, serverDate }, secret, { pin, salt, proof }) {
  const { room, url } = data;
  const shareLink = `${location.origin}${url}#${secret}`;
  const clock = new ServerClock();
  // The API sends no `now`; the Date header is good to a second, so use it only for a real skew.
  if (Number.isFinite(serverDate) && Math.abs(serverDate - Date.now()) > CLOCK_SKEW_TOLERANCE_MS) clock.sync(serverDate);
  const expiresAt = Date.parse(data.expires_at);
  const countdown = new Countdown({ clock, timers: [part(home, "created-timer")] });
  countdown.update(expiresAt);
  countdown.start();

  const linkField = part(home, "share-link");
  linkField.value = shareLink;
  linkField.addEventListener("focus", () => linkField.select());
  wireCopyButton(part(home, "copy-link"), () => shareLink, part(home, "link-copied"), linkField);
  part(home, "admin-link").href = `${url}/admin#${secret}`;

  form.hidden = true;
  home.dataset.state = "created"; // the hero shrinks so "Enter room" stays near on a phone
  part(home, "created").hidden = false;
  drawQr(part(home, "qr"), shareLink); // after unhiding, so the canvas knows its size
  wirePin(pin);
  focusQuietly(part(home, "created").querySelector("h2"));

  const roomCode = loadRoomCode(); // fetched while the creator reads this panel
  const enter = part(home, "enter-room");
  enter.addEventListener("click", async () => {
    enter.disabled = true;
    const loaded = await roomCode;
    if (!loaded) {
      say(part(home, "link-copied"), "Can't load the room - check your connection, then open the link above.");
      return;
    }
    countdown.stop();
    const nowMs = clock.now();
    forgetHomePanel();
    enterRoom(loaded.mountRoom, { room, url, secret, proof, salt, expiresAt, nowMs });
  }, { once: true });
}

/**
 * The room's code and the Socket.IO client it connects with (net.js uses globalThis.io),
 * fetched only once a room exists: the home page's first load carries neither.
 * Resolves to room.js's exports, or null if they could not be loaded.
 */
function loadRoomCode() {
  return import("../vendor/socket.io.min.js").then(() => import("./room.js")).catch(() => null);
}

/** The PIN stays masked (and out of the DOM) until "Reveal PIN"; "Copy PIN" works either way. */
function wirePin(pin) {
  const shown = part(home, "pin");
  const reveal = part(home, "reveal-pin");
  const masked = shown.textContent;
  reveal.addEventListener("click", () => {
    const revealing = reveal.getAttribute("aria-pressed") !== "true";
    shown.textContent = revealing ? pin : masked;
    shown.dataset.revealed = String(revealing);
    reveal.setAttribute("aria-pressed", String(revealing));
    reveal.textContent = revealing ? "Hide PIN" : "Reveal PIN";
  });
  const status = part(home, "pin-copied");
  wireCopyButton(part(home, "copy-pin"), () => pin, status);
}

/**
 * Leaving the result panel: blank the link field, admin link, QR pixels and PIN, then detach
 * the panel and drop our references, so the listeners that close over the link and the PIN
 * become unreachable. Only the room keeps what it needs.
 */
function forgetHomePanel() {
  part(home, "share-link").value = "";
  part(home, "admin-link").removeAttribute("href");
  const qr = part(home, "qr");
  qr.width = qr.height = 0; // resizing a canvas clears its pixels
  part(home, "pin").textContent = "";
  home.remove();
  home = form = null;
}

/**
 * Same document, new address: /r/ROOM without the secret, which goes to the room in memory
 * with the PIN's proof. replaceState, not pushState: no history entry ever holds the secret (§11).
 */
function enterRoom(mountRoom, { room, url, secret, proof, salt, expiresAt, nowMs }) {
  history.replaceState(null, "", url);
  document.title = "Burning room - Burn Chat";
  mountRoom({ main, roomId: room, secret, pinProof: proof, pinSalt: salt, expiresAtMs: expiresAt, nowMs, count: 0, locked: false });
}

for (const radio of form.querySelectorAll('input[name="ttl"]')) radio.addEventListener("change", onTtlChoice);
part(home, "custom-hint").textContent = `From ${formatDuration(minTtl)} to ${formatDuration(maxTtl)}.`;
form.addEventListener("submit", onSubmit);
for (const type of ["pointerdown", "focusin", "keydown"]) form.addEventListener(type, startPin, { once: true });
part(home, "create-button").disabled = false; // enabled only now that a submit can't fall back to a native one
