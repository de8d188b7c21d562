"""The safety panel: 40 digits with their key's epoch, the QR of the whole value, and
"Compare with another phone", which reads the other screen's QR through the camera and says
Match or Mismatch (PROTOCOL.md §5.4).

Headless Linux Chromium has no BarcodeDetector and no camera, so the vendored decoder (jsQR)
is the path under test, and the camera is a canvas stream showing the other page's QR."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.person import SAFETY_CODE, Room, shared_safety_code, shot

pytestmark = pytest.mark.browser

MATCH = "Match - you both see the same people and the same key."
MISMATCH = "Mismatch - someone may be in the middle. Don't trust this room."
QR_TEXT = re.compile(r"^burnchat-safety:2:([A-Za-z0-9_-]{22}):(\d+):([A-Za-z0-9_-]{43})$")
# The QR canvas as a PNG data: URL (what the other phone's camera would see).
QR_PICTURE = """() => document.querySelector('[data-testid="safety-qr"]').toDataURL("image/png")"""
# The page's own scan module (the same module instance the page uses) decoding a picture.
DECODE_PICTURE = """async (dataUrl) => {
  const { decodeImage } = await import("/static/js/qr-scan.js");
  const image = new Image();
  image.src = dataUrl;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  return decodeImage(context.getImageData(0, 0, canvas.width, canvas.height));
}"""
# A QR picture of any text, drawn by the vendored encoder the page itself uses.
QR_OF = """async (text) => {
  const { drawQr } = await import("/static/js/qr.js");
  const canvas = document.createElement("canvas");
  document.body.append(canvas);
  drawQr(canvas, text);
  const url = canvas.toDataURL("image/png");
  canvas.remove();
  return url;
}"""
# A camera that films `dataUrl` on a grey desk: getUserMedia answers with a canvas stream.
# Every stream handed out is kept, so the test can see the page turned it off.
FAKE_CAMERA = """async (dataUrl) => {
  const image = new Image();
  image.src = dataUrl;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = 640;
  canvas.height = 480;
  const context = canvas.getContext("2d");
  const film = () => {
    context.fillStyle = "#6b6b6b";
    context.fillRect(0, 0, 640, 480);
    context.drawImage(image, 170, 90, 300, 300);
  };
  film();
  setInterval(film, 50);
  window.__cameraStreams = [];
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    if (!constraints?.video) throw new DOMException("no video asked for", "NotAllowedError");
    const stream = canvas.captureStream(15);
    window.__cameraStreams.push(stream);
    return stream;
  };
}"""
CAMERA_OFF = """() => window.__cameraStreams.length > 0
  && window.__cameraStreams.every((s) => s.getTracks().every((t) => t.readyState === "ended"))"""


def open_panel(person):
    """Opens the safety panel; returns it once its QR is drawn."""
    person.page.get_by_role("button", name="Compare", exact=True).click()
    panel = person.page.get_by_test_id("safety-panel")
    expect(panel).to_be_visible()
    person.page.wait_for_function("document.querySelector('[data-testid=\"safety-qr\"]').width > 100")
    return panel


def scan(person, picture):
    """Points `person`'s (fake) camera at `picture` and presses "Compare with another phone"."""
    person.page.evaluate(FAKE_CAMERA, picture)
    person.page.get_by_role("button", name="Compare with another phone").click()


