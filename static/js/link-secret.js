// The link secret (the part after #), taken out of the address bar when this module is
// first evaluated: room.js and admin.js import it before anything else, so no other code
// runs while the secret is in the URL (docs/PROTOCOL.md §11). It stays in memory only;
// a reload therefore needs the link again, on purpose.
import { secretFromHash } from "./ui.js";

let secret = null;
if (/^\/r\/[^/]+(\/admin)?$/.test(location.pathname) && location.hash) {
  secret = secretFromHash(location.hash);
  history.replaceState(null, "", location.pathname + location.search);
}

/** The secret the page was opened with (or null), handed out once: the caller owns it from then on. */
export function takeLinkSecret() {
  const taken = secret;
  secret = null;
  return taken;
}
