"""A page out of step with the server's protocol is refused, never downgraded (PROTOCOL.md §7.3):
the join says "This page is out of date. Reload it to continue." with a Reload button."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.frames import parse_frame
from tests.browser.person import Room

pytestmark = pytest.mark.browser

SOCKETIO = re.compile(r"/socket\.io/")
OUT_OF_DATE = "This page is out of date. Reload it to continue."


class VersionRefusingServer:
    """Passes frames through, but answers the page's first `join` itself with bad_version, as a newer server would."""

    def __init__(self):
        self.refused = 0

    def attach(self, page):
        """Routes the page's Socket.IO WebSocket through this stand-in."""
        page.route_web_socket(SOCKETIO, self._route)

    def _route(self, page_side):
        server_side = page_side.connect_to_server()
        server_side.on_message(page_side.send)
        page_side.on_message(lambda frame: self._from_page(frame, page_side, server_side))

    def _from_page(self, frame, page_side, server_side):
        parsed = parse_frame(frame)
        if parsed and parsed[0] == "event" and parsed[2][0] == "join" and not self.refused:
            self.refused += 1
            ack = {"ok": False, "code": "bad_version", "error": OUT_OF_DATE}
            page_side.send(f"43{parsed[1]}{json.dumps([ack])}")
            return
        server_side.send(frame)


def test_bad_version_asks_for_a_reload(people, app_server):
    """The join is refused with bad_version: the sentence, a Reload button, and no chat."""
    room = Room.from_api(app_server)
    ben = people("Ben")
    refusing = VersionRefusingServer()
    refusing.attach(ben.page)
    ben.open(room.link)
    ben.join_as("Ben", ready=False)
    expect(ben.page.get_by_role("alert").filter(has_text=OUT_OF_DATE)).to_be_visible()
    reload = ben.page.get_by_role("button", name="Reload")
    expect(reload).to_be_visible()
    expect(ben.page.get_by_role("button", name="Join")).to_be_hidden()
    expect(ben.composer).to_be_hidden()
    assert refusing.refused == 1

    reload.click()  # like opening the link again: a fresh page, the secret taken out at once
    expect(ben.page.get_by_role("button", name="Join")).to_be_enabled()
    assert room.secret not in ben.page.url
    ben.join_as("Ben")
