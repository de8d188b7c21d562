"""The browser suite's fixtures: one Chromium for the session, one context per simulated person.

The browser choice lives here and only here. Every person gets a fresh context
(own storage, own keys) with the probe script and clipboard permission; when a
test ends, every page it opened is held to the rules that apply everywhere:
no request to another origin, no CSP violation, no script or console error, and
no name, message or link secret that anyone held in any WebSocket frame.
"""

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.frames import leaks
from tests.browser.person import Person
from tests.server import ServerProcess

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
# Every page comes from 127.0.0.1, and each creator's page authenticates its PIN:
# the per-address PIN rate limit (10 a minute) is lifted so the suite can't trip it.
SERVER_ENV = {"BURNCHAT_PIN_ATTEMPTS_PER_MINUTE": "100000"}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}

expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium, shared by every test of the session."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def app_server():
    """One real `python app.py` for the browser suite (1 s minimum TTL, PIN rate limit lifted)."""
    server = ServerProcess(SERVER_ENV)
    yield server
    server.stop()


@pytest.fixture
def people(browser, app_server):
    """Factory: `people("Ana")` or `people("Ana", phone=True)` -> a Person on `app_server`
    (or on `server=`, e.g. a compromised one from `evil_server`).

    At the end every person is checked for foreign requests, CSP violations,
    script and console errors, and frames leaking any person's private texts.
    """
    made = []

    def person(label, phone=False, server=None, **options):
        created = Person(browser, (server or app_server).url, label, **(PHONE if phone else {}), **options)
        made.append(created)
        return created

    yield person
    try:
        forbidden = set()
        for someone in made:
            forbidden |= someone.private
        for someone in made:
            assert not someone.foreign_requests(), f"{someone.label}: {someone.foreign_requests()}"
            assert not someone.page_errors, f"{someone.label}: {someone.page_errors}"
            assert not someone.console_errors, f"{someone.label}: {someone.console_errors}"
            assert not someone.dialogs, f"{someone.label}: {someone.dialogs}"
            assert not someone.csp_violations(), f"{someone.label}: {someone.csp_violations()}"
            leaked = leaks(someone.wire_text(), forbidden)
            assert not leaked, f"{someone.label}'s frames carry {leaked}"
    finally:
        for someone in made:
            someone.close()
