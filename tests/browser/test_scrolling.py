"""Follows the bottom: a reader at the newest message stays there whatever shrinks the log
(a growing composer, the phone keyboard, the final-minute banner); one's own message always
comes into view; "New messages" shows only to a reader who scrolled up."""

import pytest
from playwright.sync_api import expect

from tests.browser.person import Room, shot

pytestmark = pytest.mark.browser

# How far the log's bottom edge is from its newest line, in CSS pixels.
DISTANCE = """() => {
  const log = document.querySelector('[role="log"]');
  return log.scrollHeight - log.scrollTop - log.clientHeight;
}"""
AT_BOTTOM = f"() => ({DISTANCE})() <= 1"
KEYBOARD_OPEN = {"width": 390, "height": 480}  # an 844 px phone with its on-screen keyboard up


def tall(label, lines=14):
    """A message of many lines, its first line `label`."""
    return "\n".join([label] + [f"{label} line {n}" for n in range(1, lines)])


def join_and_fill(people, app_server, ttl_seconds=120, count=5):
    """Host on a phone and a Writer in one room; Writer sends `count` tall messages Host sees."""
    room = Room.from_api(app_server, ttl_seconds=ttl_seconds)
    host, writer = people("Host", phone=True), people("Writer")
    host.join(room.link, "Host")
    writer.join(room.link, "Writer")
    for n in range(count):
        writer.send(tall(f"fill {n}"), shown=f"fill {n} line 1")
    expect(host.page.get_by_test_id("message")).to_have_count(count)
    host.page.wait_for_function(AT_BOTTOM)
    return host, writer


def test_the_log_follows_the_bottom_as_the_screen_shrinks(people, app_server):
    """A growing composer and an opening keyboard keep the newest line in view."""
    host, writer = join_and_fill(people, app_server)
    jump = host.page.get_by_role("button", name="New messages")
    expect(jump).to_be_hidden()

    before = host.composer.bounding_box()["height"]
    host.composer.fill("one\ntwo\nthree\nfour\nfive\nsix")
    host.page.wait_for_function("(h) => document.querySelector('#composer-text').offsetHeight > h + 40", arg=before)
    host.page.wait_for_function(AT_BOTTOM)

    host.page.set_viewport_size(KEYBOARD_OPEN)
    host.page.wait_for_function(AT_BOTTOM)
    writer.send("after the keyboard")
    expect(host.message("after the keyboard")).to_be_in_viewport()
    host.page.wait_for_function(AT_BOTTOM)
    expect(jump).to_be_hidden()
    shot(host.page, "14-follow-keyboard")


def test_new_messages_only_when_scrolled_up_and_own_always_shown(people, app_server):
    """Scrolled up, a new message waits behind "New messages"; one's own tall message is shown at once."""
    host, writer = join_and_fill(people, app_server)
    jump = host.page.get_by_role("button", name="New messages")
    host.log.evaluate("(log) => { log.scrollTop = 0; }")
    host.page.wait_for_function(f"() => ({DISTANCE})() > 200")

    writer.send("while you read back")
    expect(jump).to_be_visible()
    assert host.log.evaluate("(log) => log.scrollTop") == 0  # not pulled away from what they read
    host.composer.fill("a\nlonger\ndraft\nof\nsix\nlines")
    jump_box, composer_box = jump.bounding_box(), host.page.get_by_test_id("composer").bounding_box()
    assert jump_box["y"] + jump_box["height"] <= composer_box["y"], (jump_box, composer_box)
    assert host.log.evaluate("(log) => log.scrollTop") == 0
    shot(host.page, "14-new-messages")

    host.composer.fill("")
    host.send(tall("mine", lines=30), shown="mine line 1")
    host.page.wait_for_function(AT_BOTTOM)
    expect(host.own("mine line 29")).to_be_in_viewport()
    expect(jump).to_be_hidden()

    host.log.evaluate("(log) => { log.scrollTop = 0; }")
    host.page.wait_for_function(f"() => ({DISTANCE})() > 200")
    writer.send("one more")
    jump.click()
    host.page.wait_for_function(AT_BOTTOM)
    expect(jump).to_be_hidden()


def test_the_final_minute_banner_keeps_the_newest_line_in_view(people, app_server):
    """The banner takes its line from the log without hiding the newest message."""
    host, writer = join_and_fill(people, app_server, ttl_seconds=64, count=4)
    banner = host.page.get_by_test_id("final-minute-banner")
    expect(banner).to_be_visible(timeout=15_000)
    host.page.wait_for_function(AT_BOTTOM)
    expect(host.message("fill 3 line 13")).to_be_in_viewport()
    shot(host.page, "14-follow-banner")