@pytest.mark.parametrize("phone", [False, True], ids=["desktop", "phone"])
def test_qr_compare_says_match_for_one_room_and_mismatch_for_a_changed_value(people, app_server, phone):
    """Ben scans Ana's QR: Match. A QR whose authenticator differs by one character: Mismatch."""
    room = Room.from_api(app_server)
    ana, ben = people("Ana", phone=phone), people("Ben", phone=phone)
    ana.join(room.link, "Ana")
    ben.join(room.link, "Ben")
    code, epoch = shared_safety_code([ana, ben])
    assert SAFETY_CODE.match(code)
    expect(ana.page.get_by_test_id("safety-epoch")).to_have_text(f"Safety code (key {epoch})")
    # Two lines of four groups, on every screen size.
    lines = ana.safety.locator(".safety-code__line")
    expect(lines).to_have_count(2)
    assert [len(line.split()) for line in lines.all_text_contents()] == [4, 4]
    boxes = [line.bounding_box() for line in lines.all()]
    assert boxes[1]["y"] >= boxes[0]["y"] + boxes[0]["height"] - 1, boxes
    assert ana.layout_problems() == []
    assert ana.page.evaluate("window.__cameraStreams") is None  # no camera before the click

    panel = open_panel(ana)
    expect(panel.get_by_test_id("safety-panel-code")).to_have_text(code)
    expect(panel.get_by_role("img", name="QR code to compare on another phone")).to_be_in_viewport()
    shot(ana.page, f"22-safety-panel-{'phone' if phone else 'desktop'}")
    picture = ana.page.evaluate(QR_PICTURE)

    # The decoder reads Ana's QR as the whole value of her held key.
    text = ben.page.evaluate(DECODE_PICTURE, picture)
    found = QR_TEXT.match(text or "")
    assert found and found[1] == room.id and int(found[2]) == epoch, text

    open_panel(ben)
    scan(ben, picture)
    result = ben.page.get_by_test_id("safety-result")
    expect(result).to_have_text(MATCH)
    expect(result).to_have_attribute("data-result", "match")
    ben.page.wait_for_function(CAMERA_OFF)  # the camera is off once the code is read
    expect(ben.page.get_by_test_id("safety-qr")).to_be_visible()
    shot(ben.page, f"23-safety-match-{'phone' if phone else 'desktop'}")

    # One character of the authenticator changed: the same room and key number, another value.
    last = found[3][-1]
    forged = text[:-1] + ("A" if last != "A" else "B")
    scan(ben, ben.page.evaluate(QR_OF, forged))
    expect(result).to_have_text(MISMATCH)
    expect(result).to_have_attribute("data-result", "mismatch")
    ben.page.wait_for_function(CAMERA_OFF)
    shot(ben.page, f"24-safety-mismatch-{'phone' if phone else 'desktop'}")

    # A QR that is no safety code at all is named as such, not called a match or a mismatch.
    scan(ben, ben.page.evaluate(QR_OF, "https://example.org/not-a-code"))
    expect(result).to_have_text("That isn't a Burn Chat safety code.")


def test_room_page_may_use_the_camera(people, app_server):
    """The Permissions-Policy of the room page lets its own origin ask for the camera."""
    room = Room.from_api(app_server)
    ana = people("Ana")
    ana.open(room.link)
    expect(ana.page.get_by_role("button", name="Join")).to_be_enabled()
    assert ana.page.evaluate("document.featurePolicy.allowsFeature('camera')")


def test_burn_turns_a_running_scan_off(people, app_server):
    """Scanning when the room burns: the camera stream is stopped and the panel is gone with the room."""
    room = Room.from_api(app_server, ttl_seconds=8)
    ana = people("Ana")
    ana.join(room.link, "Ana")
    open_panel(ana)
    blank = ana.page.evaluate(QR_OF_BLANK)
    scan(ana, blank)  # nothing to read: the scan keeps running
    expect(ana.page.get_by_role("button", name="Stop camera")).to_be_visible()
    assert not ana.page.evaluate(CAMERA_OFF)
    expect(ana.page.get_by_role("heading", name="Room burned")).to_be_visible(timeout=20_000)
    assert ana.page.evaluate(CAMERA_OFF)


# A picture with no QR code in it (the camera sees an empty desk).
QR_OF_BLANK = """() => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 64;
  canvas.getContext("2d").fillRect(0, 0, 64, 64);
  return canvas.toDataURL("image/png");
}"""
