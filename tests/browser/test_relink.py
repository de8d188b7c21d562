"""Ban = kick and change the link (PROTOCOL.md §5.6), in real Chromium: the kicked person's copy of
the link admits nobody, everyone left gets the new link inside the new epoch, and a newcomer on the
new link sees every member under it."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.person import admin_room, shot

pytestmark = pytest.mark.browser

LINK = re.compile(r"^http://127\.0\.0\.1:\d+/r/[A-Za-z0-9_-]{22}#([A-Za-z0-9_-]{22})$")


def copied_link(person):
    """What the chat header's Copy link puts on the clipboard."""
    person.page.get_by_role("button", name="Copy link").click()
    expect(person.page.get_by_test_id("copy-status")).not_to_be_empty()
    return person.page.evaluate("navigator.clipboard.readText()")


def test_ban_changes_the_link_for_everyone_but_the_banned(people):
    room, (ana, ben, cy) = admin_room(people, ["Ana", "Ben", "Cy"])
    expect(ana.people()).to_have_count(3)

    ana.people().filter(has_text="Cy").get_by_role("button", name="Ban").click()
    expect(cy.page.get_by_role("heading", name="You were removed")).to_be_visible()
    for person, line in ((ana, "You changed the room's link"), (ben, "Ana changed the room's link")):
        expect(person.system_line(line)).to_have_count(1)
        expect(person.system_line("Cy was removed by the admin")).to_have_count(1)
    expect(ana.page.get_by_test_id("admin-status")).to_contain_text("New link ready")
    shot(ana.page, "relink-admin")

    new_link = copied_link(ana)
    assert LINK.match(new_link) and new_link != room.link
    ana.private.add(new_link.split("#", 1)[1])
    assert copied_link(ben) == new_link

    # The banned person opens the old link again: the server refuses it, with the plain sentence.
    cy.open(room.link)
    cy.join_as("Cy again", ready=False)
    expect(cy.page.get_by_role("alert").filter(has_text="This link is incomplete or wrong")).to_be_visible()

    # A newcomer on the new link accepts Ana and Ben (their announcements under the new link) and talks.
    dee = people("Dee")
    dee.join(new_link, "Dee")
    expect(dee.people()).to_have_count(3)
    for name in ("Ana", "Ben"):
        expect(dee.people().filter(has_text=name)).to_have_count(1)
    expect(dee.page.get_by_test_id("rejected")).to_be_hidden()
    dee.send("hello from the new link")
    ben.expect_message("hello from the new link", "Dee")
    ana.expect_message("hello from the new link", "Dee")
    assert "hello from the new link" not in cy.dom_text()
    shot(dee.page, "relink-newcomer")


def test_new_link_alone_keeps_everyone_in(people):
    room, (ana, ben) = admin_room(people, ["Ana", "Ben"])
    expect(ana.people()).to_have_count(2)
    ana.page.get_by_role("button", name="New link").click()
    expect(ben.system_line("Ana changed the room's link")).to_have_count(1)
    new_link = copied_link(ben)
    ben.private.add(new_link.split("#", 1)[1])
    assert new_link != room.link and copied_link(ana) == new_link
    ben.wait_ready()
    ben.send("still here")
    ana.expect_message("still here", "Ben")
    late = people("Late")
    late.open(room.link)
    late.join_as("Late", ready=False)
    expect(late.page.get_by_role("alert").filter(has_text="This link is incomplete or wrong")).to_be_visible()
