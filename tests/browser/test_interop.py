"""The browser and the Python reference client in one room: same safety code, messages both ways."""

import secrets
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from burnchat.client import crypto
from tests.browser.person import Room
from tests.chat_process import ChatProcess

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
    """Two implementations of protocol v1 see the same members and keys and read each other."""
    room = Room.from_api(app_server)
    ana = people("Ana")
    ana.join(room.link, "Ana")
    py = terminal(room.link, "Py")
    py.status("Secured")

    # Py's code covers both members; the browser shows the same, and so does the reference math.
    code = py.lines["err"][max(i for i, line in enumerate(py.lines["err"]) if line.startswith("* Safety code:"))]
    code = code.removeprefix("* Safety code: ")
    expect(ana.people().filter(has_text="Py")).to_have_count(1)
    py_announcement = SimpleNamespace(**ana.events("received", "member_joined")[-1])
    assert code == crypto.safety_code(room.id, [ana.announcement(), py_announcement])
    ana.expect_safety_code(code)

    to_browser, to_python = f"from the terminal {secrets.token_hex(4)}", f"from Chromium ✓ {secrets.token_hex(4)}"
    py.say(to_browser)
    ana.expect_message(to_browser, "Py")
    ana.send(to_python)
    assert py.wait_line("out", lambda line: True) == f"Ana: {to_python}"

    py.proc.stdin.close()
    assert py.exit_code() == 0
    expect(ana.log.get_by_test_id("system-line").filter(has_text="Py left")).to_have_count(1)
    expect(ana.people()).to_have_count(1)
