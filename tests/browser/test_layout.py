"""Nothing jumps or hides what matters: "Copied" moves nothing, the "Safety code changed" toast
stays off the messages, "Confirm burn" keeps to one line, the duration chips breathe on a
phone, and "Enter room" is on the first screen of the created panel on a phone."""

import pytest
from playwright.sync_api import expect

from tests.browser.person import Room, shot

pytestmark = pytest.mark.browser
SMALL_PHONE = {"viewport": {"width": 360, "height": 740}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
# How many lines an element's text takes.
LINES = """(el) => {
  const range = document.createRange();
  range.selectNodeContents(el);
  return new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.bottom))).size;
}"""


def top(locator):
    """The element's top edge in the page (not the viewport), in CSS pixels."""
    return locator.evaluate("(el) => el.getBoundingClientRect().top + scrollY")


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_copied_moves_nothing_on_the_created_panel(people, phone):
    """Copying the link or the PIN says so without pushing the QR code or the PIN text down."""
    ana = people("Ana", phone=phone)
    ana.create_room()
    qr, warn = ana.page.get_by_test_id("qr"), ana.page.locator(".pin-box__warn")
    before = top(qr), top(warn)
    ana.page.get_by_role("button", name="Copy link").click()
    expect(ana.page.get_by_test_id("link-copied")).to_have_text("Copied")
    ana.page.get_by_role("button", name="Copy PIN").click()
    expect(ana.page.get_by_test_id("pin-copied")).to_have_text("Copied")
    shot(ana.page, f"layout-copied-{'phone' if phone else 'desktop'}")
    assert (top(qr), top(warn)) == before


def test_enter_room_is_on_the_first_screen_of_a_phone(people):
    """On a phone the created panel shows "Enter room" without scrolling."""
    for label, options in (("Ana", {"phone": True}), ("Bo", SMALL_PHONE)):
        person = people(label, **options)
        person.create_room()
        shot(person.page, f"layout-created-{label}")
        expect(person.page.get_by_role("button", name="Enter room")).to_be_in_viewport(ratio=1)
        expect(person.page.get_by_test_id("qr")).to_be_visible()


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_the_safety_toast_never_covers_the_messages(people, app_server, phone):
    """When someone joins, "Safety code changed" shows inside the security strip, not over the log."""
    room = Room.from_api(app_server)
    host, guest = people("Host", phone=phone), people("Guest")
    host.join(room.link, "Host")
    guest.join(room.link, "Guest")
    toast = host.page.get_by_test_id("safety-changed")
    expect(toast).to_be_visible()
    shot(host.page, f"layout-toast-{'phone' if phone else 'desktop'}", settle=False)
    box = toast.bounding_box()
    log = host.log.bounding_box()
    strip = host.page.locator(".security-strip").bounding_box()
    assert box["y"] + box["height"] <= log["y"] + 0.5, (box, log)
    assert box["y"] >= strip["y"] - 0.5 and box["x"] + box["width"] <= strip["x"] + strip["width"] + 0.5, (box, strip)
    expect(host.page.get_by_role("button", name="Compare")).to_be_visible()


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_confirm_burn_keeps_to_one_line(people, phone):
    """The burn confirmation's two buttons each read on one line."""
    ana = people("Ana", phone=phone)
    ana.create_room()
    ana.enter_room("Ana")
    if phone:
        ana.page.get_by_role("button", name="People").tap()
    ana.page.get_by_role("button", name="Burn now").click()
    confirm = ana.page.get_by_role("button", name="Confirm burn")
    expect(confirm).to_be_visible()
    confirm.scroll_into_view_if_needed()
    shot(ana.page, f"layout-confirm-{'phone' if phone else 'desktop'}")
    for name in ("Confirm burn", "Cancel"):
        assert ana.page.get_by_role("button", name=name).evaluate(LINES) == 1, name


def test_duration_chips_have_room_on_a_small_phone(people):
    """Every chip's label fits inside it with room to spare, chips a full touch target apart."""
    bo = people("Bo", **SMALL_PHONE)
    bo.open("/")
    chips = bo.page.locator(".chip span")
    expect(chips.first).to_be_visible()
    shot(bo.page, "layout-chips")
    for chip in chips.all():
        fit = chip.evaluate("""(el) => {
          const range = document.createRange();
          range.selectNodeContents(el);
          const text = range.getBoundingClientRect(), box = el.getBoundingClientRect();
          return { spare: Math.min(text.left - box.left, box.right - text.right), height: box.height };
        }""")
        assert fit["spare"] >= 8 and fit["height"] >= 44, (chip.text_content(), fit)
