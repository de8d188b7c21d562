// The burn: flames rise over the screen for about three seconds while a bar
// fills, then the caller shows "Room burned". Callers wipe every message
// and key *before* calling playBurn, so nothing readable is left under the fire.
// With prefers-reduced-motion the overlay just fades.
import { make } from "./ui.js";

const BURN_MS = 3000;
const REDUCED_MS = 900;
const FLAMES = 16;
const EMBERS = 22;

/** True when the user asked the system for less motion. */
function prefersReducedMotion() {
  return window.matchMedia("(prefers-reduced-motion: reduce)").matches;
}

/** A random number in [min, max). */
function between(min, max) {
  return min + Math.random() * (max - min);
}

/** One flame tongue with its own position, size and timing (CSS custom properties; CSP allows CSSOM). */
function flame(index) {
  const element = make("span", "burn__flame");
  const x = (index + 0.5) / FLAMES * 100 + between(-4, 4);
  element.style.setProperty("--x", `${x.toFixed(1)}%`);
  element.style.setProperty("--size", `${between(90, 200).toFixed(0)}px`);
  element.style.setProperty("--delay", `${between(0, 0.9).toFixed(2)}s`);
  element.style.setProperty("--dur", `${between(1.1, 1.8).toFixed(2)}s`);
  return element;
}

/** One glowing ember drifting up. */
function ember() {
  const element = make("span", "burn__ember");
  element.style.setProperty("--x", `${between(0, 100).toFixed(1)}%`);
  element.style.setProperty("--drift", `${between(-60, 60).toFixed(0)}px`);
  element.style.setProperty("--delay", `${between(0.2, 1.8).toFixed(2)}s`);
  element.style.setProperty("--dur", `${between(1.2, 2.2).toFixed(2)}s`);
  return element;
}

/** Builds the overlay: glow, a wall of fire, flame tongues, embers and a progress bar. */
function buildOverlay(reduced) {
  const overlay = make("div", reduced ? "burn burn--reduced" : "burn");
  overlay.dataset.testid = "burning";
  overlay.setAttribute("role", "status");
  if (!reduced) {
    overlay.append(make("div", "burn__glow"), make("div", "burn__wall"));
    const flames = make("div", "burn__flames");
    for (let i = 0; i < FLAMES; i += 1) flames.append(flame(i));
    for (let i = 0; i < EMBERS; i += 1) flames.append(ember());
    overlay.append(flames);
  }
  const caption = make("div", "burn__caption");
  caption.append(make("p", "burn__label", "Burning..."));
  const bar = make("div", "burn__progress");
  bar.append(make("span", "burn__progress-fill"));
  caption.append(bar);
  overlay.append(caption);
  return overlay;
}

/** Plays the burn over the whole viewport; resolves when the fire is out, then fades the overlay away. */
export function playBurn() {
  const reduced = prefersReducedMotion();
  const duration = reduced ? REDUCED_MS : BURN_MS;
  const overlay = buildOverlay(reduced);
  overlay.style.setProperty("--burn-ms", `${duration}ms`);
  document.body.append(overlay);
  return new Promise((resolve) => {
    setTimeout(() => {
      resolve(); // the caller puts the "Room burned" screen up under the fading ashes
      overlay.classList.add("burn--out");
      setTimeout(() => overlay.remove(), 600);
    }, duration);
  });
}
