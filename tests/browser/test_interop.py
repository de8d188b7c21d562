"""The browser and the Python reference client in one room: same safety code, messages both ways."""

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.person import Room, shared_safety_code
from tests.chat_process import ChatProcess
from tests.server import wait_for

pytestmark = pytest.mark.browser


@pytest.fixture
def terminal():
    """Starts `python -m burnchat.client` processes; kills any left running."""
    started = []

    def start(link, name):
        chat = ChatProcess(link, name)
        started.append(chat)
        return chat

    yield start
    for chat in started:
        chat.kill()


def test_browser_and_python_client_agree_and_chat(people, app_server, terminal):
    """Two implementations of protocol v2 hold one key for one roster and read each other."""
    room = Room.from_api(app_server)
    ana = people("Ana")
    ana.join(room.link, "Ana")
    py = terminal(room.link, "Py")
    py.status("Secured")

    # One epoch secret and one roster: the terminal's latest code is the one the browser shows.
    expect(ana.people().filter(has_text="Py")).to_have_count(1)
    code, _ = shared_safety_code([ana])
    said = [line for line in py.lines["err"] if line.startswith("* Safety code:")]
    assert re.search(r"\d{5}(?: \d{5}){7}", said[-1])[0] == code, said[-1]

    to_browser, to_python = f"from the terminal {secrets.token_hex(4)}", f"from Chromium ✓ {secrets.token_hex(4)}"
    py.say(to_browser)
    ana.expect_message(to_browser, "Py")
    ana.send(to_python)
    assert py.wait_line("out", lambda line: True) == f"Ana: {to_python}"

    py.proc.stdin.close()
    assert py.exit_code() == 0
    expect(ana.log.get_by_test_id("system-line").filter(has_text="Py left")).to_have_count(1)
    expect(ana.people()).to_have_count(1)


def test_the_terminal_takes_typing_bodies_and_me_actions_from_the_browser_cleanly(people, app_server, terminal):
    """Ana types (a `typing` body, §6.3) then sends a /me action: the terminal prints the action
    only, with no rejection, no gap and no 'changed on the way'; typing counted in her chain."""
    room = Room.from_api(app_server)
    ana = people("Ana")
    ana.join(room.link, "Ana")
    py = terminal(room.link, "Py")
    py.status("Secured")
    expect(ana.people().filter(has_text="Py")).to_have_count(1)
    ana.wait_ready()
    before = len(ana.events("sent", "message"))
    ana.composer.press_sequentially("/me types")
    wait_for(lambda: len(ana.events("sent", "message")) > before, timeout=5, message="Ana's typing body")
    action = f"waves {secrets.token_hex(4)}"
    ana.private.add(action)
    ana.composer.fill(f"/me {action}")
    ana.page.get_by_role("button", name="Send").click()
    expect(ana.own(action)).to_have_attribute("data-state", "sent")
    assert len(ana.events("sent", "message")) >= before + 2, "a typing body, then the action"
    assert py.wait_line("out", lambda line: True) == f"Ana: /me {action}"  # pipe mode's way to show an action
    py.proc.stdin.close()
    assert py.exit_code() == 0
    for warning in ("Rejected", "didn't reach you", "changed on the way"):
        assert not any(warning in line for line in py.lines["err"]), py.lines["err"]


def test_a_browser_ban_moves_the_python_client_to_the_new_link(people, terminal):
    """The browser admin bans a browser member; the terminal adopts the new link and keeps talking."""
    ana = people("Ana")
    room = ana.create_room()
    ana.enter_room("Ana")
    py = terminal(room.link, "Py")
    py.status("Secured")
    cy = people("Cy")
    cy.join(room.link, "Cy")
    expect(ana.people()).to_have_count(3)
    ana.people().filter(has_text="Cy").get_by_role("button", name="Ban").click()
    expect(cy.page.get_by_role("heading", name="You were removed")).to_be_visible()
    py.status("Ana changed the room's link")
    ana.page.get_by_role("button", name="Copy link").click()
    new_link = ana.page.evaluate("navigator.clipboard.readText()")
    ana.private.add(new_link.split("#", 1)[1])
    py.say("/link")
    assert py.status(new_link.split("#", 1)[0]).endswith(new_link)
    dee = people("Dee")
    dee.join(new_link, "Dee")
    expect(dee.people().filter(has_text="Py")).to_have_count(1)  # Py's announcement under the new link
    said = f"after the ban {secrets.token_hex(4)}"
    py.say(said)
    dee.expect_message(said, "Py")
