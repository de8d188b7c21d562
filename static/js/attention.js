// What a background tab tells its person, as plain rules (no DOM): the unread count in the
// title and on the icon, and what a desktop notification may say. room-alerts.js applies them.

/** The tab title with the unread count in front: "(3) Burn Chat"; the plain title at 0. */
export function titleWithCount(base, count) {
  if (!(count > 0)) return base;
  return `(${count > 99 ? "99+" : count}) ${base}`;
}

/** The few characters that fit on the icon's badge. */
export function badgeText(count) {
  return count > 9 ? "9+" : String(count);
}

/** Counts the messages that arrive while the page is away (hidden or unfocused); back = zero. */
export class UnreadCount {
  count = 0;
  #away = false;

  /** The page went away (true) or came back (false); -> true when coming back cleared a count. */
  setAway(away) {
    this.#away = Boolean(away);
    if (this.#away || this.count === 0) return false;
    this.count = 0;
    return true;
  }

  /** True while the page is away. */
  get away() {
    return this.#away;
  }

  /** A message from someone else arrived: -> true when it counts (the page is away). */
  message() {
    if (!this.#away) return false;
    this.count += 1;
    return true;
  }

  /** Back to zero (the room ended). */
  reset() {
    this.count = 0;
    this.#away = false;
  }
}

/**
 * What a notification says. Without `showText` neither the text nor the name: notifications end
 * up in the system's notification history, which outlives the burn.
 */
export function notificationContent({ name, text, me = false }, count, showText) {
  if (!showText) return { title: "Burn Chat", body: count > 1 ? `${count} new messages` : "New message" };
  return { title: me ? "Burn Chat" : name, body: me ? `* ${name} ${text}` : text };
}
