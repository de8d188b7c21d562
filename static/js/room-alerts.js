// A background tab is not deaf: while the page is hidden or unfocused, messages from others
// count in the title ("(3) Burn Chat") and on the icon (a badge drawn on a canvas, a data: URL),
// and, if the person turned them on in the Alerts menu, play a tone (WebAudio, nothing fetched)
// and show a desktop notification. Coming back clears it all; the burn closes every notification.
// The settings live in this object only: nothing about a room is written anywhere.
import { UnreadCount, badgeText, notificationContent, titleWithCount } from "./attention.js";
import { part, say } from "./ui.js";

const ICON_PX = 64;

/** True while the person is not looking at this page. */
function pageAway() {
  return document.visibilityState === "hidden" || !document.hasFocus();
}

export class RoomAlerts {
  #root; #unread = new UnreadCount(); #baseTitle = null; #icon; #iconHref; #iconImage = null;
  #settings = { sound: false, notify: false, showText: false };
  #audio = null; #notes = new Set(); #listeners = [];

  /** `root`: the room markup (the Alerts menu lives in it). */
  constructor(root) {
    this.#root = root;
    this.#icon = document.querySelector('link[rel~="icon"]');
    this.#iconHref = this.#icon?.getAttribute("href") ?? null;
    this.#unread.setAway(pageAway());
    this.#wireMenu();
    const check = () => this.#check();
    for (const [target, event] of [[document, "visibilitychange"], [window, "focus"], [window, "blur"]]) {
      target.addEventListener(event, check);
      this.#listeners.push([target, event, check]);
    }
  }

