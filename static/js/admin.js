// The admin page (/r/ROOM/admin, optionally #SECRET): PIN first, then the
// room's members with Kick, lock, extend and burn. Without the secret the page
// can't read names and shows "Member N" with each key fingerprint instead.
// link-secret.js comes first: it takes the secret out of the address bar before any other module runs.
import { takeLinkSecret } from "./link-secret.js";
import { deriveLinkKeys, fingerprint, openAnnouncement } from "./crypto.js";
import { AdminControls } from "./admin-controls.js";
import { playBurn } from "./burn.js";
import { Countdown, ServerClock } from "./countdown.js";
import { EventQueue, openSocket, request, whenConnected } from "./net.js";
import { renderPeople } from "./people-view.js";
import { PIN_SHAPE, SHAPE_ERROR, UNUSABLE_SALT, claimProof, normalizePin } from "./admin-claim.js";
import { ColourBook } from "./colours.js";
import { canEncrypt, errorText, focusQuietly, part, say } from "./ui.js";

const DESTROYED_GRACE_MS = 4000;

const main = document.querySelector('main[data-page="admin"]');
const page = part(main, "admin");
const roomId = main.dataset.roomId;
const queue = new EventQueue();
const members = new Map(); // memberId -> {memberId, name, fingerprint, flagged}, in join order
const colours = new ColourBook(); // one colour per member present, as in the room
let socket = null;
let proof = null;          // the PIN's proof (§8.1), kept in memory after a success to re-authenticate
let linkKeys = null;
let memberNumber = 0;
let ended = false;
let graceTimer = 0;

const countdown = new Countdown({
  clock: new ServerClock(),
  timers: [part(page, "countdown")],
  onZero: () => { graceTimer = setTimeout(() => end(), DESTROYED_GRACE_MS); },
});
const controls = new AdminControls(part(page, "admin-controls"), {
  request: (event, payload) => (socket?.connected ? request(socket, event, payload) : Promise.resolve({ ok: false, code: "offline" })),
  onExtended: (expiresAt, now) => countdown.update(expiresAt, now),
});

/** Link keys from the fragment's secret, when the admin opened the page with it. */
async function loadLinkKeys() {
  const secret = takeLinkSecret();
  if (!secret || !canEncrypt()) return null;
  try {
    return await deriveLinkKeys(secret, roomId);
  } catch {
    return null;
  }
}

/** One member as listed here: a verified name with the secret, else "Member N"; always the fingerprint. */
async function describe(announcement) {
  memberNumber += 1;
  const person = { memberId: announcement.member_id, name: `Member ${memberNumber}`, flagged: false };
  try {
    person.fingerprint = await fingerprint(announcement.ecdh_pub, announcement.sig_pub);
  } catch {
    person.fingerprint = "";
  }
  if (linkKeys) {
    try {
      const opened = await openAnnouncement({ linkKeys, roomId, announcement });
      person.name = opened.name;
    } catch {
      person.flagged = true;
      person.label = "unverified";
      person.labelClass = "tag--warn";
    }
  }
  return person;
}

/** Shows the members, duplicate names told apart like the room does: "Ana", "Ana (2)". */
function renderMembers() {
  const seen = new Map();
  const people = [...members.values()].map((person) => {
    const count = (seen.get(person.name) ?? 0) + 1;
    seen.set(person.name, count);
    return { ...person, name: count === 1 ? person.name : `${person.name} (${count})` };
  });
  colours.sync(people.map((person) => person.memberId));
  renderPeople(part(page, "members"), people, {
    hueOf: (id) => colours.hueOf(id),
    onKick: (person, button) => controls.kick(person, button),
    onKickLock: async (person, button) => { if ((await controls.lock(true)).ok) await controls.kick(person, button); },
  });
  part(page, "members-empty").hidden = people.length > 0;
  part(page, "count").textContent = String(people.length);
}

/** Shows the lock state in the status card and on the toggle. */
function showLock(locked) {
  if (typeof locked !== "boolean") return;
  part(page, "lock-state").textContent = locked ? "Locked" : "Open";
  part(page, "lock-state").dataset.locked = String(locked);
  controls.update({ locked });
}

/** Takes a successful admin_auth ack: times, lock and the member list. */
async function applyAuth(ack) {
  countdown.update(ack.expires_at, ack.now);
  countdown.start();
  controls.update({ locked: ack.locked, expiresAt: ack.expires_at, maxExpiresAt: ack.max_expires_at });
  showLock(ack.locked);
  members.clear();
  memberNumber = 0;
  for (const announcement of ack.members ?? []) {
    const person = await describe(announcement);
    members.set(person.memberId, person);
  }
  renderMembers();
}

/** Sends admin_auth with a PIN's proof on the (possibly new) socket; resolves the ack. */
async function authenticate(candidate) {
  if (!socket) {
    socket = openSocket();
    wireSocket(socket);
  } else if (!socket.connected) {
    socket.connect();
  }
  const connected = await whenConnected(socket);
  if (!connected.ok) return connected;
  queue.reset();
  queue.pause(); // member events wait until the ack's member list is in place
  const ack = await request(socket, "admin_auth", { room: roomId, proof: candidate });
  if (ack.ok) await applyAuth(ack);
  queue.resume();
  return ack;
}

