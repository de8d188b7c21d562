"""The two themes: dark by default, light when the system asks for it (prefers-color-scheme).
(Chromium reports "light" when nothing is asked for, so person.py asks for dark by default.)
Every text colour meets WCAG AA (4.5:1) on each background it is drawn on, in both; the burn
ends on the theme's own background."""

import pytest
from playwright.sync_api import expect

from tests.browser.person import Room, shot

pytestmark = pytest.mark.browser
AA = 4.5
# (text token, background token): every pairing the stylesheet draws text with.
PAIRS = [(text, back) for back in ("--bg", "--surface", "--surface-2", "--surface-3", "--field-bg")
         for text in ("--text", "--text-muted", "--text-faint", "--link", "--accent-gold",
                      "--error-text", "--warn", "--ok")] + [
    ("--info", "--toast-bg"), ("--ok", "--copy-bg"), ("--text", "--input-bg"), ("--text-faint", "--input-bg"),
    ("--own-time", "--own-bubble"), ("--text", "--own-bubble"), ("--link", "--own-bubble"),
]
# Each token as the browser resolves it (a gradient gives every colour in it), and WCAG's
# contrast ratio of each pair, worst case over a gradient's colours.
CONTRASTS = """(pairs) => {
  const probe = document.createElement("i");
  document.body.append(probe);
  const colours = (token) => {
    const value = getComputedStyle(document.documentElement).getPropertyValue(token).trim();
    const found = value.match(/#[0-9a-f]{3,8}\\b|rgba?\\([^)]*\\)/gi) || [value];
    return found.map((one) => { probe.style.color = one; return getComputedStyle(probe).color.match(/[\\d.]+/g).map(Number); });
  };
  const channel = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const blend = ([r, g, b, a = 1], under) => [r, g, b].map((c, i) => c * a + under[i] * (1 - a));
  const bg = colours("--bg")[0];
  const ratio = (fore, back) => {
    const solidBack = blend(back, bg);
    const [hi, lo] = [luminance(blend(fore, solidBack)), luminance(solidBack)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const result = {};
  for (const [text, back] of pairs) {
    result[`${text} on ${back}`] = Math.min(...colours(text).flatMap((f) => colours(back).map((b) => ratio(f, b))));
  }
  result.bgLuminance = luminance(bg);
  probe.remove();
  return result;
}"""


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_every_text_colour_meets_wcag_aa(people, theme):
    """Text tokens on background tokens: at least 4.5:1 in both themes."""
    person = people("Reader", color_scheme=theme)
    person.open("/")
    expect(person.page.get_by_role("button", name="Create room")).to_be_enabled()
    measured = person.page.evaluate(CONTRASTS, PAIRS)
    background = measured.pop("bgLuminance")
    assert (background < 0.02) if theme == "dark" else (background > 0.8), background
    weak = {pair: round(ratio, 2) for pair, ratio in measured.items() if ratio < AA}
    assert not weak, weak


def test_the_burn_ends_on_the_light_background(people):
    """In the light theme the fire still burns, and its last frame is the page's own background."""
    ana = people("Ana", color_scheme="light")
    ana.create_room()
    ana.enter_room("Ana")
    ana.send("This will burn in the light.")
    ana.page.get_by_role("button", name="Burn now").click()
    ana.page.get_by_role("button", name="Confirm burn").click()
    burning = ana.page.get_by_test_id("burning")
    expect(burning).to_be_visible()
    # Stop the fire half-way for the picture, then at its end to read the colour it settles on.
    ana.page.evaluate("() => document.getAnimations().forEach((a) => { a.pause(); a.currentTime = 1400; })")
    shot(ana.page, "themes-light-burning", settle=False)
    end = ana.page.evaluate("""() => {
      const burn = document.querySelector('[data-testid="burning"]');
      burn.getAnimations().forEach((a) => { a.currentTime = a.effect.getComputedTiming().endTime - 1; });
      return getComputedStyle(burn).backgroundColor;
    }""")
    assert end.replace("rgba", "rgb").replace(", 1)", ")") == "rgb(246, 238, 231)", end  # --bg of the light theme
    ana.page.evaluate("() => document.getAnimations().forEach((a) => a.play())")
    expect(ana.page.get_by_role("heading", name="Room burned")).to_be_in_viewport()


@pytest.mark.parametrize("theme", ["dark", "light"])
def test_a_conversation_reads_well_in_both_themes(people, app_server, theme):
    """A short chat with code and a link on a phone, in each theme (the README's pictures)."""
    room = Room.from_api(app_server, ttl_seconds=900)
    ana, ben = people("Ana", phone=True, color_scheme=theme), people("Ben", color_scheme=theme)
    ana.join(room.link, "Ana")
    ben.join(room.link, "Ben")
    ben.send("Deploy is stuck again. The log says `ECONNRESET` on step 3.", shown="Deploy is stuck")
    ana.send("Try this and tell me what it prints:\n```\njq .state < status.json\n```",
             shown="Try this and tell me")
    ben.send("\"degraded\" - same as https://status.example.invalid/incidents says.", shown="degraded")
    ana.send("Then it's not us. Let's wait it out.")
    expect(ana.message("degraded")).to_be_visible()
    ana.page.wait_for_function("() => !document.querySelector('[data-testid=safety-changed]:not([hidden])')", timeout=15_000)
    assert ana.layout_problems() == []
    shot(ana.page, f"themes-{theme}-chat")
