// The room page: before joining (countdown, head count, lock, name), the chat
// once joined (room-chat.js), and the screen it ends on (burned, removed).
// Used by room.html on load, and by home.js through mountRoom() when the
// creator presses "Enter room" (then with the admin PIN, in memory only).
// link-secret.js comes first: it takes the secret out of the address bar before any other module runs.
import { takeLinkSecret } from "./link-secret.js";
import { b64uDecode, validateName } from "./crypto.js";
import { playBurn } from "./burn.js";
import { Countdown, ServerClock } from "./countdown.js";
import { RoomChat } from "./room-chat.js";
import { canEncrypt, errorText, focusQuietly, part, say, secretFromHash, wireCopyButton } from "./ui.js";
import { RoomStatus } from "./room-status.js";
import { wireDismiss } from "./room-dismiss.js";

const DESTROYED_GRACE_MS = 4000; // how long we wait for the server's `destroyed` after our own zero
const NAME_ERROR = "Enter a name of 1 to 32 characters, without control characters.";
const MAX_NAME = 32;
// Why a room burned, in the person's words (the `destroyed` reason, or what the page saw itself).
const BURNED_TEXT = {
  expired: "Time ran out. All messages have been permanently erased.",
  burned: "The admin burned it. All messages have been permanently erased.",
  shutdown: "The server restarted, and a room lives in its memory only. All messages have been erased.",
  lost: "The server lost this room. All messages have been erased.",
  gone: "This room doesn't exist or has burned.",
};
const LEAVE_WARNING = "Leaving this page erases this conversation from this screen";

/** True when `secret` is a well-formed 16-byte link secret. */
function isValidSecret(secret) {
  try {
    return Boolean(secret) && b64uDecode(secret).length === 16;
  } catch {
    return false;
  }
}

/** "Nobody yet" / "1 person" / "N people". */
function peopleText(count) {
  if (!count) return "Nobody yet";
  return count === 1 ? "1 person" : `${count} people`;
}

/**
 * Shows the room UI inside `main` and runs it.
 * `pinProof` is the admin PIN's proof (§8.1) when the creator comes straight from the home
 * page; `pinSalt` the room's PIN salt, for a PIN typed in the room.
 */
