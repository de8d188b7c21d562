"""axe-core on every main screen, in the dark and the light theme: any violation, of any
impact, fails; and every screen has exactly one h1. The message log is reachable and
scrollable from the keyboard."""

import pytest
from playwright.sync_api import expect

from tests.browser.axe import audit
from tests.browser.person import shot

pytestmark = pytest.mark.browser
THEMES = ["dark", "light"]
# A log several screens long, with the formatting a chat carries.
LONG_LOG = [f"message {n}: " + ("a longer line of text to read " * (n % 4)) for n in range(24)] + [
    "code `ls -la` and https://example.invalid/docs and\n```\nblock  of code\n```",
]


@pytest.fixture(params=THEMES)
def theme(request):
    """The colour scheme the browser reports (prefers-color-scheme)."""
    return request.param


def test_every_screen_passes_axe(people, app_server, theme):
    """Home, created, join, chat with a long log, admin panel, safety panel, burn confirmation,
    people sheet, the admin page and the ended screen: no axe violation, one h1 each."""
    found = {}

    def check(person, screen):
        found[screen] = audit(person.page)
        shot(person.page, f"axe-{theme}-{screen}")

    ana = people("Ana", color_scheme=theme)
    ana.open("/")
    expect(ana.page.get_by_role("button", name="Create room")).to_be_enabled()
    check(ana, "home")
    room = ana.create_room()
    check(ana, "created")

    guest = people("Guest", color_scheme=theme)
    guest.open(room.link)
    expect(guest.page.get_by_role("button", name="Join")).to_be_enabled()
    check(guest, "join")

    ana.enter_room("Ana")
    guest.join_as("Guest")
    for text in LONG_LOG:
        guest.send(text, shown=text.split("\n")[0].split("`")[0])
    expect(ana.page.get_by_test_id("message")).to_have_count(len(LONG_LOG))
    check(ana, "chat-admin")
    ana.page.get_by_role("button", name="Compare").click()
    expect(ana.page.get_by_test_id("safety-panel")).to_be_visible()
    check(ana, "safety-panel")
    ana.page.get_by_role("button", name="Close").click()

    phone = people("Phone", phone=True, color_scheme=theme)
    phone.join(room.link, "Phone")
    phone.page.get_by_role("button", name="People").tap()
    expect(phone.people()).to_have_count(3)
    check(phone, "people-sheet")

    boss = people("Boss", color_scheme=theme)
    boss.open(f"{room.path}/admin#{room.secret}")
    check(boss, "admin-sign-in")
    boss.page.get_by_label("PIN").fill(room.pin)
    boss.page.get_by_role("button", name="Continue").click()
    expect(boss.page.get_by_role("button", name="Burn now")).to_be_visible()
    check(boss, "admin-page")

    ana.page.get_by_role("button", name="Burn now").click()
    expect(ana.page.get_by_role("button", name="Confirm burn")).to_be_visible()
    check(ana, "burn-confirm")
    ana.page.get_by_role("button", name="Confirm burn").click()
    expect(guest.page.get_by_role("heading", name="Room burned")).to_be_in_viewport()
    guest.page.get_by_test_id("burning").wait_for(state="detached")
    check(guest, "ended")

    failing = {screen: problems for screen, problems in found.items() if problems}
    assert not failing, "\n".join(f"{screen}: {line}" for screen, lines in failing.items() for line in lines)


def test_the_log_is_a_labelled_focusable_scrollable_region(people, app_server):
    """Tab reaches the log; arrow keys then scroll it."""
    ana = people("Ana")
    room = ana.create_room()
    ana.enter_room("Ana")
    for n in range(12):
        ana.send("\n".join(f"line {n}.{k}" for k in range(6)), shown=f"line {n}.1")
    log = ana.page.get_by_role("log", name="Messages")
    expect(log).to_have_attribute("tabindex", "0")
    log.focus()
    before = log.evaluate("(el) => el.scrollTop")
    ana.page.keyboard.press("Home")
    ana.page.wait_for_function("(top) => document.querySelector('[role=log]').scrollTop < top", arg=before)
    assert room
