"""Chatting in real browsers: both ways, a late joiner, the safety code, the wire, a reload."""

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.frames import leaks
from tests.browser.person import Room, open_names, shared_safety_code, shot

pytestmark = pytest.mark.browser


def token(text):
    """`text` made unique, so a search for it can't hit anything else."""
    return f"{text} {secrets.token_hex(4)}"


def test_two_chat_both_ways_then_a_late_third_reads_new_messages(people, app_server):
    """Ana and Ben chat; Cy joins late, sees only what follows, and everyone agrees on the safety code.

    Every frame of every page is recorded: none carries a message, a name or the link secret.
    """
    room = Room.from_api(app_server, ttl_seconds=900)
    ana, ben = people("Ana"), people("Ben")
    ana.join(room.link, "Ana")
    ben.join(room.link, "Ben")
    code_two, epoch_two = shared_safety_code([ana, ben])

    early = ["Hi Ben, ça va?", "All good | shall we ask Cy to join?"]
    ana.send(early[0])
    ben.expect_message(early[0], "Ana")
    ben.send(early[1])
    ana.expect_message(early[1], "Ben")

    cy = people("Cy")
    cy.join(room.link, "Cy")
    code_three, epoch_three = shared_safety_code([ana, ben, cy])
    assert code_three != code_two and epoch_three > epoch_two
    for person in (ana, ben, cy):
        expect(person.people()).to_have_count(3)
    for person in (ana, ben):
        expect(person.page.get_by_text("Safety code changed")).to_be_visible()
        expect(person.log.get_by_test_id("system-line").filter(has_text="Cy joined")).to_have_count(1)

    late = ["Welcome Cy! This room burns in 15 minutes.", "Thanks, reading you both loud and clear",
            "Great. Nothing here is ever saved anywhere."]
    ana.send(late[0])
    cy.expect_message(late[0], "Ana")
    ben.expect_message(late[0], "Ana")
    cy.send(late[1])
    ana.expect_message(late[1], "Cy")
    ben.expect_message(late[1], "Cy")
    ben.send(late[2])
    cy.expect_message(late[2], "Ben")
    for text in early:
        expect(cy.log).not_to_contain_text(text)  # nothing from before Cy joined
    shot(ana.page, "04-chat-three")

    # The wire: the server relayed sealed blobs only. Names are sealed too (opened here with S).
    everyone = (ana, ben, cy)
    forbidden = [*early, *late, "Ana", "Ben", "Cy", room.secret]
    for person in everyone:
        assert len(person.events("sent", "message")) >= 1
        assert person.events("received", "message"), f"{person.label} heard no message frame"
        assert not leaks(person.wire_text(), forbidden), person.label
        assert open_names(room, person) == [person.label]
        assert all(room.secret not in url for url in person.requests + person.sockets)
    relayed = {e["ct"] for e in ben.events("received", "message")}
    assert relayed <= {e["ct"] for p in (ana, cy) for e in p.events("sent", "message")}


def test_reload_mid_chat_rejoins_as_a_new_member(people, app_server):
    """A reload forgets every key, message and the link itself; opened again, the page joins as a new member."""
    room = Room.from_api(app_server)
    ana, ben = people("Ana"), people("Ben")
    ana.join(room.link, "Ana")
    ben.join(room.link, "Ben")
    before = token("said before the reload")
    ana.send(before)
    ben.expect_message(before, "Ana")
    first_id = ben.member_id()

    ben.page.reload()
    # The address never held the secret after the first load, so the reload can't join on its own.
    expect(ben.page.get_by_test_id("link-error")).to_be_visible()
    assert before not in ben.dom_text() and room.secret not in ben.page.url
    ben.open(room.link)
    expect(ben.page.get_by_role("button", name="Join")).to_be_enabled()
    ben.join_as("Ben")
    assert ben.member_id() != first_id
    expect(ana.log.get_by_test_id("system-line").filter(has_text=re.compile(r"Ben (lost connection|left)"))).to_have_count(1)
    expect(ana.log.get_by_test_id("system-line").filter(has_text="Ben joined")).to_have_count(2)  # first join, then the rejoin
    shared_safety_code([ana, ben])
    expect(ana.people()).to_have_count(2)

    after = [token("back again"), token("welcome back")]
    ben.send(after[0])
    ana.expect_message(after[0], "Ben")
    ana.send(after[1])
    ben.expect_message(after[1], "Ana")
    expect(ben.log).not_to_contain_text(before)
