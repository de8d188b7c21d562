"""Room keys end to end: the member who made the first key goes away and the room stays usable."""

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.person import Room, shared_safety_code

pytestmark = pytest.mark.browser


def test_creator_offline_newcomer_still_gets_a_key(people, app_server):
    """Ana made epoch 1's key and closes her page; Cy joins later and chats with Ben at a new epoch."""
    room = Room.from_api(app_server)
    ana, ben = people("Ana"), people("Ben")
    ana.join(room.link, "Ana")
    ben.join(room.link, "Ben")
    assert ana.events("received", "key_request")[0]["for"] == []  # alone: she makes epoch 1 for herself
    ana_epochs = ana.held_epochs()
    ana.close()
    expect(ben.log.get_by_test_id("system-line").filter(has_text=re.compile(r"Ana (lost connection|left)"))).to_have_count(1)
    expect(ben.people()).to_have_count(1)

    cy = people("Cy")
    cy.join(room.link, "Cy")
    shared_safety_code([ben, cy])
    hello, reply = f"nobody from before {secrets.token_hex(4)}", f"just us now {secrets.token_hex(4)}"
    cy.send(hello)
    ben.expect_message(hello, "Cy")
    ben.send(reply)
    cy.expect_message(reply, "Ben")
    used = {e["epoch"] for e in cy.events("sent", "message") + ben.events("sent", "message")[-1:]}
    assert min(used) > max(ana_epochs), (used, ana_epochs)  # nothing after Ana left is under her key
