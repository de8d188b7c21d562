"""What the address bar and the history keep (PROTOCOL.md §11): the link secret leaves the
address as the page starts, and no history entry ever holds it - for a joiner, for the
creator who enters from the home page, and for the admin page."""

import pytest
from playwright.sync_api import expect

from tests.browser.person import Room

pytestmark = pytest.mark.browser

HISTORY_LENGTH = "history.length"


def assert_no_secret(person, secret, where):
    """Neither the address nor location.hash holds `secret`."""
    assert secret not in person.page.url, (where, person.page.url)
    assert person.page.evaluate("location.hash") == "", (where, person.page.url)


def walk_history(person, secret):
    """Back to the tab's first entry and forward to its last: no entry shows the secret. -> URLs seen."""
    steps = person.page.evaluate(HISTORY_LENGTH) - 1
    seen = []
    for direction in (person.page.go_back, person.page.go_forward):
        for _ in range(steps):
            direction()
            seen.append(person.page.url)
            assert_no_secret(person, secret, direction.__name__)
    return seen


def test_joiner_address_and_history_never_keep_the_secret(people, app_server):
    """Opened with /r/ROOM#S, the page drops #S before anything else; back and forward never show it."""
    room = Room.from_api(app_server)
    ben = people("Ben")
    ben.open(room.link)
    expect(ben.page.get_by_role("button", name="Join")).to_be_enabled()
    assert_no_secret(ben, room.secret, "before joining")
    ben.join_as("Ben")
    assert_no_secret(ben, room.secret, "after joining")
    assert ben.page.url == f"{app_server.url}{room.path}"
    assert ben.page.evaluate(HISTORY_LENGTH) == 2  # about:blank and the room, nothing else
    assert walk_history(ben, room.secret) == ["about:blank", f"{app_server.url}{room.path}"]
    expect(ben.page.get_by_test_id("link-error")).to_be_visible()  # forward again: the room, without its link


def test_creator_never_puts_the_secret_in_a_history_entry(people):
    """Home -> Create -> Enter room: same document, the room's address without #S, no new entry."""
    ana = people("Ana")
    room = ana.create_room()
    before = ana.page.evaluate(HISTORY_LENGTH)
    ana.enter_room("Ana")
    assert_no_secret(ana, room.secret, "in the room")
    assert ana.page.url == f"{ana.base_url}{room.path}"
    assert ana.page.evaluate(HISTORY_LENGTH) == before  # replaced, not pushed
    expect(ana.page.get_by_role("button", name="Copy link")).to_be_visible()
    ana.page.get_by_role("button", name="Copy link").click()
    assert ana.page.evaluate("navigator.clipboard.readText()") == room.link  # still shareable, from memory
    assert walk_history(ana, room.secret) == ["about:blank", f"{ana.base_url}{room.path}"]


def test_admin_page_drops_the_secret_but_still_reads_names(people, app_server):
    """/r/ROOM/admin#S: the names still open with S (kept in memory), the address loses it at once."""
    room = Room.from_api(app_server)
    ben = people("Ben")
    ben.join(room.link, "Ben")
    boss = people("Boss")
    boss.open(f"{room.path}/admin#{room.secret}")
    expect(boss.page.get_by_role("button", name="Continue")).to_be_enabled()
    assert_no_secret(boss, room.secret, "admin page")
    pin = boss.page.get_by_role("textbox", name="PIN")
    pin.fill(room.pin)
    pin.press("Enter")
    expect(boss.page.get_by_test_id("admin-members")).to_contain_text("Ben")
    walk_history(boss, room.secret)
