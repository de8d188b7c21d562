"""Creating a room on the home page: share link with its # secret, one-time PIN, QR code, copy."""

import json
import re

import pytest
from playwright.sync_api import expect

from burnchat.client import crypto
from tests.browser.person import PIN_TEXT, shot

pytestmark = pytest.mark.browser

# Samples the canvas at every module's centre and compares it with the QR code of `link`
# made by the same vendored encoder: the picture must be exactly that link's code.
QR_MATCHES_LINK = """async (link) => {
  const { default: qrcode } = await import("/static/vendor/qrcode.mjs");
  const qr = qrcode(0, "M");
  qr.addData(link);
  qr.make();
  const count = qr.getModuleCount();
  const canvas = document.querySelector('[data-testid="qr"]');
  const scale = canvas.width / (count + 8);
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const darkAt = (row, col) => {
    const x = Math.floor((col + 0.5) * scale), y = Math.floor((row + 0.5) * scale);
    return pixels[(y * canvas.width + x) * 4] < 128;
  };
  let wrong = 0, dark = 0, quietDark = 0;
  for (let row = -4; row < count + 4; row += 1) {
    for (let col = -4; col < count + 4; col += 1) {
      const inside = row >= 0 && col >= 0 && row < count && col < count;
      const seen = darkAt(row + 4, col + 4);
      if (!inside) { quietDark += seen ? 1 : 0; continue; }
      dark += seen ? 1 : 0;
      if (seen !== qr.isDark(row, col)) wrong += 1;
    }
  }
  return { count, wrong, dark, quietDark, width: canvas.width, shown: canvas.getBoundingClientRect().width };
}"""


def test_create_share_link_pin_qr_and_copy(people):
    """The link carries a fresh # secret, the PIN shows once, the QR encodes the link, Copy works."""
    ana = people("Ana")
    ana.open("/")
    expect(ana.page.get_by_role("heading", name="Burn Chat")).to_be_visible()
    shot(ana.page, "01-home")

    with ana.page.expect_request("**/api/rooms") as posted:
        room = ana.create_room()
    # The default preset, the join key's hash (the server can check joiners with it) and the PIN's
    # salt and verifier (SHA-256 of its PBKDF2 proof, §8.1): never the secret, never the PIN.
    join_key_hash = crypto.derive_join_key(room.secret)[1]
    sent = json.loads(posted.value.post_data)
    proof = crypto.pin_proof(room.pin, sent["pin_salt"])
    assert sent == {"ttl_seconds": 900, "join_key_hash": join_key_hash, "pin_salt": sent["pin_salt"],
                    "pin_verifier": crypto.pin_verifier(proof)}
    assert room.pin not in posted.value.post_data and room.pin.replace("-", "") not in posted.value.post_data
    assert "pin" not in posted.value.response().json()
    assert not [url for url in ana.requests if room.secret in url]
    expect(ana.page.get_by_role("heading", name="Your room is ready")).to_be_visible()
    expect(ana.page.get_by_text(re.compile(r"Burns in\s+1[45]:\d\d"))).to_be_visible()

    # The PIN is masked until asked for, is the one whose verifier went to the server, and can be copied.
    pin = ana.page.get_by_test_id("pin")
    expect(pin).to_have_text("••••-••••")
    ana.page.get_by_role("button", name="Reveal PIN").click()
    expect(pin).to_have_text(room.pin)
    assert PIN_TEXT.match(room.pin)
    ana.page.get_by_role("button", name="Copy PIN").click()
    expect(ana.page.get_by_test_id("pin-copied")).to_have_text("Copied")
    assert ana.page.evaluate("navigator.clipboard.readText()") == room.pin

    # The QR code shows exactly the share link, with its light margin.
    qr = ana.page.get_by_role("img", name="QR code of the share link")
    expect(qr).to_be_visible()
    drawn = ana.page.evaluate(QR_MATCHES_LINK, room.link)
    assert drawn["wrong"] == 0 and drawn["quietDark"] == 0 and drawn["dark"] > drawn["count"] ** 2 // 4, drawn
    assert drawn["shown"] >= 160, drawn

    ana.page.get_by_role("button", name="Copy link").click()
    expect(ana.page.get_by_test_id("link-copied")).to_have_text("Copied")
    assert ana.page.evaluate("navigator.clipboard.readText()") == room.link
    admin_link = ana.page.get_by_role("link", name="admin page")
    expect(admin_link).to_have_attribute("href", f"{room.path}/admin#{room.secret}")
    shot(ana.page, "02-created", full_page=True)

    # Once in the room the PIN is gone from the page (shown once), yet admin rights work.
    ana.enter_room("Ana")
    assert ana.page.url == f"{ana.base_url}{room.path}"  # the room's address, never its secret (§11)
    assert room.pin not in ana.dom_text()
    expect(ana.page.get_by_role("button", name="Lock room")).to_be_visible()

    # A guest's page never holds the PIN either, and sees the creator by name.
    ben = people("Ben")
    ben.open(room.link)
    expect(ben.page.get_by_role("heading", name="You're invited to a burning room")).to_be_visible()
    expect(ben.page.get_by_test_id("member-count")).to_have_text("1 person")
    shot(ben.page, "03-join")
    ben.join_as("Ben")
    expect(ben.people()).to_have_count(2)
    expect(ben.people().filter(has_text="Ana")).to_have_count(1)
    assert room.pin not in ben.dom_text()
    expect(ben.page.get_by_role("button", name="Lock room")).to_be_hidden()
