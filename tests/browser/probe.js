// Injected by the browser tests into every page before the app's own scripts
// (Playwright adds init scripts outside the page's CSP). It only observes:
// CSP violations, the moment each end screen appears, and the page text at the
// moment the fire starts, so a test can tell what a person saw and when.
(() => {
  const probe = { csp: [], marks: {}, textUnderFire: null };
  Object.defineProperty(window, "__probe", { value: probe });

  /** Wall-clock milliseconds comparable across pages (every page shares the machine's clock). */
  const stamp = () => performance.timeOrigin + performance.now();

  /** True when `element` is in the document and neither it nor an ancestor is hidden. */
  const shown = (element) => Boolean(element && element.isConnected && !element.closest("[hidden]"));

  /** Countdown text (m:ss or h:mm:ss) as seconds, or NaN. */
  probe.seconds = (text) => {
    const parts = String(text || "").trim().split(":").map(Number);
    if (parts.length < 2 || parts.some((n) => !Number.isInteger(n))) return NaN;
    return parts.reduce((total, n) => total * 60 + n, 0);
  };

  const watches = [
    ["burning", () => document.querySelector('[data-testid="burning"]')],
    ["burned", () => document.querySelector('[data-testid="burn-screen"]')],
    ["removed", () => document.querySelector('[data-testid="removed-screen"]')],
  ];
  const custom = [];

  /** Records the first moment `check()` holds under the name `name` (tests add their own). */
  probe.when = (name, check) => {
    custom.push([name, check]);
    look();
  };

  /** Runs after every DOM change: stamps whatever just became true. */
  function look() {
    for (const [name, find] of watches) {
      if (!(name in probe.marks) && shown(find())) {
        probe.marks[name] = stamp();
        if (name === "burning") probe.textUnderFire = document.body.innerText;
      }
    }
    for (const [name, check] of custom) {
      if (!(name in probe.marks) && check()) probe.marks[name] = stamp();
    }
  }

  document.addEventListener("securitypolicyviolation", (event) => {
    probe.csp.push(`${event.violatedDirective} ${event.blockedURI}`);
  });
  new MutationObserver(look).observe(document, {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
})();
