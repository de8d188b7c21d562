// Reading a QR code from the camera, for comparing safety codes phone to phone (PROTOCOL.md
// §5.4). The browser's BarcodeDetector where it reads QR codes, else the vendored jsQR
// (static/vendor/jsQR.js, loaded only when first needed). The camera is asked for only
// when the person presses the button, and its stream is stopped as soon as the scan ends.

const MAX_SIDE = 640;         // frames are scaled down to this before decoding
const FRAME_MS = 150;         // time between decode attempts
const SCAN_TIMEOUT_MS = 60000; // a scan that finds nothing gives up (and frees the camera)

let detector;  // undefined: not looked for yet; null: no usable BarcodeDetector
let jsQR = null;

/** A BarcodeDetector for QR codes, or null where the browser has none. */
async function nativeDetector() {
  if (detector !== undefined) return detector;
  detector = null;
  try {
    if ("BarcodeDetector" in globalThis && (await globalThis.BarcodeDetector.getSupportedFormats()).includes("qr_code")) {
      detector = new globalThis.BarcodeDetector({ formats: ["qr_code"] });
    }
  } catch {
    detector = null;
  }
  return detector;
}

/** The vendored decoder (a UMD bundle: as a module it defines globalThis.jsQR). */
async function vendoredDecoder() {
  if (!jsQR) {
    await import("../vendor/jsQR.js");
    jsQR = globalThis.jsQR;
  }
  return jsQR;
}

/** The text of the QR code in `image` (ImageData), or null. Uses the vendored decoder unless `native`. */
export async function decodeImage(image, { native = false } = {}) {
  if (native) {
    const found = await (await nativeDetector())?.detect(image).catch(() => []);
    return found?.[0]?.rawValue ?? null;
  }
  const decode = await vendoredDecoder();
  return decode(image.data, image.width, image.height)?.data ?? null;
}

/** The pixels of one video frame, scaled to at most MAX_SIDE. */
function grab(video, canvas) {
  const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
  canvas.width = Math.max(1, Math.round(video.videoWidth * scale));
  canvas.height = Math.max(1, Math.round(video.videoHeight * scale));
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(video, 0, 0, canvas.width, canvas.height);
  return context.getImageData(0, 0, canvas.width, canvas.height);
}

/** One camera scan into a <video>: start() resolves the text found, or null (stopped, timed out, refused). */
export class CameraScan {
  #video; #stream = null; #timer = 0; #finish = null;

  constructor(video) {
    this.#video = video;
  }

  /** True while the camera is on. */
  get active() {
    return this.#stream !== null;
  }

  /** Asks for the camera and decodes frames until a QR code is read; throws when the camera is refused. */
  async start() {
    this.stop();
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    this.#stream = stream;
    const video = this.#video;
    video.srcObject = stream;
    video.muted = true;
    video.playsInline = true;
    await video.play().catch(() => {});
    const native = Boolean(await nativeDetector());
    if (this.#stream !== stream) return null; // stopped while the camera started
    const canvas = document.createElement("canvas");
    const started = Date.now();
    return new Promise((resolve) => {
      this.#finish = (text) => {
        this.#finish = null;
        this.stop();
        resolve(text);
      };
      const attempt = async () => {
        if (this.#stream !== stream) return;
        if (Date.now() - started > SCAN_TIMEOUT_MS) return this.#finish?.(null);
        let text = null;
        if (video.videoWidth > 0) text = await decodeImage(grab(video, canvas), { native }).catch(() => null);
        if (this.#stream !== stream) return;
        if (text) this.#finish?.(text);
        else this.#timer = setTimeout(attempt, FRAME_MS);
      };
      attempt();
    });
  }

  /** Turns the camera off (every track stopped) and ends a running scan with null. */
  stop() {
    clearTimeout(this.#timer);
    const stream = this.#stream;
    this.#stream = null;
    if (stream) for (const track of stream.getTracks()) track.stop();
    this.#video.srcObject = null;
    this.#finish?.(null);
  }
}
