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


FORMATTED = "\n".join([
    "run `rm  -rf /tmp/x` first",
    "```python",
    "def burn():",
    "    return  'all'",
    "```",
    "docs: https://example.invalid/a_(b)?c=1#d.",
    "not links: javascript:alert(4) data:text/html,<script>alert(5)</script> JaVaScRiPt:alert(6)//https:x",
    'sneaky: https://example.invalid/"><img src=x onerror=alert(7)>',
])
# What the formatted message became in the reader's DOM.
READ_FORMATTED = """(text) => {
  const bubble = [...document.querySelectorAll('[data-testid="message"]')].find((m) => m.textContent.includes("rm  -rf"));
  const body = bubble.querySelector(".msg__text");
  const pre = body.querySelector("pre.msg__pre");
  return {
    code: [...body.querySelectorAll(":scope > code.msg__code")].map((c) => c.textContent),
    pre: pre && pre.textContent,
    preFont: pre && getComputedStyle(pre).fontFamily,
    preSpace: pre && getComputedStyle(pre).whiteSpace,
    links: [...body.querySelectorAll("a")].map((a) => [a.getAttribute("href"), a.textContent, a.rel, a.target]),
    elements: [...body.querySelectorAll("*")].map((e) => e.tagName.toLowerCase()).sort(),
    lines: body.innerText.split("\\n"),
  };
}"""


def test_formatting_is_built_from_text_and_links_are_only_http(people, app_server):
    """Code, a fenced block and links show formatted; other schemes and markup stay text."""
    room = Room.from_api(app_server)
    host, writer = people("Host"), people("Writer")
    host.join(room.link, "Host")
    writer.join(room.link, "Writer")
    writer.send(FORMATTED, shown="rm  -rf")
    expect(host.message("rm  -rf")).to_have_count(1)

    seen = host.page.evaluate(READ_FORMATTED)
    assert seen["code"] == ["rm  -rf /tmp/x"]
    assert seen["pre"] == "def burn():\n    return  'all'"
    assert "mono" in seen["preFont"].lower() and seen["preSpace"] == "pre"
    assert seen["links"] == [
        ["https://example.invalid/a_(b)?c=1#d", "https://example.invalid/a_(b)?c=1#d", "noopener noreferrer", "_blank"],
        ["https://example.invalid/", "https://example.invalid/", "noopener noreferrer", "_blank"],
    ]
    assert seen["elements"] == ["a", "a", "code", "code", "pre"], seen["elements"]
    # Every line as typed, but the fences' own lines; spaces kept inside code.
    assert seen["lines"] == ["run rm  -rf /tmp/x first", "def burn():", "    return  'all'", "docs: https://example.invalid/a_(b)?c=1#d.",
                             "not links: javascript:alert(4) data:text/html,<script>alert(5)</script> JaVaScRiPt:alert(6)//https:x",
                             'sneaky: https://example.invalid/"><img src=x onerror=alert(7)>'], seen["lines"]
    for marker in ("javascript:alert(4)", "<script>alert(5)</script>", '"><img src=x onerror=alert(7)>'):
        expect(host.message("rm  -rf")).to_contain_text(marker)
    shot(host.page, "14-formatted")
    # Nothing was fetched for the links (the fixture fails any request to another origin).
    assert host.layout_problems() == [] and writer.layout_problems() == []


def test_a_link_opens_in_a_new_tab_without_opener(people, app_server):
    """A clicked link opens a new tab that can't reach back into the room's page."""
    room = Room.from_api(app_server)
    host, writer = people("Host"), people("Writer")
    host.join(room.link, "Host")
    writer.join(room.link, "Writer")
    target = f"{app_server.url}/?from=chat"
    writer.send(f"the home page: {target}")
    link = host.message("the home page").get_by_role("link", name=target)
    expect(link).to_have_attribute("href", target)
    with host.context.expect_page() as opened:
        link.click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url == target
    assert tab.evaluate("window.opener") is None
    assert tab.evaluate("document.referrer") == ""
    tab.close()