export function mountRoom({ main, roomId, secret, pinProof = null, pinSalt, expiresAtMs, nowMs, count = 0, locked = false }) {
  const root = part(main, "room");
  main.dataset.page = "room";
  main.classList.replace("page--home", "page--room");
  const clock = new ServerClock();
  clock.sync(nowMs);
  let chat = null;
  let ending = false;
  let endedAs = null;
  let graceTimer = 0;
  const title = document.title;
  // The join page's watch on the room's lock, while the join form is open (room-status.js).
  const status = new RoomStatus(roomId, {
    onState: (state) => { if (!chat?.joined && !ending) { countdown.update(state.expires_at, state.now); showState(state); } },
    onGone: () => { if (!chat?.joined && !ending) end("burned", "gone"); },
  });
  let stopDismiss = null;

  const countdown = new Countdown({
    clock,
    timers: [part(root, "countdown")],
    banner: part(root, "final-banner"),
    onTick: (left) => chat?.tick(left),
    onZero: () => {
      // The server burns the room and says `destroyed`; if that never arrives, burn anyway.
      if (chat?.joined) graceTimer = setTimeout(() => chat.end("burned", "expired"), DESTROYED_GRACE_MS);
      else end("burned", "expired");
    },
  });
  countdown.update(expiresAtMs, nowMs);
  countdown.start();
  let roomLocked = locked;
  showState({ locked, count });
  if (pinProof) welcomeCreator();

  /** Reflects the lock state and head count wherever the page shows them. */
  function showState({ locked: isLocked, count: people }) {
    if (typeof isLocked === "boolean") {
      part(root, "prejoin-lock").textContent = isLocked ? "Locked by its admin" : "Open";
      part(root, "prejoin-lock").dataset.locked = String(isLocked);
      part(root, "lock-badge").hidden = !isLocked;
      roomLocked = isLocked;
      showJoinable();
    }
    if (Number.isInteger(people)) part(root, "prejoin-count").textContent = peopleText(people);
  }

  /** Before joining, the Join button tells the truth: a locked room can't be joined (and says so) until it is unlocked. */
  function showJoinable() {
    if (chat?.joined || ending) return;
    const form = part(root, "join-form");
    const button = part(root, "join-button");
    const blocked = roomLocked && !pinProof; // the creator's own room: the admin unlocks it from inside
    part(root, "locked-note").hidden = !blocked;
    button.textContent = blocked ? "Locked" : "Join";
    if (!form.hidden && !button.hasAttribute("aria-busy")) button.disabled = blocked;
  }

  /** The creator comes from the home page: welcomed as the room's creator, not as a guest. */
  function welcomeCreator() {
    part(root, "prejoin-title").textContent = "Your room is ready";
    part(root, "prejoin-lead").textContent = "You created this room, so you are its admin. Pick the name the others will see.";
  }

  /** Ends the room on screen: wipe already happened; burn animation or the removed screen. */
  async function end(kind, detail) {
    if (ending) return;
    ending = true;
    endedAs = kind;
    status.stop();
    clearTimeout(graceTimer);
    countdown.stop();
    chat?.end(kind, detail); // no-op when the chat itself reported the end
    secret = pinProof = null; // what the copy button and a rejoin would have used
    part(root, "connection-banner").hidden = true;
    history.replaceState(null, "", location.pathname); // the secret is useless now; drop it from the address bar
    if (kind === "burned") await playBurn();
    part(root, "prejoin").hidden = true;
    part(root, "chat").hidden = true;
    root.dataset.state = "ended";
    main.classList.remove("page--chat");
    const screen = part(root, kind === "kicked" ? "removed" : kind === "burned" ? "burned" : "failed");
    if (kind === "burned") part(root, "burned-text").textContent = BURNED_TEXT[detail] ?? BURNED_TEXT.expired;
    if (kind === "failed") part(root, "failed-text").textContent = detail || "You left this room.";
    screen.hidden = false;
    document.title = kind === "kicked" ? "Removed - Burn Chat" : kind === "burned" ? "Room burned - Burn Chat" : "Disconnected - Burn Chat";
    focusQuietly(screen.querySelector("h1"));
  }

  /** Switches from the join form to the chat, moving the one countdown into the chat header. */
  function showChat() {
    status.stop();
    part(root, "chat-timer-slot").append(part(root, "countdown"));
    part(root, "prejoin").hidden = true;
    part(root, "chat").hidden = false;
    root.dataset.state = "chat";
    main.classList.add("page--chat"); // the chat fills the screen edge to edge
  }

  /** The join form: validate the name, then join; errors are shown by code. */
  async function onJoin(event) {
    event.preventDefault();
    const input = part(root, "name-input");
    const button = part(root, "join-button");
    say(part(root, "join-error"), "");
    let name;
    try {
      name = validateName(input.value);
      input.removeAttribute("aria-invalid");
      say(part(root, "name-error"), "");
    } catch {
      input.setAttribute("aria-invalid", "true");
      say(part(root, "name-error"), NAME_ERROR);
      input.focus();
      return;
    }
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    chat ??= new RoomChat({
      root, roomId, secret, pinProof, pinSalt, countdown,
      onEnd: (kind, detail) => end(kind, detail),
      onState: showState,
      onLink: (fresh) => { secret = fresh; }, // Copy link and a reload hand out the new link from now on
    });
    const result = await chat.join(name);
    button.disabled = false;
    button.removeAttribute("aria-busy");
    if (result.ok) {
      showChat();
      chat.focus();
      return;
    }
    if (result.code === "no_room") return end("burned", "gone");
    if (result.code === "locked") return showState({ locked: true }); // the button says it, and changes when unlocked
    say(part(root, "join-error"), errorText(result));
    if (result.code === "bad_version") offerReload();
  }

  /** An old page meets a newer server (bad_version): only fresh code can join, never a downgrade. */
  function offerReload() {
    const reload = part(root, "reload");
    reload.hidden = false;
    part(root, "join-button").hidden = true;
    // Like opening the link again (the same entry, for the reload only): the fresh page takes it out at once.
    reload.addEventListener("click", () => {
      if (secret) history.replaceState(null, "", `/r/${roomId}#${secret}`);
      location.reload();
    }, { once: true });
    reload.focus();
  }

  /**
   * A real navigation away (or a closed tab) leaves the room at once and wipes everything. A page only
   * put in the back/forward cache (`persisted`) keeps its seat, like a frozen one: it resumes when shown.
   */
  function onPageHide(event) {
    if (event.persisted && chat?.joined && !ending) {
      chat.sleep(); // a cached page can't read anything: the server keeps the seat, as for a drop
      return;
    }
    chat?.leave();
    secret = pinProof = null; // a page restored after this reloads and needs the link again
  }

  /** A reload or a navigation asks first while the conversation is on screen (it can't come back). */
  function onBeforeUnload(event) {
    if (!chat?.hasMessages) return;
    event.preventDefault();
    event.returnValue = LEAVE_WARNING; // browsers show their own sentence; this one is for those that don't
  }

  /** The whole link pasted into this tab: only the fragment changed. Take the secret and strip it at once. */
  function onHashChange() {
    const pasted = location.hash ? secretFromHash(location.hash) : null;
    if (location.hash) history.replaceState(null, "", location.pathname + location.search);
    if (!isValidSecret(pasted)) return;
    if (chat?.joined && !ending) return; // in the room already: the link changes nothing
    if (ending && endedAs !== "kicked") return; // a burned room stays burned
    secret = pasted;
    restart();
  }

  /** Back to the join form, after "This link is incomplete" or "You were removed". */
  function restart() {
    chat = null;
    ending = false;
    endedAs = null;
    for (const screen of ["removed", "burned", "failed", "link-error", "join-error"]) part(root, screen).hidden = true;
    part(root, "prejoin-timer-slot").append(part(root, "countdown"));
    const ended = part(root, "chat");
    const fresh = ended.cloneNode(true); // the ended chat's listeners stay behind with the old nodes
    ended.replaceWith(fresh);
    wireChatParts();
    root.dataset.state = "prejoin";
    part(root, "prejoin").hidden = false;
    part(root, "chat").hidden = true;
    document.title = title;
    countdown.start();
    openForm();
  }

  /** The chat header's own buttons (the chat's widgets are RoomChat's). */
  function wireChatParts() {
    wireCopyButton(part(root, "copy-link"), () => (secret ? `${location.origin}/r/${roomId}#${secret}` : ""), part(root, "copy-status"));
    stopDismiss?.();
    stopDismiss = wireDismiss(root, wirePeopleToggle(root));
  }

  wireChatParts();
  window.addEventListener("pagehide", onPageHide);
  window.addEventListener("beforeunload", onBeforeUnload);
  window.addEventListener("hashchange", onHashChange);
  // Restored from the back/forward cache: a kept seat resumes by itself; a wiped page starts over.
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    if (chat?.joined && !ending) chat.wake();
    else location.reload();
  });

  const form = part(root, "join-form");
  if (!canEncrypt()) {
    part(root, "insecure-error").hidden = false;
    form.hidden = true;
    return;
  }
  form.addEventListener("submit", onJoin);
  wireNameCounter(part(root, "name-input"), part(root, "name-count"));
  if (!isValidSecret(secret)) {
    part(root, "link-error").hidden = false; // until the whole link is pasted (onHashChange)
    form.hidden = true;
    return;
  }
  openForm();

  /** The join form, ready for a name. */
  function openForm() {
    form.hidden = false;
    part(root, "join-button").disabled = false;
    showJoinable();
    status.start();
    part(root, "name-input").focus({ preventScroll: true });
  }
}

