"""A compromised server (tests/attacks/scenarios.py) against real Chromium pages: a kick that
never happened and a ghost member. The pages must say so in the chat, and never "Removed"."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.person import MISMATCH, admin_room, shared_safety_code, shot

pytestmark = pytest.mark.browser

NOT_CONFIRMED = "The server didn't confirm the removal - don't trust this room"  # the admin panel
NOT_CONFIRMED_LINE = "The server didn't confirm the removal of Cy - don't trust this room"  # the chat
UNSEEN = "someone you don't see"
# Stamps the first moment the admin's page claims the member is out: "Removed ..." in the
# admin panel or "... was removed by the admin" in the chat. A phantom kick must never get it.
WATCH_REMOVED = """() => window.__probe.when("said-removed", () =>
  /^Removed\\b/.test(document.querySelector('[data-testid="admin-status"]')?.textContent ?? "")
  || [...document.querySelectorAll('[data-testid="system-line"]')].some((line) => /was removed/.test(line.textContent)))"""
PROOF_WAIT_S = 5  # the admin's page gives the server this long to prove the kick (PROTOCOL.md §5.5)


def kick_button(admin, name):
    """The Kick button in `name`'s entry of the admin's member list."""
    return admin.page.get_by_role("listitem").filter(has_text=name).get_by_role("button", name="Kick", exact=True)


def room_of_three(people, server):
    """Ana creates a room on `server` and enters as its admin; Ben and Cy join; all hold one key."""
    _, (ana, ben, cy) = admin_room(people, ["Ana", "Ben", "Cy"], server)
    shared_safety_code([ana, ben, cy])
    return ana, ben, cy


@pytest.mark.parametrize("scenario, warning", [("phantom_kick", MISMATCH), ("phantom_kick_silent", NOT_CONFIRMED_LINE)])
def test_phantom_kick_is_never_called_removed(people, evil_server, scenario, warning):
    """The server acks the kick and tells only the admin; Cy stays. Ana's page warns instead of "Removed".

    phantom_kick: another member makes the next key for a roster with Cy in it, so Ana's page
    refuses it as a roster mismatch naming "someone you don't see". phantom_kick_silent: no key
    comes at all, and after 5 s the page says the server didn't confirm the removal.
    """
    ana, ben, cy = room_of_three(people, evil_server(scenario))
    ana.page.evaluate(WATCH_REMOVED)
    kick_button(ana, "Cy").click()
    status = ana.page.get_by_test_id("admin-status")
    expect(ana.system_line("Removing Cy...")).to_have_count(1)

    expect(ana.system_line(warning)).to_have_count(1, timeout=(PROOF_WAIT_S + 5) * 1000)
    if scenario == "phantom_kick":
        expect(ana.system_line(MISMATCH).filter(has_text=UNSEEN)).to_have_count(1)
    expect(status).to_have_text(NOT_CONFIRMED, timeout=(PROOF_WAIT_S + 3) * 1000)
    expect(status).to_have_attribute("data-tone", "warn")
    expect(ana.system_line(NOT_CONFIRMED_LINE)).to_have_count(1)
    assert "said-removed" not in ana.marks(), "the admin's page called a phantom kick done"
    expect(cy.page.get_by_test_id("removed-screen")).to_be_hidden()  # the server kept Cy in the room
    assert ana.layout_problems() == []
    shot(ana.page, f"20-{scenario.replace('_', '-')}-admin")


def test_honest_kick_says_removed_only_with_the_new_key(people, app_server):
    """The real server: "Removing Cy..." then "Removed" once Ana's own key leaves Cy out, and no warning."""
    ana, ben, cy = room_of_three(people, app_server)
    ana.page.evaluate(WATCH_REMOVED)
    kick_button(ana, "Cy").click()
    status = ana.page.get_by_test_id("admin-status")
    expect(status).to_have_text(re.compile(r"^Removed Cy\. The room switched to a new key"))
    expect(ana.system_line("Cy was removed by the admin")).to_have_count(1)
    expect(ana.system_line("didn't confirm the removal")).to_have_count(0)
    # Ana's held key was made after the kick, by her, for a roster without Cy.
    cy_id = cy.member_id()
    delivered = ana.events("sent", "key_deliver")[-1]
    assert cy_id not in delivered["roster"] and ana.safety_shown()[1] == delivered["epoch"]


def test_ghost_member_is_named_as_someone_you_dont_see(people, evil_server):
    """The server shows Gus only to Ana, who keys him in: Ben (on a phone) refuses the key and says why."""
    server = evil_server("ghost")
    ana, ben = people("Ana", server=server), people("Ben", server=server, phone=True)
    room = ana.create_room()
    ana.enter_room("Ana")
    ben.join(room.link, "Ben")
    gus = people("Gus", server=server)
    gus.join(room.link, "Gus")

    warning = ben.system_line(MISMATCH)
    expect(warning).to_have_count(1)
    expect(warning).to_contain_text(f"Who differs: {UNSEEN}")
    expect(warning).to_have_class(re.compile(r"\bsys--warn\b"))
    expect(ben.people()).to_have_count(2)  # Ben's page never lists the ghost
    assert "Gus" not in " ".join(ben.page.locator("[data-testid=people], [data-testid=messages]").all_text_contents())
    expect(ana.people()).to_have_count(3)
    expect(ana.system_line(MISMATCH)).to_have_count(0)  # the creator's roster is the one the key commits to
    assert ben.layout_problems() == []
    shot(ben.page, "21-ghost-warning-phone")


def test_ban_holds_when_the_server_keeps_admitting_the_old_link(people, evil_server):
    """old_link_lives: the server lets banned Cy back in with the old link. Ana and Ben check
    announcements under the new link, so they refuse Cy's (the rejected count says so) and never
    key Cy: Cy's page never holds a key again."""
    room, (ana, ben, cy) = admin_room(people, ["Ana", "Ben", "Cy"], evil_server("old_link_lives"))
    expect(ana.people()).to_have_count(3)
    held_before_ban = cy.held_epochs()
    ana.people().filter(has_text="Cy").get_by_role("button", name="Ban").click()
    expect(cy.page.get_by_role("heading", name="You were removed")).to_be_visible()
    expect(ben.system_line("Ana changed the room's link")).to_have_count(1)
    cy.open(room.link)
    cy.join_as("Cy", ready=False)
    for person in (ana, ben):
        expect(person.page.get_by_test_id("rejected")).to_be_visible()
        expect(person.people()).to_have_count(2)
    # The server insists on keying Cy, which no honest member does: nobody gets a key with Cy in it.
    expect(cy.composer).not_to_be_editable()
    assert cy.held_epochs() == held_before_ban
    shot(cy.page, "relink-banned-rejoin")
