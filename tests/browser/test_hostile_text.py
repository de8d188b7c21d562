"""Hostile names and messages render as inert text: no markup, no script, no broken layout."""

import pytest
from playwright.sync_api import expect

from tests.browser.person import Room, shot

pytestmark = pytest.mark.browser

IMG_NAME = "<img src=x onerror=alert(1)>"        # 28 characters: a valid name
RTL_NAME = "\u202eevil\u202c admin"              # right-to-left override inside a name
MESSAGES = [
    '<script>alert("pwned")</script><img src=x onerror="alert(2)">',
    "<b>bold?</b> &amp; <a href=\"javascript:alert(3)\">link</a>",
    "abc\u202efed\u202c then normal text",
    "W" * 700,  # one very long word
    "🔥 " + "https://example.com/" + "a" * 300,
]
# Where the words after the name sit ("NAME joined", or "NAME and OTHER joined" when joins fold):
# an override in the name must not move them.
JOINED_AFTER_NAME = """(name) => {
  const nameEl = [...document.querySelectorAll('[data-testid="system-line"] .sys__name')]
    .find((el) => el.textContent === name);
  const nameBox = nameEl.getBoundingClientRect();
  const range = document.createRange();
  range.selectNodeContents(nameEl.nextSibling);
  return range.getBoundingClientRect().left >= nameBox.right - 1;
}"""


def test_hostile_names_and_messages_are_inert_text(people, app_server):
    """Markup, script, bidi overrides and endless words show as typed and change nothing else."""
    room = Room.from_api(app_server)
    host, imp, rtl = people("Host"), people("Img"), people("Rtl")
    host.join(room.link, "Host")
    imp.join(room.link, IMG_NAME)
    rtl.join(room.link, RTL_NAME)
    for text in MESSAGES[:3]:
        imp.send(text)
    for text in MESSAGES[3:]:
        rtl.send(text)

    for text in MESSAGES[:3]:
        host.expect_message(text, IMG_NAME)
    for text in MESSAGES[3:]:
        host.expect_message(text, RTL_NAME)
    for name in (IMG_NAME, RTL_NAME):
        expect(host.people().locator(".person__name").filter(has_text=name)).to_have_text(name)
        assert host.page.evaluate(JOINED_AFTER_NAME, name), f"{name!r} moved the text after it"
    host.page.get_by_test_id("message").last.scroll_into_view_if_needed()
    shot(host.page, "14-hostile-text")

    for person in (host, imp, rtl):
        assert person.layout_problems() == [], person.label
        assert person.console_errors == [], (person.label, person.console_errors)
        assert person.csp_violations() == [], person.label
        assert person.dialogs == [], person.label
