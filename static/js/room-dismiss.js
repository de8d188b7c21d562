// Escape closes whatever is open in the room, the most recent layer first: the burn
// confirmation, the Alerts menu, the safety code panel, the admin PIN form, the people sheet.
import { part } from "./ui.js";

/** A layer that is open when `shown(root)` and closes by pressing its own Cancel / Close button. */
const LAYERS = [
  { shown: (root) => !part(root, "burn-confirm").hidden, button: "burn-confirm-cancel" },
  { shown: (root) => !part(root, "alerts-menu").hidden, button: "alerts-close" },
  { shown: (root) => !part(root, "safety-panel").hidden, button: "safety-close" },
  { shown: (root) => !part(root, "admin-claim-form").hidden, button: "admin-claim-open" },
];

/** Listens for Escape on the whole page (focus may be anywhere); `people`: {isOpen(), close()}. -> a function that stops it. */
export function wireDismiss(root, people) {
  const onKey = (event) => {
    if (event.key !== "Escape" || event.defaultPrevented || root.dataset.state !== "chat") return;
    const layer = LAYERS.find((candidate) => candidate.shown(root));
    if (layer) part(root, layer.button).click();
    else if (people.isOpen()) people.close();
    else return;
    event.preventDefault();
  };
  document.addEventListener("keydown", onKey);
  return () => document.removeEventListener("keydown", onKey);
}
