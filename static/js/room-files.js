// Files in the chat (docs/PROTOCOL.md §6.7): picking (button, drop, paste), the preview with
// Send and Cancel, the upload a window of chunks at a time, the cards with their progress, and
// what a finished file becomes: an image inline (only when its bytes and declared type agree) or
// a card with a Download of neutral type. The crypto and chunking are files.js; the metadata goes
// out through the outbox like a text. At the burn every blob: URL is revoked and every buffer dropped.
import { Assembly, CHUNK_BYTES, DEFAULT_MAX_FILE_BYTES, FILE_WINDOW, displayAs, formatSize, prepareFile } from "./files.js";
import { request } from "./net.js";
import { make, part, userText } from "./ui.js";

const RETRY_MS = 1000, MAX_RETRIES = 30, CHUNK_ACK_MS = 30000;
const TRANSIENT = new Set(["rate_limited", "busy", "timeout", "offline", "internal"]);
const MAX_INCOMING = 50; // one file per member at a time, so never more than the room's members
// A file that stops arriving (our socket dropped and was left out, a cancel that never came) is
// given up after this long without a chunk: longer than the server waits for a slow receiver.
const STALL_MS = 30000;

/** One file's card: name, size and type, a progress bar, then the image or a Download. */
class FileCard {
  node; #bar; #status; #body; #name;

