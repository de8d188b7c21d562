// Shared DOM helpers for every page: finding parts, showing and hiding,
// building nodes with text only (never HTML), copy buttons, countdown text and
// the sentences shown for server error codes.

/** The element marked data-part=`name` inside `root`; a missing part is a template bug. */
export function part(root, name) {
  const element = root.querySelector(`[data-part="${name}"]`);
  if (!element) throw new Error(`missing data-part="${name}"`);
  return element;
}

/** Every element marked data-part=`name` inside `root`. */
export function parts(root, name) {
  return [...root.querySelectorAll(`[data-part="${name}"]`)];
}

/** Shows or hides an element with the `hidden` attribute (the CSS honours it everywhere). */
export function show(element, visible = true) {
  element.hidden = !visible;
}

/** Sets a message element's text and shows it, or hides it when `text` is empty. */
export function say(element, text) {
  element.textContent = text || "";
  element.hidden = !text;
}

/** A new element with a class and text content; user text never goes through HTML parsing. */
export function make(tag, className = "", text = null) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== null) element.textContent = text;
  return element;
}

/** An element holding someone's text, isolated so RTL overrides can't leak into the page. */
export function userText(tag, className, text) {
  const element = make(tag, `user-text ${className}`.trim(), text);
  element.dir = "auto";
  return element;
}

/** Two digits, for clock-style times. */
function pad(number) {
  return String(number).padStart(2, "0");
}

/** Remaining milliseconds as m:ss under an hour, else h:mm:ss (rounded up, never negative). */
export function formatCountdown(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  return hours > 0 ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${pad(minutes)}:${pad(seconds)}`;
}

/** A duration for people: "30 seconds", "5 minutes", "72 hours", "1 hour 30 minutes". */
export function formatDuration(seconds) {
  const units = [["hour", 3600], ["minute", 60], ["second", 1]];
  const words = [];
  let rest = Math.max(0, Math.round(seconds));
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count) words.push(`${count} ${unit}${count === 1 ? "" : "s"}`);
  }
  return words.slice(0, 2).join(" ") || "0 seconds";
}

/** Local wall-clock time of a moment, for message stamps and "burns at". */
export function formatClock(date) {
  return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** Copies text to the clipboard; falls back to selecting `fallbackInput` so the user can copy by hand. */
export async function copyText(text, fallbackInput = null) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (fallbackInput) {
      fallbackInput.focus();
      fallbackInput.select();
      try {
        // Older browsers (and denied clipboard permission) still honour a user-initiated copy.
        if (document.execCommand("copy")) return true;
      } catch { /* fall through to the manual hint */ }
    }
    return false;
  }
}

/** Makes `button` copy `getText()` and confirm in `status` ("Copied"), which clears after a while. */
export function wireCopyButton(button, getText, status, fallbackInput = null) {
  let timer = 0;
  button.addEventListener("click", async () => {
    const copied = await copyText(getText(), fallbackInput);
    clearTimeout(timer);
    status.textContent = copied ? "Copied" : "Couldn't copy - select the text and copy it by hand";
    status.classList.toggle("copy-status--error", !copied);
    status.classList.add("is-visible");
    button.classList.toggle("is-copied", copied);
    timer = setTimeout(() => {
      status.classList.remove("is-visible");
      button.classList.remove("is-copied");
      status.textContent = "";
    }, 2500);
  });
}

/** Sentences for the server's error codes (PROTOCOL.md §7.3) and for our own local ones. */
export const ERROR_TEXT = {
  invalid: "The server didn't accept that. Reload the page and try again.",
  bad_version: "This page is out of date. Reload it to continue.",
  unknown_event: "The server didn't understand that. Reload the page.",
  no_room: "This room doesn't exist or has burned.",
  bad_link: "This link is incomplete or wrong - ask for the full link.",
  locked: "This room is locked by its admin.",
  room_full: "This room is full (50 people).",
  member_id_taken: "Please try again.",
  not_member: "You're not in this room any more.",
  not_admin: "Enter the admin PIN first.",
  bad_pin: "Wrong PIN",
  pin_locked_out: "Too many wrong PINs. Try again later.",
  stale_epoch: "The room just changed keys - try again.",
  not_sender: "That message was refused.",
  rate_limited: "Slow down",
  busy: "Burn Chat is busy, try again in a minute.",
  max_ttl: "This room already lasts as long as a room can (72 hours).",
  already_joined: "You're already in this room.",
  timeout: "No answer from the server - check your connection and try again.",
  offline: "Can't reach Burn Chat - check your connection and try again.",
};

/** The sentence to show for a failed ack: our text for known codes, else the server's sentence. */
export function errorText(ack) {
  const code = ack?.code;
  if (code === "bad_pin" && Number.isInteger(ack.attempts_left)) {
    return `Wrong PIN - ${ack.attempts_left} attempt${ack.attempts_left === 1 ? "" : "s"} left`;
  }
  if (code === "pin_locked_out" && Number.isFinite(ack.retry_after)) {
    const minutes = Math.max(1, Math.ceil(ack.retry_after / 60));
    return `Too many wrong PINs. Try again in ${minutes} minute${minutes === 1 ? "" : "s"}`;
  }
  return ERROR_TEXT[code] || ack?.error || "Something went wrong. Try again.";
}

/** The link secret from a URL fragment, or null when it is missing or malformed. */
export function secretFromHash(hash) {
  // Tolerate junk some apps append after the secret (e.g. "&utm..."), but never guess at a short one.
  const match = /^#([A-Za-z0-9_-]{22})(?![A-Za-z0-9_-])/.exec(hash || "");
  return match ? match[1] : null;
}

/** True when WebCrypto is usable: it exists only in secure contexts (https or localhost). */
export function canEncrypt() {
  return Boolean(window.isSecureContext && globalThis.crypto?.subtle);
}

/** Moves keyboard focus to a heading or control without scrolling the page around. */
export function focusQuietly(element) {
  element?.focus({ preventScroll: true });
}
