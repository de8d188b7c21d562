// Draws a QR code of the share link on a canvas, entirely in the browser: the
// link (with its secret) never goes to any QR service.
import qrcode from "../vendor/qrcode.mjs";

const QUIET_ZONE = 4; // modules of light margin that scanners need around the code

/** Draws `text` as a QR code (error correction M) filling `canvas`, dark on light. */
export function drawQr(canvas, text) {
  const qr = qrcode(0, "M");
  qr.addData(text);
  qr.make();
  const count = qr.getModuleCount();
  const modules = count + 2 * QUIET_ZONE;
  // Whole device pixels per module keep the edges crisp on any screen.
  const cssSize = canvas.clientWidth || 220;
  const scale = Math.max(2, Math.floor((cssSize * (window.devicePixelRatio || 1)) / modules));
  canvas.width = canvas.height = modules * scale;
  const context = canvas.getContext("2d");
  context.fillStyle = "#fffaf5";
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = "#140c08";
  for (let row = 0; row < count; row += 1) {
    for (let col = 0; col < count; col += 1) {
      if (qr.isDark(row, col)) {
        context.fillRect((col + QUIET_ZONE) * scale, (row + QUIET_ZONE) * scale, scale, scale);
      }
    }
  }
}
