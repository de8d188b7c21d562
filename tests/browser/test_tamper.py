"""A relay that lies: between one real browser and the real server, it swaps another member's
public key for its own. Without the link secret it can't re-MAC the announcement, so the
browser must refuse that member, say so, and never show anything sealed for or by it."""

import json
import re
import secrets

import pytest
from playwright.sync_api import expect

from burnchat.client import crypto
from tests.browser.frames import parse_frame
from tests.browser.person import MISMATCH, Room, shared_safety_code, shot

pytestmark = pytest.mark.browser

SOCKETIO = re.compile(r"/socket\.io/")


class KeySwappingRelay:
    """Rewrites server->page frames: `victim_id`'s `ecdh_pub` becomes the relay's own key."""

    def __init__(self, victim_id):
        self.victim_id = victim_id
        self.fake_pub = crypto.generate_identity().ecdh_pub
        self.swaps = 0

    def attach(self, page):
        """Routes the page's Socket.IO WebSocket through this relay to the real server."""
        page.route_web_socket(SOCKETIO, self._route)

    def _route(self, page_side):
        """Page->server frames pass untouched; server->page frames go through `_tamper`."""
        server_side = page_side.connect_to_server()
        server_side.on_message(lambda frame: page_side.send(self._tamper(frame)))

    def _tamper(self, frame):
        """The frame with the victim's key swapped wherever an announcement of it appears."""
        parsed = parse_frame(frame)
        if not parsed:
            return frame
        kind, ack_id, payload = parsed
        if not self._swap(payload):
            return frame
        self.swaps += 1
        return f"4{'2' if kind == 'event' else '3'}{ack_id}{json.dumps(payload, separators=(',', ':'))}"

    def _swap(self, value):
        """Swaps in place inside any nested announcement of the victim; True if it did."""
        if isinstance(value, dict):
            if value.get("member_id") == self.victim_id and "ecdh_pub" in value:
                value["ecdh_pub"] = self.fake_pub
                return True
            return any([self._swap(item) for item in value.values()])
        if isinstance(value, list):
            return any([self._swap(item) for item in value])
        return False


def test_swapped_public_key_is_refused_and_flagged(people, app_server):
    """Bob's relay swaps Ana's key: Bob drops Ana with a visible flag; the honest pages agree."""
    room = Room.from_api(app_server)
    ana, cy, bob = people("Ana"), people("Cy"), people("Bob")
    ana.join(room.link, "Ana")
    cy.join(room.link, "Cy")
    relay = KeySwappingRelay(ana.member_id())
    relay.attach(bob.page)
    bob.open(room.link)
    bob.join_as("Bob", ready=False)

    expect(bob.page.get_by_test_id("rejected")).to_contain_text("1 forged announcement blocked")
    assert relay.swaps == 1
    expect(bob.people()).to_have_count(2)
    expect(bob.people().filter(has_text="Ana")).to_have_count(0)
    expect(bob.people().filter(has_text="Cy")).to_have_count(1)
    # Every key the honest pages make covers Ana, whom Bob doesn't see: Bob refuses each and says so.
    shared_safety_code([ana, cy])
    expect(bob.system_line(MISMATCH).filter(has_text="someone you don't see")).to_have_count(1)
    assert bob.safety_shown()[1] is None  # no key, so no safety code to compare
    assert not bob.events("sent", "key_held"), "Bob took a key whose roster he doesn't see"

    # Nothing from the refused member is ever shown.
    said = f"only honest eyes {secrets.token_hex(4)}"
    ana.send(said)
    cy.expect_message(said, "Ana")
    expect(bob.page.get_by_test_id("rejected")).to_contain_text(re.compile(r"\d+ messages? rejected"))
    assert said not in bob.dom_text()
    expect(bob.composer).not_to_be_editable()
    shot(bob.page, "13-tampered-key-refused")