/** The PIN form (Enter submits): any case, with or without the dash; only its proof is sent (§8.1). */
async function onPinSubmit(event) {
  event.preventDefault();
  const input = part(page, "pin-input");
  const button = part(page, "pin-submit");
  const candidate = input.value.trim();
  if (!candidate) {
    say(part(page, "pin-error"), "Enter the PIN.");
    input.focus();
    return;
  }
  if (!PIN_SHAPE.test(normalizePin(candidate))) { // a typo that can't be a PIN costs none of the attempts
    say(part(page, "pin-error"), SHAPE_ERROR);
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return;
  }
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  const candidateProof = await claimProof(candidate, main.dataset.pinSalt);
  const ack = candidateProof ? await authenticate(candidateProof) : UNUSABLE_SALT;
  button.disabled = false;
  button.removeAttribute("aria-busy");
  if (!ack.ok) {
    if (ack.code === "no_room") return end("gone");
    say(part(page, "pin-error"), errorText(ack));
    input.setAttribute("aria-invalid", "true");
    input.select();
    return;
  }
  proof = candidateProof;
  input.value = "";
  input.removeAttribute("aria-invalid");
  say(part(page, "pin-error"), "");
  part(page, "auth").hidden = true;
  part(page, "panel").hidden = false;
  part(page, "names-hint").hidden = Boolean(linkKeys);
  focusQuietly(part(page, "lock-toggle"));
}

/** Routes the server events an admin receives. */
function wireSocket(sock) {
  sock.on("member_joined", (announcement) => queue.push(async () => {
    const person = await describe(announcement ?? {});
    members.set(person.memberId, person);
    renderMembers();
  }));
  sock.on("member_left", (data) => queue.push(() => {
    members.delete(data?.member_id);
    renderMembers();
  }));
  sock.on("room_state", (data = {}) => {
    countdown.update(data.expires_at, data.now);
    controls.update({ expiresAt: data.expires_at });
    showLock(data.locked);
  });
  sock.on("countdown", (data = {}) => {
    countdown.update(data.expires_at, data.now);
    controls.update({ expiresAt: data.expires_at });
  });
  sock.on("destroyed", (data) => end(data?.reason === "lost" ? "lost" : "burned"));
  sock.on("disconnect", () => {
    if (!ended && proof) part(page, "connection-banner").hidden = false;
  });
  sock.on("connect", () => { if (proof && !ended) reauthenticate(); });
}

/** After a reconnect, admin rights (bound to the old connection) are asked for again. */
async function reauthenticate() {
  const ack = await authenticate(proof);
  if (ack.ok) {
    part(page, "connection-banner").hidden = true;
  } else if (ack.code === "no_room") {
    end("gone");
  } else {
    proof = null;
    part(page, "connection-banner").hidden = true;
    part(page, "panel").hidden = true;
    part(page, "auth").hidden = false;
    say(part(page, "pin-error"), errorText(ack));
  }
}

/** The room burned (or is gone): forget everything, play the burn, show "Room burned". */
async function end(reason = "burned") {
  if (ended) return;
  ended = true;
  clearTimeout(graceTimer);
  wipe();
  countdown.stop();
  history.replaceState(null, "", location.pathname);
  await playBurn();
  page.hidden = true;
  if (reason === "gone") part(main, "burned-text").textContent = "This room doesn't exist or has burned.";
  if (reason === "lost") part(main, "burned-text").textContent = "The server lost this room.";
  const screen = part(main, "burned");
  screen.hidden = false;
  document.title = "Room burned - Burn Chat";
  focusQuietly(screen.querySelector("h1"));
}

/** Drops the PIN's proof, link keys, member list and socket. */
function wipe() {
  proof = linkKeys = null;
  members.clear();
  colours.clear();
  queue.reset();
  part(page, "members").replaceChildren();
  if (socket) {
    socket.off();
    socket.disconnect();
    socket = null;
  }
}

/** Page start: refuse without WebCrypto, derive the optional link keys, wire the form. */
async function boot() {
  if (!canEncrypt()) {
    part(page, "insecure-error").hidden = false;
    part(page, "pin-form").hidden = true;
    return;
  }
  part(page, "pin-form").addEventListener("submit", onPinSubmit);
  document.addEventListener("keydown", (event) => { // Escape backs out of the burn confirmation, as in the room
    if (event.key === "Escape" && !part(page, "burn-confirm").hidden) part(page, "burn-confirm-cancel").click();
  });
  part(page, "pin-input").focus({ preventScroll: true });
  linkKeys = await loadLinkKeys();
  part(page, "pin-submit").disabled = false; // only now can the PIN be checked (its proof over the socket), never a native submit
  window.addEventListener("pagehide", wipe);
  window.addEventListener("pageshow", (event) => { if (event.persisted) location.reload(); });
}

boot();
