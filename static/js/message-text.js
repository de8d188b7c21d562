// A message's text as DOM nodes: the tokens of format.js become text nodes, <code>, <pre> and
// <a> elements whose content is set with textContent only. A link is only ever http(s), opens
// in a new tab with no opener and no referrer, and shows its full address; nothing is fetched
// for it (no preview).
import { isWebUrl, parseMessage } from "./format.js";
import { make, userText } from "./ui.js";

/** The node for one token. */
function nodeFor(token) {
  if (token.type === "code") return make("code", "msg__code", token.text);
  if (token.type === "block") {
    const pre = make("pre", "msg__pre");
    pre.dir = "ltr";
    pre.tabIndex = 0; // a wide block scrolls sideways: the keyboard must reach it too
    pre.append(make("code", "", token.text));
    return pre;
  }
  if (token.type === "link" && isWebUrl(token.url)) {
    const link = make("a", "msg__link", token.url);
    link.href = token.url;
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    link.referrerPolicy = "no-referrer";
    link.dir = "ltr";
    return link;
  }
  return document.createTextNode(token.text ?? token.url ?? "");
}

/** The element showing a message's `text`, formatted, isolated like all user text. */
export function messageText(text, tag = "div", className = "msg__text") {
  const element = userText(tag, className, "");
  element.append(...parseMessage(text).map(nodeFor));
  return element;
}
