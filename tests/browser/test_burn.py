"""The countdown's last minute and the burn at zero, as every open page shows them."""

import re
import secrets

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.person import Room, shot

pytestmark = pytest.mark.browser

BURN_TTL_SECONDS = 10  # room for three people to join and talk, then the burn is the point
SAME_MOMENT_MS = 500
FINAL_BANNER = "Less than a minute left - this room will burn"
HALF_BURNT = """() => (document.querySelector(".burn__progress-fill")?.getAnimations()[0]?.currentTime ?? 0) > 1500"""
# The colour a CSS custom property resolves to, as getComputedStyle reports colours.
CSS_COLOUR = """(name) => {
  const probe = document.createElement("span");
  probe.style.setProperty("color", `var(${name})`);
  document.body.append(probe);
  const colour = getComputedStyle(probe).color;
  probe.remove();
  return colour;
}"""


def test_final_minute_warning_and_timer_colours(people):
    """Calm above 5 min, amber under 5, red with a banner in the last minute; extending calms it."""
    ana = people("Ana")
    ana.create_room(ttl_seconds=66)
    ana.enter_room("Ana")
    colour = {name: ana.page.evaluate(CSS_COLOUR, f"--{name}") for name in ("text", "warn", "danger")}
    assert len(set(colour.values())) == 3, colour
    banner = ana.page.get_by_role("alert").filter(has_text=FINAL_BANNER)

    expect(ana.timer).to_have_attribute("data-level", "warn")
    expect(ana.timer).to_have_css("color", colour["warn"])
    expect(banner).to_be_hidden()

    expect(banner).to_be_visible(timeout=15_000)  # the 60 s mark passes a few seconds in
    expect(ana.timer).to_have_attribute("data-level", "danger")
    expect(ana.timer).to_have_css("color", colour["danger"])
    assert ana.timer_seconds() <= 60
    assert ana.layout_problems() == []  # the banner takes its line from the list, not the composer
    shot(ana.page, "09-final-minute")

    ana.page.get_by_role("button", name="Extend +5 min").click()
    expect(banner).to_be_hidden(timeout=2_000)
    expect(ana.timer).to_have_attribute("data-level", "calm")
    expect(ana.timer).to_have_css("color", colour["text"])
    assert ana.timer_seconds() > 300


def test_burn_at_zero_on_every_page(people, app_server):
    """At zero all pages burn together, keep no text of the room, and the room is gone for good."""
    room = Room.from_api(app_server, ttl_seconds=BURN_TTL_SECONDS)
    crowd = [people(name) for name in ("Ana", "Ben", "Cy")]
    for person in crowd:
        person.join(room.link, person.label)
    said = [f"burn after reading {secrets.token_hex(4)}", f"ashes to ashes {secrets.token_hex(4)}"]
    crowd[0].send(said[0])
    crowd[2].send(said[1])
    for person in crowd:
        expect(person.message(said[0]).or_(person.page.get_by_test_id("message-own").filter(has_text=said[0]))).to_be_visible()
        # The last seconds: the banner and the pulsing red timer.
        expect(person.page.get_by_role("alert").filter(has_text=FINAL_BANNER)).to_be_visible()
        expect(person.timer).to_have_attribute("data-level", "danger")
        expect(person.timer).to_have_class(re.compile(r"\bis-final\b"))

    expect(crowd[0].page.get_by_test_id("burning")).to_be_visible(timeout=(BURN_TTL_SECONDS + 5) * 1000)
    crowd[0].page.wait_for_function(HALF_BURNT)  # the picture shows the fire at its height
    shot(crowd[0].page, "06-burning", settle=False)
    for person in crowd:
        expect(person.page.get_by_role("heading", name="Room burned")).to_be_visible()
    expect(crowd[0].page.get_by_test_id("burning")).to_have_count(0)  # the ashes have faded
    shot(crowd[0].page, "07-burned")

    burned_at = [person.marks()["burned"] for person in crowd]
    assert max(burned_at) - min(burned_at) <= SAME_MOMENT_MS, burned_at
    for person in crowd:
        under_fire = person.page.evaluate("window.__probe.textUnderFire")
        after = person.dom_text()
        for text in [*said, "Ana", "Ben", "Cy"]:
            word = re.compile(rf"\b{re.escape(text)}\b")
            assert not word.search(under_fire), (person.label, text)  # nothing readable under the fire
            assert not word.search(after), (person.label, text)
        assert room.secret not in person.page.url
        assert not person.foreign_requests(), person.foreign_requests()
    assert requests.get(app_server.url + room.path, timeout=5).status_code == 404
    assert requests.get(app_server.url + room.path + "/admin", timeout=5).status_code == 404