/** The name field's live count of characters (as validateName counts them) against the 32 allowed. */
function wireNameCounter(input, counter) {
  const show = () => {
    const used = [...input.value.trim()].length;
    counter.textContent = `${used}/${MAX_NAME}`;
    counter.dataset.level = used > MAX_NAME ? "over" : used >= MAX_NAME - 4 ? "low" : "";
  };
  input.addEventListener("input", show);
  show();
}

/**
 * On phones the people panel folds away behind the header's people button; it closes with its
 * Close button, Escape (room-dismiss.js) or a tap outside it. -> {isOpen(), close()}.
 */
function wirePeopleToggle(root) {
  const toggle = part(root, "people-toggle");
  const panel = part(root, "people-panel");
  const isOpen = () => toggle.getAttribute("aria-expanded") === "true";
  const setOpen = (open) => {
    toggle.setAttribute("aria-expanded", String(open));
    panel.classList.toggle("is-open", open);
  };
  toggle.addEventListener("click", () => setOpen(!isOpen()));
  part(root, "people-close").addEventListener("click", () => {
    setOpen(false);
    toggle.focus();
  });
  part(root, "chat").addEventListener("pointerdown", (event) => {
    if (isOpen() && !panel.contains(event.target) && !toggle.contains(event.target)) setOpen(false);
  });
  return { isOpen, close: () => { setOpen(false); toggle.focus(); } };
}

/** room.html: read the server's data-* attributes and the link secret link-secret.js took from the fragment. */
function bootRoomPage() {
  const main = document.querySelector('main[data-page="room"]');
  if (!main) return;
  mountRoom({
    main,
    roomId: main.dataset.roomId,
    secret: takeLinkSecret(),
    pinSalt: main.dataset.pinSalt,
    expiresAtMs: Number(main.dataset.expiresAtMs),
    nowMs: Number(main.dataset.nowMs),
    count: Number(main.dataset.count),
    locked: main.dataset.locked === "true",
  });
}

bootRoomPage();
