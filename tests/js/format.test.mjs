// format.js: what formatting a message's plain text carries (code, fenced blocks, http(s)
// links), and that anything else - other schemes, markup, half-made syntax - stays text.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { parseMessage, isWebUrl } from "../../static/js/format.js";

const text = (t) => ({ type: "text", text: t });
const code = (t) => ({ type: "code", text: t });
const block = (t) => ({ type: "block", text: t });
const link = (url) => ({ type: "link", url });

/** What a reader sees, put back together: the tokens must not lose or invent any character but the markers. */
function shown(tokens) {
  return tokens.map((t) => t.text ?? t.url).join("");
}

describe("plain text", () => {
  test("stays one text token, line breaks and spaces kept", () => {
    assert.deepEqual(parseMessage("hi\n  there  \n\nbye"), [text("hi\n  there  \n\nbye")]);
  });
  test("markup is text", () => {
    const hostile = '<script>alert(1)</script><img src=x onerror="alert(2)"> &amp;';
    assert.deepEqual(parseMessage(hostile), [text(hostile)]);
  });
  test("empty message gives no tokens", () => {
    assert.deepEqual(parseMessage(""), []);
  });
});

describe("inline code", () => {
  test("a span between backticks, spaces kept", () => {
    assert.deepEqual(parseMessage("run `ls  -la` now"), [text("run "), code("ls  -la"), text(" now")]);
  });
  test("no code across a line break, nor empty", () => {
    assert.deepEqual(parseMessage("a `b\nc d"), [text("a `b\nc d")]);
    assert.deepEqual(parseMessage("empty `` here"), [text("empty `` here")]);
  });
  test("a lone backtick stays", () => {
    assert.deepEqual(parseMessage("it`s"), [text("it`s")]);
  });
  test("a link inside code is code, not a link", () => {
    assert.deepEqual(parseMessage("`https://example.com`"), [code("https://example.com")]);
  });
});

describe("fenced blocks", () => {
  test("a block on its own lines, indentation kept, language line dropped", () => {
    const message = "look:\n```python\ndef f():\n    return  1\n```\nok?";
    assert.deepEqual(parseMessage(message), [text("look:"), block("def f():\n    return  1"), text("ok?")]);
  });
  test("a one-line block", () => {
    assert.deepEqual(parseMessage("```x = 1```"), [block("x = 1")]);
  });
  test("backticks and links inside a block stay as typed", () => {
    assert.deepEqual(parseMessage("```\na `b` https://example.com\n```"), [block("a `b` https://example.com")]);
  });
  test("an unclosed fence is text", () => {
    assert.deepEqual(parseMessage("```\nno end"), [text("```\nno end")]);
  });
  test("an empty fence is text", () => {
    assert.deepEqual(parseMessage("``````"), [text("``````")]);
  });
  test("two blocks", () => {
    assert.deepEqual(parseMessage("```a``` and ```b```"), [block("a"), text(" and "), block("b")]);
  });
});

describe("links", () => {
  test("http and https, any case, with path, query and fragment", () => {
    assert.deepEqual(parseMessage("see https://example.com/a?b=1#c and HTTP://x.org"),
      [text("see "), link("https://example.com/a?b=1#c"), text(" and "), link("HTTP://x.org")]);
  });
  test("sentence punctuation after an address is not part of it", () => {
    assert.deepEqual(parseMessage("(at https://example.com/x)."), [text("(at "), link("https://example.com/x"), text(").")]);
    assert.deepEqual(parseMessage("https://en.wikipedia.org/wiki/Fire_(disambiguation)!"),
      [link("https://en.wikipedia.org/wiki/Fire_(disambiguation)"), text("!")]);
  });
  for (const scheme of ["javascript:alert(1)", "data:text/html,<b>x</b>", "vbscript:msgbox", "file:///etc/passwd",
    "ftp://example.com", "blob:https://example.com/x", "JaVaScRiPt:alert(1)//https://x"]) {
    test(`other schemes stay text: ${scheme}`, () => {
      const tokens = parseMessage(scheme);
      for (const t of tokens) if (t.type === "link") assert.match(t.url, /^https?:\/\//i);
      assert.equal(shown(tokens), scheme);
    });
  }
  test("a scheme glued to a word is not a link", () => {
    assert.deepEqual(parseMessage("xhttps://example.com"), [text("xhttps://example.com")]);
  });
  test("no host, no link", () => {
    assert.deepEqual(parseMessage("https:// and http:///x"), [text("https:// and http:///x")]);
  });
  test("quotes and angle brackets end an address", () => {
    assert.deepEqual(parseMessage('<a href="https://e.com/x">'), [text('<a href="'), link("https://e.com/x"), text('">')]);
  });
  test("a bidi control ends an address, so what shows is what opens", () => {
    assert.deepEqual(parseMessage("https://e.com/\u202egnp.exe"), [link("https://e.com/"), text("\u202egnp.exe")]);
  });
  test("a backslash ends an address (a browser would read it as a slash)", () => {
    assert.deepEqual(parseMessage("https://good.com\\@evil.com"), [link("https://good.com"), text("\\@evil.com")]);
  });
  test("a long address is kept whole", () => {
    const url = `https://example.com/${"a".repeat(300)}`;
    assert.deepEqual(parseMessage(`🔥 ${url}`), [text("🔥 "), link(url)]);
  });
});

test("nothing is lost: the shown text is the message without its markers", () => {
  const message = "a `b` c\n```\nd\n```\ne https://f.g/h.";
  assert.equal(shown(parseMessage(message)), "a b cde https://f.g/h.");
});

test("isWebUrl accepts only http(s) with a host", () => {
  assert.equal(isWebUrl("https://example.com"), true);
  assert.equal(isWebUrl("http://127.0.0.1:5000/r/x#y"), true);
  for (const bad of ["javascript:alert(1)", "data:,x", "https://", "//example.com", "example.com", "mailto:a@b.c"]) {
    assert.equal(isWebUrl(bad), false, bad);
  }
});

describe("fuzzed hostile text", () => {
  const pieces = ["https://", "http://", "HTTPS://", "javascript:", "data:", "a.b", "/", "(", ")", ".", "\"", "'", "<", ">",
    "\\", " ", "\n", "\u202e", "\u2066", "x", "é", "?q=1", "#f", "@", ":", "`", "```", "[", "]"];
  /** A deterministic pseudo-random generator, so a failure replays. */
  function rng(seed) {
    return () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  }
  const random = rng(14);
  const samples = Array.from({ length: 3000 }, () =>
    Array.from({ length: 1 + Math.floor(random() * 12) }, () => pieces[Math.floor(random() * pieces.length)]).join(""));

  test("every link is http(s) with no space, quote, bracket, backslash or bidi control", () => {
    for (const sample of samples) {
      for (const token of parseMessage(sample)) {
        if (token.type !== "link") continue;
        assert.match(token.url, /^https?:\/\/[^/\\]/i, sample);
        assert.doesNotMatch(token.url, /[\s"'<>`\\\u202a-\u202e\u2066-\u2069]/, sample);
        assert.ok(isWebUrl(token.url), sample);
      }
    }
  });
  test("without backticks nothing is lost or added", () => {
    for (const sample of samples.filter((s) => !s.includes("`"))) assert.equal(shown(parseMessage(sample)), sample);
  });
});
