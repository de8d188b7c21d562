"""A phone-sized run (390x844, touch): create -> join -> chat -> burn, on two phones."""

import pytest
from playwright.sync_api import expect

from tests.browser.person import shot

pytestmark = pytest.mark.browser


def test_phone_create_join_chat_burn(people):
    """Everything fits a phone screen, the admin tools sit behind the People button, burn works."""
    ana = people("Ana", phone=True)
    room = ana.create_room()
    expect(ana.page.get_by_role("button", name="Enter room")).to_be_visible()
    shot(ana.page, "15-mobile-created")
    ana.enter_room("Ana")
    ben = people("Ben", phone=True)
    ben.join(room.link, "Ben")

    hello, reply = "On the bus - can you read me?", "Loud and clear. It all burns in 15 minutes."
    ana.send(hello)
    ben.expect_message(hello, "Ana")
    ben.send(reply)
    ana.expect_message(reply, "Ben")
    for person in (ana, ben):
        expect(person.timer).to_be_in_viewport()
        expect(person.safety).to_be_in_viewport()
        expect(person.page.get_by_role("button", name="Send")).to_be_in_viewport()
        assert person.layout_problems() == [], person.label
    expect(ben.page.get_by_role("button", name="People")).to_contain_text("2")
    shot(ben.page, "08-mobile-chat")

    # On a phone the people list and the admin tools fold away behind the People button.
    expect(ana.page.get_by_role("button", name="Burn now")).to_be_hidden()
    ana.page.get_by_role("button", name="People").tap()
    expect(ana.people()).to_have_count(2)
    burn = ana.page.get_by_role("button", name="Burn now")
    burn.scroll_into_view_if_needed()
    expect(burn).to_be_in_viewport()
    shot(ana.page, "16-mobile-admin")
    burn.tap()
    ana.page.get_by_role("button", name="Confirm burn").tap()
    for person in (ana, ben):
        expect(person.page.get_by_role("heading", name="Room burned")).to_be_in_viewport()
        assert hello not in person.dom_text() and reply not in person.dom_text()
    expect(ben.page.get_by_test_id("burning")).to_have_count(0)
    shot(ben.page, "17-mobile-burned")
