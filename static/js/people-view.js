// The people list, used in the room (from RoomSession.members()) and on the
// admin page: avatar initial, name (user text), "you" tag, key fingerprint and,
// for an admin, a Kick button per member; a member whose connection dropped is greyed (away).
import { make, userText } from "./ui.js";

/** The first letter or digit of a name for its avatar, or "?" (names may start with marks or symbols). */
function initial(name) {
  const match = /[\p{L}\p{N}]/u.exec(name || "");
  return match ? match[0].toLocaleUpperCase() : "?";
}

/** A hue from the fingerprint, so an avatar's colour follows the member's key. */
function hueOf(fingerprint) {
  return parseInt((fingerprint || "0").replace(/\s/g, "").slice(0, 4), 16) % 360 || 0;
}

/** A small danger button for one person. */
function personButton(label, title, testid, action) {
  const button = make("button", "btn btn--danger-ghost btn--compact person__kick", label);
  button.type = "button";
  button.title = title;
  button.dataset.testid = testid;
  button.addEventListener("click", () => action(button));
  return button;
}

/** One list item: [avatar] name (you) / fingerprint  [Kick] [Kick and lock the room] [Ban]. */
function personItem(person, { onKick, onKickLock, onBan, hueOf: colourOf }) {
  const item = make("li", `person${person.isSelf ? " person--self" : ""}${person.flagged ? " person--flagged" : ""}${person.away ? " person--away" : ""}`);
  item.dataset.memberId = person.memberId;
  item.dataset.testid = "person";
  item.style.setProperty("--hue", colourOf ? colourOf(person.memberId) : hueOf(person.fingerprint));
  item.append(make("span", "person__avatar", initial(person.name)));
  const info = make("div", "person__info");
  const nameLine = make("span", "person__name-line");
  nameLine.append(userText("span", "person__name", person.name));
  if (person.isSelf) nameLine.append(make("span", "tag tag--you", "you"));
  if (person.label) nameLine.append(make("span", `tag ${person.labelClass || ""}`.trim(), person.label));
  info.append(nameLine);
  const print = make("span", "person__fingerprint", person.fingerprint || "");
  print.title = "Key fingerprint";
  info.append(print);
  item.firstChild.setAttribute("aria-hidden", "true");
  item.append(info);
  if (person.isSelf) return item;
  const actions = make("span", "person__actions");
  if (onKick) actions.append(personButton("Kick", "Remove from the room (the link still lets them back in)", "kick", (b) => onKick(person, b)));
  // The kicked still hold the link: locking as well keeps them (and everyone new) out.
  if (onKickLock) actions.append(personButton("Kick and lock", "Kick and lock the room: nobody new gets in until you unlock it", "kick-lock", (b) => onKickLock(person, b)));
  if (onBan) actions.append(personButton("Ban", "Kick and change the link: the old link stops working for everyone", "ban", (b) => onBan(person, b)));
  if (actions.childNodes.length) item.append(actions);
  return item;
}

/**
 * Re-renders `list` from `people` ([{memberId, name, fingerprint, isSelf, label?}]); `onKick`, `onKickLock`
 * and `onBan` add Kick, "Kick and lock the room" and Ban buttons; `hueOf(memberId)` colours the avatars like
 * the names in the log.
 */
export function renderPeople(list, people, { onKick = null, onKickLock = null, onBan = null, hueOf: colourOf = null } = {}) {
  list.replaceChildren(...people.map((person) => personItem(person, { onKick, onKickLock, onBan, hueOf: colourOf })));
}
