"""Files in real browsers: an image inline, big files bit-identical, the limit, cancel, hostile
types never rendered, a tampered chunk refused, the burn taking every file, nothing on the wire."""

import hashlib
import json
import os
import re
import struct
import zlib

import pytest
from playwright.sync_api import expect

from tests.abuse.helpers import burn
from tests.abuse.rawsocket import RawSocket
from tests.browser.frames import parse_frame
from tests.browser.person import Room, shot
from tests.server import wait_for
from tests.pins import pin_auth

pytestmark = pytest.mark.browser

MIB = 1024 * 1024
SOCKETIO = re.compile(r"/socket\.io/")


def png(width=96, height=64):
    """A real PNG: an ember gradient, so the screenshot shows it is really drawn."""
    rows = b"".join(b"\x00" + b"".join(bytes((255, 60 + 2 * x % 190, 20 + 3 * y % 200))
                                         for x in range(width)) for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def pair(people, app_server, server=None):
    """Ana and Ben in one room, both holding its key."""
    room = Room.from_api(server or app_server, ttl_seconds=900)
    ana, ben = people("Ana", server=server), people("Ben", server=server)
    ana.join(room.link, "Ana")
    ben.join(room.link, "Ben")
    return room, ana, ben


def attach(person, name, data, mime, send=True):
    """Picks a file through the Attach button's input; presses Send file when `send`."""
    person.private.add(name)
    person.page.get_by_test_id("file-input").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}])
    if send:
        expect(person.page.get_by_test_id("file-preview")).to_be_visible()
        person.page.get_by_test_id("file-send").click()


def downloaded(person, card):
    """Clicks the card's Download and returns the bytes the browser saved."""
    with person.page.expect_download() as download:
        card.get_by_test_id("file-download").click()
    return open(download.value.path(), "rb").read()


def cards(person):
    return person.page.get_by_test_id("file-card")


def moving(person):
    """Waits until the person's first file card shows some progress (polled: the CSP forbids
    the eval that Playwright's wait_for_function needs)."""
    wait_for(lambda: person.page.evaluate(
        "() => document.querySelector('[data-testid=file-progress]')?.value > 0"), timeout=15,
        message=f"{person.label}'s file to move")


# Records the type of every Blob the page turns into a blob: URL (the page's CSP rightly forbids
# fetching blob: URLs, so the test can't read them back that way).
BLOB_TYPES = """() => {
    const made = window.__blobTypes = {};
    const create = URL.createObjectURL.bind(URL);
    URL.createObjectURL = (blob) => { const url = create(blob); made[url] = blob.type; return url; };
}"""

LOADS = """(url) => new Promise((resolve) => {
    const img = new Image();
    img.onload = () => resolve("answered");
    img.onerror = () => resolve("gone");
    img.src = url;
})"""


def test_an_image_shows_inline_opens_full_size_and_burns(people, app_server):
    room, ana, ben = pair(people, app_server)
    image = png()
    attach(ana, "ember-screenshot.png", image, "image/png", send=False)
    expect(ana.page.get_by_test_id("file-preview")).to_be_visible()
    expect(ana.page.locator(".file-preview__image")).to_be_visible()
    shot(ana.page, "files-preview")
    ana.page.get_by_test_id("file-send").click()
    shown = ben.page.get_by_test_id("file-image")
    expect(shown).to_be_visible(timeout=15_000)
    assert ben.page.evaluate("document.querySelector('[data-testid=file-image]').naturalWidth") == 96
    url = shown.get_attribute("src")
    assert url.startswith("blob:") and ben.page.evaluate(LOADS, url) == "answered"
    expect(ana.page.get_by_test_id("file-image")).to_be_visible()
    ana.send("a text after the image")
    ben.expect_message("a text after the image", "Ana")
    shot(ben.page, "files-image-inline")
    shown.click()
    expect(ben.page.get_by_test_id("file-full")).to_be_visible()
    shot(ben.page, "files-image-full")
    ben.page.keyboard.press("Escape")
    expect(ben.page.get_by_test_id("file-full")).to_have_count(0)
    assert downloaded(ben, cards(ben).first) == image

    # The burn: "File destroyed" in the card's place, the blob: URL dead, no image left.
    admin = RawSocket(app_server.url)
    burn(pin_auth(room.id, room.pin), admin)
    admin.close()
    expect(ben.page.locator(".file-card__destroyed").first).to_have_text("File destroyed")
    shot(ben.page, "files-burning", settle=False)
    assert ben.page.locator("img[src^='blob:']").count() == 0
    assert ben.page.evaluate(LOADS, url) == "gone"
    expect(ben.page.get_by_role("heading", name="Room burned")).to_be_visible()
    # Our own probe of the dead URL is the one console error the page may show.
    ben.console_errors[:] = [e for e in ben.console_errors if "ERR_FILE_NOT_FOUND" not in e]
    assert "ember-screenshot.png" not in ben.dom_text()


