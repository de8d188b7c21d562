"""axe-core audits of what a page shows now (vendor/axe.min.js, see vendor/README.md).

The page's CSP forbids inline scripts, so axe goes in through Playwright's evaluate (run by
the DevTools protocol, outside the page's policy) rather than a script tag; it only reads.
"""

from pathlib import Path

from tests.browser.person import SETTLE_ANIMATIONS

AXE_JS = (Path(__file__).with_name("vendor") / "axe.min.js").read_text(encoding="utf-8")
# Every rule axe has on by default (WCAG A/AA and best practices), any impact. axe only asks
# for review (incomplete) when a role that may not be named has an aria-label and text: we
# count that as a violation too, since the issue forbids such labels outright.
RUN = """() => axe.run(document, { resultTypes: ["violations", "incomplete"] }).then((result) => [
  ...result.violations, ...result.incomplete.filter((v) => v.id === "aria-prohibited-attr"),
].map((v) => `${v.id} (${v.impact}): ${v.help} -> ` + v.nodes.slice(0, 4).map((n) => n.target.join(" ")).join(" | ")))"""
# The headings of level 1 a person (or a screen reader) can reach right now.
LEVEL_ONE = """() => [...document.querySelectorAll("h1")]
  .filter((h) => h.checkVisibility({ visibilityProperty: true }) && !h.closest("[inert]"))
  .map((h) => h.textContent.trim())"""


def audit(page):
    """Violations axe finds on `page` now, plus one line if it hasn't exactly one h1; [] when clean."""
    page.evaluate(SETTLE_ANIMATIONS)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_JS)
    problems = page.evaluate(RUN)
    headings = page.evaluate(LEVEL_ONE)
    if len(headings) != 1:
        problems.append(f"h1: want exactly one, found {headings}")
    return problems