  /** The checkboxes of the Alerts menu: all off at the start (they are never remembered). */
  #wireMenu() {
    const root = this.#root;
    const toggle = part(root, "alerts-toggle");
    const menu = part(root, "alerts-menu");
    toggle.addEventListener("click", () => this.setMenuOpen(menu.hidden));
    part(root, "alerts-close").addEventListener("click", () => { this.setMenuOpen(false); toggle.focus(); });
    const sound = part(root, "alert-sound"), notify = part(root, "alert-notify"), showText = part(root, "alert-show-text");
    sound.checked = notify.checked = showText.checked = false;
    showText.disabled = true;
    sound.addEventListener("change", () => this.#setSound(sound.checked));
    notify.addEventListener("change", () => this.#setNotify(notify));
    showText.addEventListener("change", () => { this.#settings.showText = showText.checked; });
  }

  /** Opens or closes the Alerts menu. */
  setMenuOpen(open) {
    part(this.#root, "alerts-menu").hidden = !open;
    part(this.#root, "alerts-toggle").setAttribute("aria-expanded", String(open));
    if (open) part(this.#root, "alert-sound").focus({ preventScroll: true });
  }

  /** True while the Alerts menu is open. */
  get menuOpen() {
    return !part(this.#root, "alerts-menu").hidden;
  }

  /** The tone, made on the person's own click (browsers start audio only after one). */
  #setSound(on) {
    this.#settings.sound = on;
    if (!on) return;
    try {
      this.#audio ??= new AudioContext();
      this.#audio.resume?.();
      this.#tone();
    } catch {
      this.#settings.sound = false;
      part(this.#root, "alert-sound").checked = false;
      say(part(this.#root, "alerts-error"), "This browser can't play the tone.");
    }
  }

  /** Desktop notifications: permission is asked for only now, when the person turns them on. */
  async #setNotify(box) {
    const error = part(this.#root, "alerts-error");
    const showText = part(this.#root, "alert-show-text");
    say(error, "");
    let on = box.checked;
    if (on && !("Notification" in window)) {
      say(error, "This browser can't show notifications.");
      on = false;
    } else if (on && Notification.permission !== "granted") {
      const answer = await Notification.requestPermission().catch(() => "denied");
      if (answer !== "granted") {
        say(error, "Notifications are blocked for this site in your browser's settings.");
        on = false;
      }
    }
    box.checked = on;
    this.#settings.notify = on;
    showText.disabled = !on;
    if (!on) {
      showText.checked = false;
      this.#settings.showText = false;
      this.#closeNotes();
    }
  }

  /** A message from someone else arrived ({name, text, me}). */
  message(message) {
    if (!this.#unread.message()) return;
    this.#render();
    if (this.#settings.sound) this.#tone();
    if (this.#settings.notify) this.#notify(message);
  }

  /** Away or back: back clears the count, the badge and the notifications. */
  #check() {
    const away = pageAway();
    if (this.#unread.setAway(away)) this.#render();
    if (!away) this.#closeNotes();
  }

  /** The title and the icon show the count (or nothing at 0). */
  #render() {
    const count = this.#unread.count;
    if (count > 0 && this.#baseTitle === null) this.#baseTitle = document.title;
    if (this.#baseTitle !== null) document.title = titleWithCount(this.#baseTitle, count);
    if (count === 0) this.#baseTitle = null;
    this.#drawIcon(count);
  }

  /** The favicon with a red badge holding the count, or the plain icon again. */
  async #drawIcon(count) {
    if (!this.#icon || this.#iconHref === null) return;
    if (count === 0) {
      this.#icon.setAttribute("href", this.#iconHref);
      return;
    }
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = ICON_PX;
    const g = canvas.getContext("2d");
    try {
      this.#iconImage ??= await this.#loadIcon();
      g.drawImage(this.#iconImage, 0, 0, ICON_PX, ICON_PX);
    } catch {
      // no flame then: the badge alone still says it
    }
    if (this.#unread.count !== count) return; // a newer count is being drawn, or it was cleared
    g.fillStyle = "#e5252a";
    g.beginPath();
    g.arc(ICON_PX - 20, 20, 20, 0, 2 * Math.PI);
    g.fill();
    g.fillStyle = "#fff";
    g.font = "bold 26px sans-serif";
    g.textAlign = "center";
    g.textBaseline = "middle";
    g.fillText(badgeText(count), ICON_PX - 20, 21);
    this.#icon.setAttribute("href", canvas.toDataURL("image/png"));
  }

  /** The page's own icon (same origin, so the canvas stays readable). */
  #loadIcon() {
    return new Promise((resolve, reject) => {
      const image = new Image(ICON_PX, ICON_PX);
      image.onload = () => resolve(image);
      image.onerror = reject;
      image.src = this.#iconHref;
    });
  }

  /** A short soft tone. */
  #tone() {
    const audio = this.#audio;
    if (!audio || audio.state === "closed") return;
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    const start = audio.currentTime;
    oscillator.type = "sine";
    oscillator.frequency.setValueAtTime(880, start);
    oscillator.frequency.exponentialRampToValueAtTime(660, start + 0.18);
    gain.gain.setValueAtTime(0.0001, start);
    gain.gain.exponentialRampToValueAtTime(0.12, start + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.25);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(start);
    oscillator.stop(start + 0.26);
  }

  /** One notification; it names nobody and quotes nothing unless "Show the text" is on. */
  #notify(message) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const { title, body } = notificationContent(message, this.#unread.count, this.#settings.showText);
    try {
      const note = new Notification(title, { body, tag: "burnchat", silent: true });
      note.onclick = () => { window.focus(); note.close(); };
      note.onclose = () => this.#notes.delete(note);
      this.#notes.add(note);
    } catch {
      // some browsers allow notifications from a service worker only: then there are none
    }
  }

  /** Closes every notification this page showed. */
  #closeNotes() {
    for (const note of this.#notes) note.close();
    this.#notes.clear();
  }

  /** The room ended: notifications closed, title and icon plain, the tone and settings forgotten. */
  wipe() {
    this.#closeNotes();
    this.#unread.reset();
    this.#render();
    for (const [target, event, fn] of this.#listeners) target.removeEventListener(event, fn);
    this.#listeners = [];
    this.#settings = { sound: false, notify: false, showText: false };
    this.#audio?.close?.().catch(() => {});
    this.#audio = null;
    this.setMenuOpen(false);
  }
}