  constructor({ name, size, type }) {
    this.#name = name;
    this.node = make("div", "file-card");
    this.node.dataset.testid = "file-card";
    const head = make("div", "file-card__head");
    head.append(make("span", "file-card__icon"));
    const info = make("div", "file-card__info");
    info.append(userText("span", "file-card__name", name));
    info.append(make("span", "file-card__meta", `${formatSize(size)}${type ? ` · ${type}` : ""}`));
    head.append(info);
    this.#body = make("div", "file-card__body");
    this.#bar = make("progress", "file-card__progress");
    this.#bar.max = Math.max(size, 1);
    this.#bar.value = 0;
    this.#bar.dataset.testid = "file-progress";
    this.#bar.setAttribute("aria-label", `${name}: how much has moved`);
    this.#status = make("span", "file-card__status");
    this.#status.dataset.testid = "file-status";
    this.node.append(head, this.#body, this.#bar, this.#status);
    this.node.dataset.state = "moving";
  }

  /** `done` of `size` bytes moved. */
  progress(done, text) {
    this.#bar.value = done;
    this.#status.textContent = text;
  }

  /** The file can't be finished (cancelled, rejected, sender gone): said on the card. */
  end(text, tone = "quiet") {
    this.node.dataset.state = tone === "warn" ? "rejected" : "ended";
    this.#bar.remove();
    this.#status.textContent = text;
  }

  /** The file is here: an inline image (opens full size) or only a Download; `url` is a blob: URL. */
  done(url, image, ownText = "") {
    this.node.dataset.state = "done";
    this.#bar.remove();
    this.#status.textContent = ownText;
    if (image) {
      const button = make("button", "file-card__image-button");
      button.type = "button";
      button.setAttribute("aria-label", `Open ${this.#name} full size`);
      const img = make("img", "file-card__image");
      img.src = image;
      img.alt = this.#name;
      img.dataset.testid = "file-image";
      button.append(img);
      button.addEventListener("click", () => openFull(image, this.#name));
      this.#body.append(button);
    }
    const link = make("a", "btn btn--secondary btn--compact file-card__download", "Download");
    link.href = url;
    link.download = this.#name;
    link.dataset.testid = "file-download";
    this.node.append(link);
  }

  /** The burn: nothing of the file stays, the card says so while the fire plays. */
  burn() {
    this.node.replaceChildren(make("span", "file-card__flame"), make("span", "file-card__destroyed", "File destroyed"));
    this.node.dataset.state = "burned";
  }
}

/** The full-size view of an image: a layer over the page, closed by a click or Escape. */
function openFull(url, name) {
  const layer = make("div", "file-full");
  layer.dataset.testid = "file-full";
  layer.setAttribute("role", "dialog");
  layer.setAttribute("aria-label", name);
  const img = make("img", "file-full__image");
  img.src = url;
  img.alt = name;
  const close = make("button", "btn btn--secondary btn--compact file-full__close", "Close");
  close.type = "button";
  layer.append(img, close);
  const shut = () => { layer.remove(); document.removeEventListener("keydown", onKey); };
  const onKey = (event) => { if (event.key === "Escape") shut(); };
  layer.addEventListener("click", shut);
  document.addEventListener("keydown", onKey);
  document.body.append(layer);
  close.focus();
}

export class RoomFiles {
  #log; #logElement; #outbox; #socket; #roomId; #maxBytes; #myId; #myName;
  #attach; #input; #preview; #hint;
  #picked = null;           // the File shown in the preview
  #previewUrl = null;
  #outgoing = null;         // {transfer, card, cancelled}
  #incoming = new Map();    // "sender|transfer" -> {assembly, card, meta}
  #urls = new Set();        // every blob: URL we made
  #cards = new Set();
  #ready = false;

  /**
   * `root`: the room markup; `log`: the MessageLog; `outbox`: sends the metadata like a text;
   * `socket()`: the current socket; `myId()` / `myName()`: our member ID and name;
   * `maxBytes`: the server's file limit.
   */
  constructor({ root, log, outbox, socket, roomId, maxBytes = DEFAULT_MAX_FILE_BYTES, myId, myName }) {
    this.#log = log;
    this.#logElement = part(root, "messages");
    this.#outbox = outbox;
    this.#socket = socket;
    this.#roomId = roomId;
    this.#maxBytes = maxBytes;
    this.#myId = myId;
    this.#myName = myName;
    this.#attach = part(root, "attach");
    this.#input = part(root, "file-input");
    this.#preview = part(root, "file-preview");
    this.#hint = part(root, "file-hint");
    this.#attach.title = `Attach a file (up to ${formatSize(maxBytes)})`;
    this.#attach.addEventListener("click", () => this.#input.click());
    this.#input.addEventListener("change", () => {
      if (this.#input.files?.[0]) this.pick(this.#input.files[0]);
      this.#input.value = "";
    });
    part(root, "file-send").addEventListener("click", () => this.#sendPicked());
    part(root, "file-discard").addEventListener("click", () => this.#discard());
    const chat = part(root, "messages").parentElement;
    chat.addEventListener("dragover", (event) => { if (this.#ready) event.preventDefault(); });
    chat.addEventListener("drop", (event) => {
      event.preventDefault();
      const file = event.dataTransfer?.files?.[0];
      if (file && this.#ready) this.pick(file);
    });
    part(root, "composer-text").addEventListener("paste", (event) => {
      const file = [...(event.clipboardData?.files ?? [])][0];
      if (file && this.#ready) {
        event.preventDefault();
        this.pick(file);
      }
    });
  }

  /** The largest file this server relays (the page's data-max-file-bytes). */
  get maxBytes() { return this.#maxBytes; }

  /** The composer can send (the key is held): files may be picked. */
  setReady(ready) {
    this.#ready = ready;
    this.#attach.disabled = !ready;
  }

  // ---- picking and sending -------------------------------------------------------------

  /** A file picked, dropped or pasted: refused at once over the limit, else shown with Send and Cancel. */
  async pick(file) {
    this.#discard();
    if (file.size > this.#maxBytes) {
      this.#say(`${file.name || "That file"} is ${formatSize(file.size)}: files are limited to ${formatSize(this.#maxBytes)}.`);
      return;
    }
    this.#picked = file;
    this.#say("");
    part(this.#preview, "file-preview-name").textContent = file.name || "Pasted image";
    part(this.#preview, "file-preview-size").textContent = formatSize(file.size);
    const thumb = part(this.#preview, "file-preview-thumb");
    thumb.replaceChildren();
    const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
    if (this.#picked !== file) return;
    if (displayAs(head, file.type).image) {
      this.#previewUrl = this.#track(URL.createObjectURL(file));
      const img = make("img", "file-preview__image");
      img.src = this.#previewUrl;
      img.alt = "";
      thumb.append(img);
    } else {
      thumb.append(make("span", "file-card__icon"));
    }
    this.#preview.hidden = false;
  }

  /** A sentence under the composer (empty hides it). */
  #say(text) {
    this.#hint.textContent = text;
    this.#hint.hidden = !text;
  }

  /** Drops the picked file and its preview. */
  #discard() {
    this.#picked = null;
    if (this.#previewUrl) this.#revoke(this.#previewUrl);
    this.#previewUrl = null;
    this.#preview.hidden = true;
    part(this.#preview, "file-preview-thumb").replaceChildren();
  }

  /** Send: the metadata goes out like a text; once the server took it, the chunks follow. */
  async #sendPicked() {
    const file = this.#picked;
    if (!file || !this.#ready) return;
    if (this.#outgoing) {
      this.#say("One file at a time: wait for the last one to finish, or cancel it.");
      return;
    }
    this.#discard();
    const bytes = new Uint8Array(await file.arrayBuffer());
    const prepared = await prepareFile({ roomId: this.#roomId, bytes, name: file.name || "pasted-image", type: file.type });
    const { name, size, type } = prepared.body;
    const card = this.#card({ name, size, type }, { own: true });
    const cancel = make("button", "btn btn--ghost btn--compact file-card__cancel", "Cancel");
    cancel.type = "button";
    cancel.dataset.testid = "file-cancel";
    card.node.append(cancel);
    const outgoing = this.#outgoing = { transfer: prepared.transfer, card, cancelled: false };
    cancel.addEventListener("click", () => this.#cancelOwn(outgoing));
    card.progress(0, "Waiting to send...");
    this.#log.scrollToBottom(); // our own file: we just sent it, we want to see it
    const written = this.#outbox.writeFile(prepared.body, (state, reason) => {
      if (state === "sent") this.#upload(prepared, bytes, outgoing).finally(() => cancel.remove());
      else this.#finishOwn(outgoing, `Couldn't be sent: ${reason}`);
    });
    if (!written.ok) this.#finishOwn(outgoing, written.message);
  }

  /**
   * Every chunk out in order, at most FILE_WINDOW awaiting their ack (the server acks a chunk once its
   * receivers took it). A refusal stops the ones behind it too (the server takes chunks only in order):
   * a passing one (rate_limited, busy, a lost answer) rewinds to it after a pause, any other ends the file.
   */
  async #upload(prepared, bytes, outgoing) {
    const flight = [];
    let next = 0, done = 0, retries = 0;
    while (done < prepared.total) {
      while (flight.length < FILE_WINDOW && next < prepared.total) {
        const chunk = await prepared.seal(next);
        if (outgoing.cancelled) return;
        flight.push({ index: next, answer: request(this.#socket(), "file_chunk", chunk, CHUNK_ACK_MS) });
        next += 1;
      }
      const { index, answer } = flight.shift();
      const ack = await answer;
      if (outgoing.cancelled) return;
      if (ack.ok) {
        done += 1;
        const sent = Math.min(done * CHUNK_BYTES, bytes.length);
        outgoing.card.progress(sent, `Sending... ${Math.round((100 * done) / prepared.total)}%`);
        continue;
      }
      await Promise.all(flight.splice(0).map((f) => f.answer));
      if (!TRANSIENT.has(ack.code) || retries >= MAX_RETRIES) {
        request(this.#socket(), "file_cancel", { transfer: prepared.transfer });
        this.#finishOwn(outgoing, `Couldn't be sent: ${ack.error || ack.code}`);
        return;
      }
      retries += 1;
      next = index;
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      if (outgoing.cancelled) return;
    }
    this.#outgoing = null;
    const shown = displayAs(bytes, prepared.body.type);
    const url = this.#blobUrl(bytes, shown);
    this.#following(outgoing.card, () => outgoing.card.done(url, shown.image ? url : null, "Sent"), true);
  }

  /** The sender's Cancel: the others see "cancelled". */
  #cancelOwn(outgoing) {
    if (outgoing.cancelled) return;
    outgoing.cancelled = true;
    request(this.#socket(), "file_cancel", { transfer: outgoing.transfer });
    this.#finishOwn(outgoing, "Cancelled");
  }

  /** Our file won't go (any further). */
  #finishOwn(outgoing, text) {
    outgoing.cancelled = true;
    outgoing.card.node.querySelector(".file-card__cancel")?.remove();
    outgoing.card.end(text, text.startsWith("Couldn't") ? "warn" : "quiet");
    if (this.#outgoing === outgoing) this.#outgoing = null;
  }

  // ---- receiving -----------------------------------------------------------------------

  /** A file's metadata opened (protocol.js checked it): its card waits for the chunks. */
  announced({ memberId, name, file }) {
    const key = `${memberId}|${file.transfer}`;
    if (this.#incoming.size >= MAX_INCOMING || this.#incoming.has(key)) return;
    const card = this.#card(file, { own: false, senderId: memberId, name });
    card.progress(0, "Arriving...");
    const entry = { assembly: new Assembly(this.#roomId, file), card, meta: file, timer: 0 };
    this.#incoming.set(key, entry);
    this.#watch(key, entry);
  }

  /** (Re)arms the stall timer of an arriving file. */
  #watch(key, entry) {
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      if (this.#incoming.get(key) !== entry) return;
      this.#incoming.delete(key);
      entry.assembly.drop();
      entry.card.end("Didn't arrive: the connection was lost on the way");
    }, STALL_MS);
  }

  /** Forgets an arriving file: its chunks, its key, its timer. */
  #forget(key, entry) {
    this.#incoming.delete(key);
    clearTimeout(entry.timer);
    entry.assembly.drop();
  }

  /** One chunk from the relay (in order): opened, counted; the last one checks the whole file. */
  async chunk({ sender, transfer, index, total, ct }) {
    const key = `${sender}|${transfer}`;
    const entry = this.#incoming.get(key);
    if (!entry) return;
    try {
      const got = await entry.assembly.add({ index, total, ct });
      this.#watch(key, entry);
      entry.card.progress(got, `Arriving... ${Math.round(100 * got / Math.max(entry.meta.size, 1))}%`);
      if (!entry.assembly.complete) return;
      this.#incoming.delete(key);
      clearTimeout(entry.timer);
      const bytes = await entry.assembly.finish();
      const shown = displayAs(bytes, entry.meta.type);
      const url = this.#blobUrl(bytes, shown);
      this.#following(entry.card, () => entry.card.done(url, shown.image ? url : null));
    } catch (error) {
      this.#forget(key, entry);
      entry.card.end(error?.code === "bad_hash"
        ? "Rejected: this file was changed on the way (its fingerprint doesn't match)"
        : "Rejected: part of this file was changed or lost on the way", "warn");
    }
  }

  /** The sender cancelled, left, or we were too slow: the card says so, the chunks are dropped. */
  cancelled({ sender, transfer, reason }) {
    const key = `${sender}|${transfer}`;
    const entry = this.#incoming.get(key);
    if (!entry) return;
    this.#forget(key, entry);
    entry.card.end(reason === "cancelled" ? "Cancelled by the sender"
      : reason === "slow" ? "Didn't arrive: your connection was too slow" : "Didn't arrive: the sender left");
  }

  /** A member left or was removed: its unfinished files won't come. */
  memberLeft(memberId) {
    for (const [key, entry] of this.#incoming) {
      if (!key.startsWith(`${memberId}|`)) continue;
      this.#forget(key, entry);
      entry.card.end("Didn't arrive: the sender left");
    }
  }

  // ---- shared --------------------------------------------------------------------------

  /** A card in the log, ours or someone's. */
  #card(meta, { own, senderId = this.#myId(), name = this.#myName() }) {
    const card = new FileCard(meta);
    this.#log.addMessage({ senderId, name, own, content: card.node });
    this.#cards.add(card);
    return card;
  }

  /** Runs `grow` (a card getting its image or Download) and keeps the newest line in view if it was. */
  #following(card, grow, force = false) {
    const log = this.#logElement;
    const atBottom = force || log.scrollHeight - log.scrollTop - log.clientHeight <= 64;
    grow();
    if (!atBottom) return;
    log.scrollTop = log.scrollHeight;
    card.node.querySelector("img")?.addEventListener("load", () => { log.scrollTop = log.scrollHeight; }, { once: true });
  }

  /** A blob: URL of the file: an image with its own type, anything else as application/octet-stream. */
  #blobUrl(bytes, shown) {
    return this.#track(URL.createObjectURL(new Blob([bytes], { type: shown.type })));
  }

  #track(url) {
    this.#urls.add(url);
    return url;
  }

  #revoke(url) {
    URL.revokeObjectURL(url);
    this.#urls.delete(url);
  }

  /**
   * The burn (or a kick, or the page going away), after the log was cleared: every blob: URL revoked,
   * every buffer and key dropped, and in each card's place a "File destroyed" flame (nothing of the
   * file in it) that burns with the room -> how many files there were.
   */
  wipe() {
    for (const url of [...this.#urls]) this.#revoke(url);
    for (const [key, entry] of [...this.#incoming]) this.#forget(key, entry);
    if (this.#outgoing) this.#outgoing.cancelled = true;
    this.#outgoing = null;
    this.#discard();
    this.#say("");
    document.querySelectorAll(".file-full").forEach((layer) => layer.remove());
    const count = this.#cards.size;
    for (const card of this.#cards) {
      card.burn();
      this.#logElement.append(card.node);
    }
    this.#cards.clear();
    this.setReady(false);
    return count;
  }
}