@pytest.mark.parametrize("size", [3 * 1000 * 1000, 16 * MIB])
def test_big_files_arrive_bit_identical_and_download(people, app_server, size):
    room, ana, ben = pair(people, app_server)
    data = os.urandom(size)
    attach(ana, f"archive-{size}.bin", data, "application/zip")
    card = cards(ben).first
    expect(card.get_by_test_id("file-download")).to_be_visible(timeout=90_000)
    expect(cards(ana).first.get_by_test_id("file-status")).to_have_text("Sent")
    assert hashlib.sha256(downloaded(ben, card)).digest() == hashlib.sha256(data).digest()
    if size > 10 * MIB:
        shot(ben.page, "files-16mib-arrived")
    # Nothing of the file on the wire: its name in no frame, its bytes in no frame.
    wire = ana.wire_text() + ben.wire_text()
    assert f"archive-{size}" not in wire
    for start in (0, size // 2, size - 64):
        assert data[start:start + 48].hex() not in wire
    chunk_frames = ana.events("sent", "file_chunk")
    assert len(chunk_frames) == (size + 1 + 65535) // 65536
    assert not any(key in ("name", "type", "size") for frame in chunk_frames for key in frame)


def test_a_file_over_the_limit_is_refused_before_a_byte_is_sent(people, app_server):
    room, ana, ben = pair(people, app_server)
    attach(ana, "too-big.bin", b"\x00" * (16 * MIB + 1), "application/octet-stream", send=False)
    hint = ana.page.get_by_test_id("file-hint")
    expect(hint).to_have_text(re.compile(r"16\.0 MB: files are limited to 16\.0 MB"))
    expect(ana.page.get_by_test_id("file-preview")).to_be_hidden()
    shot(ana.page, "files-over-limit")
    assert ana.events("sent", "file_chunk") == []
    expect(cards(ana)).to_have_count(0)


def test_the_sender_cancels_mid_way_and_the_receiver_sees_cancelled(people, app_server):
    room, ana, ben = pair(people, app_server)
    attach(ana, "slow.bin", os.urandom(16 * MIB), "application/octet-stream")
    expect(cards(ben).first.get_by_test_id("file-progress")).to_be_visible(timeout=15_000)
    moving(ana)
    ana.page.get_by_test_id("file-cancel").click()
    expect(cards(ana).first.get_by_test_id("file-status")).to_have_text("Cancelled")
    expect(cards(ben).first.get_by_test_id("file-status")).to_have_text("Cancelled by the sender")
    shot(ben.page, "files-cancelled")
    assert ana.events("sent", "file_cancel")
    expect(cards(ben).first.get_by_test_id("file-download")).to_have_count(0)
    # The room goes on: a new file goes through.
    attach(ana, "after.txt", b"hello after the cancel", "text/plain")
    expect(cards(ben).nth(1).get_by_test_id("file-download")).to_be_visible(timeout=15_000)


@pytest.mark.parametrize("name,mime,data", [
    ("page.html", "text/html", b"<!doctype html><h1 id=pwn>owned</h1><script>alert(1)</script>"),
    ("vector.svg", "image/svg+xml",
     b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'><circle r='40'/></svg>"),
    ("lying.png", "image/png", b"<!doctype html><script>alert(1)</script>"),
    ("real-png-called-html.html", "text/html", png()),
])
def test_html_and_svg_are_never_rendered_only_downloaded(people, app_server, name, mime, data):
    room, ana, ben = pair(people, app_server)
    ben.page.evaluate(BLOB_TYPES)
    attach(ana, name, data, mime)
    card = cards(ben).first
    expect(card.get_by_test_id("file-download")).to_be_visible(timeout=15_000)
    expect(ben.page.get_by_test_id("file-image")).to_have_count(0)
    assert ben.page.locator("iframe, object, embed, svg circle, #pwn").count() == 0
    href = card.get_by_test_id("file-download").get_attribute("href")
    assert ben.page.evaluate("(url) => window.__blobTypes[url]", href) == "application/octet-stream"
    assert downloaded(ben, card) == data
    if name == "page.html":
        shot(ben.page, "files-html-card")


class ChunkTamperingRelay:
    """Between Ben's page and the server: flips one byte of the second chunk of every file."""

    def __init__(self):
        self.flipped = 0

    def attach(self, page):
        page.route_web_socket(SOCKETIO, self._route)

    def _route(self, page_side):
        server_side = page_side.connect_to_server()
        server_side.on_message(lambda frame: page_side.send(self._tamper(frame)))

    def _tamper(self, frame):
        parsed = parse_frame(frame)
        if not parsed or parsed[0] != "event" or parsed[2][0] != "file_chunk":
            return frame
        _, ack_id, payload = parsed
        chunk = payload[1]
        if chunk["index"] != 1:
            return frame
        ct = chunk["ct"]
        chunk["ct"] = ct[:100] + ("A" if ct[100] != "A" else "B") + ct[101:]
        self.flipped += 1
        return f"42{ack_id}{json.dumps(payload, separators=(',', ':'))}"


def test_a_tampered_chunk_is_rejected_with_a_visible_message(people, app_server):
    room = Room.from_api(app_server, ttl_seconds=900)
    ana, ben = people("Ana"), people("Ben")
    relay = ChunkTamperingRelay()
    relay.attach(ben.page)
    ana.join(room.link, "Ana")
    ben.join(room.link, "Ben")
    attach(ana, "contract.pdf", os.urandom(300_000), "application/pdf")
    status = cards(ben).first.get_by_test_id("file-status")
    expect(status).to_have_text(re.compile(r"^Rejected: part of this file was changed"), timeout=15_000)
    assert relay.flipped == 1
    expect(cards(ben).first.get_by_test_id("file-download")).to_have_count(0)
    shot(ben.page, "files-tampered")


def test_files_between_the_browser_and_the_python_client_both_ways(people, app_server, tmp_path):
    """The terminal's /send reaches the browser as an inline image; the browser's file reaches the
    terminal, stays in memory, and is written only by /save."""
    from tests.chat_process import ChatProcess

    room = Room.from_api(app_server)
    ana = people("Ana")
    ana.join(room.link, "Ana")
    py = ChatProcess(room.link, "Py")
    try:
        py.status("Secured")
        expect(ana.people().filter(has_text="Py")).to_have_count(1)
        image = png(120, 80)
        path = tmp_path / "from-terminal.png"
        path.write_bytes(image)
        py.say(f"/send {path}")
        py.status("Sent from-terminal.png")
        expect(ana.page.get_by_test_id("file-image")).to_be_visible(timeout=15_000)
        assert downloaded(ana, cards(ana).first) == image

        data = os.urandom(200_000)
        attach(ana, "from-chromium.bin", data, "application/octet-stream")
        py.status("File 1: from-chromium.bin")
        target = tmp_path / "saved.bin"
        assert not target.exists(), "nothing is written before /save"
        py.say(f"/save 1 {target}")
        py.status("Saved from-chromium.bin")
        assert target.read_bytes() == data
        shot(ana.page, "files-interop")
    finally:
        py.kill()


DROP_OR_PASTE = """([how, bytes]) => {
    const file = new File([new Uint8Array(bytes)], "dropped.png", { type: "image/png" });
    const data = new DataTransfer();
    data.items.add(file);
    if (how === "drop") {
        const log = document.querySelector("[data-testid=messages]");
        log.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
    } else {
        const box = document.querySelector("#composer-text");
        box.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
    }
}"""


@pytest.mark.parametrize("how", ["drop", "paste"])
def test_a_dropped_or_pasted_image_gets_the_same_preview(people, app_server, how):
    room, ana, ben = pair(people, app_server)
    image = png(40, 30)
    ana.private.add("dropped.png")
    ana.page.evaluate(DROP_OR_PASTE, [how, list(image)])
    expect(ana.page.get_by_test_id("file-preview")).to_be_visible()
    expect(ana.page.locator(".file-preview__image")).to_be_visible()
    ana.page.get_by_test_id("file-send").click()
    expect(ben.page.get_by_test_id("file-image")).to_be_visible(timeout=15_000)
    assert downloaded(ben, cards(ben).first) == image


def test_a_kicked_member_keeps_nothing_of_a_file_on_its_way(people, app_server):
    room, ana, ben = pair(people, app_server)
    ben.page.evaluate(BLOB_TYPES)
    attach(ana, "half-way.bin", os.urandom(16 * MIB), "application/octet-stream")
    moving(ben)
    admin = RawSocket(app_server.url)
    assert admin.call("admin_auth", pin_auth(room.id, room.pin))["ok"]
    assert admin.call("admin_kick", {"member_id": ben.member_id()})["ok"]
    admin.close()
    expect(ben.page.get_by_test_id("file-progress")).to_have_count(0)
    assert "half-way.bin" not in ben.dom_text()
    assert ben.page.locator("img[src^='blob:'], a[href^='blob:']").count() == 0
    # The sender's file goes on for nobody and ends; Ana can keep talking.
    expect(cards(ana).first.get_by_test_id("file-status")).to_have_text(re.compile("Sent|Couldn't"), timeout=60_000)
