// The little formatting a chat message may carry, read from its plain text: fenced ``` code
// blocks, inline `code` and http(s) links. No DOM here: parseMessage() returns a flat list of
// tokens, and message-text.js turns them into nodes with textContent only, so no text is ever
// parsed as HTML. Anything that doesn't match a rule exactly stays text, as typed.

const FENCE = /```([\s\S]*?)```/g;
const INLINE_CODE = /`([^`\n]+)`/g;
// After a non-letter (so "xhttps://" is not a link); stops at space, quotes, angle brackets,
// backticks, backslashes (browsers read them as "/") and bidi controls: what shows is what opens.
const LINK = /(?<![\p{L}\p{N}])https?:\/\/(?![/\\])[^\s<>"'`\\\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+/giu;
const LANGUAGE_LINE = /^[A-Za-z0-9_+.#-]{1,20}\n/;
const TRAILING = /[.,;:!?'"*_~]$/;
const CLOSERS = { ")": "(", "]": "[", "}": "{" };

/**
 * Tokens of one message, in order: {type: "text", text}, {type: "code", text} (inline),
 * {type: "block", text} (a fenced block, its language line dropped) and {type: "link", url}
 * (the address exactly as typed, always http: or https:).
 */
export function parseMessage(text) {
  text = String(text);
  const tokens = [];
  let at = 0;
  for (const match of text.matchAll(FENCE)) {
    const body = blockBody(match[1]);
    if (body === null || match.index < at) continue;
    inline(trimOneNewline(text.slice(at, match.index), "end"), tokens);
    tokens.push({ type: "block", text: body });
    at = match.index + match[0].length;
    if (text.startsWith("\r\n", at)) at += 2;
    else if (text.startsWith("\n", at)) at += 1;
  }
  inline(text.slice(at), tokens);
  return merge(tokens);
}

/** A fence's content without its language line and the newlines next to the fences; null if empty. */
function blockBody(raw) {
  let body = raw.replace(LANGUAGE_LINE, "");
  body = trimOneNewline(trimOneNewline(body, "start"), "end");
  return body.trim() ? body : null;
}

/** Drops one newline at the `side` ("start" or "end") of `text`: a block is a line of its own already. */
function trimOneNewline(text, side) {
  if (side === "start") return text.startsWith("\r\n") ? text.slice(2) : text.startsWith("\n") ? text.slice(1) : text;
  return text.endsWith("\r\n") ? text.slice(0, -2) : text.endsWith("\n") ? text.slice(0, -1) : text;
}

/** Inline code spans, then links in the text between them. */
function inline(text, tokens) {
  let at = 0;
  for (const match of text.matchAll(INLINE_CODE)) {
    links(text.slice(at, match.index), tokens);
    tokens.push({ type: "code", text: match[1] });
    at = match.index + match[0].length;
  }
  links(text.slice(at), tokens);
}

/** Plain text with its http(s) addresses as link tokens. */
function links(text, tokens) {
  let at = 0;
  for (const match of text.matchAll(LINK)) {
    const url = trimUrl(match[0]);
    if (!isWebUrl(url)) continue;
    tokens.push({ type: "text", text: text.slice(at, match.index) });
    tokens.push({ type: "link", url });
    at = match.index + url.length;
  }
  tokens.push({ type: "text", text: text.slice(at) });
}

/** An address without the punctuation that ends the sentence around it ("see https://a.b/c)."). */
function trimUrl(url) {
  for (;;) {
    const last = url.at(-1);
    if (TRAILING.test(last)) url = url.slice(0, -1);
    else if (CLOSERS[last] && count(url, CLOSERS[last]) < count(url, last)) url = url.slice(0, -1);
    else return url;
  }
}

/** How often `char` occurs in `text`. */
function count(text, char) {
  return text.split(char).length - 1;
}

/** True for an address a browser reads as http(s) with a host. */
export function isWebUrl(url) {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.hostname !== "";
  } catch {
    return false;
  }
}

/** Joins neighbouring text tokens and drops empty ones. */
function merge(tokens) {
  const out = [];
  for (const token of tokens) {
    if (token.type === "text" && !token.text) continue;
    const last = out.at(-1);
    if (token.type === "text" && last?.type === "text") last.text += token.text;
    else out.push(token);
  }
  return out;
}
