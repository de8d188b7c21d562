"""One real server for the serving tests, and the pages it answers with."""

import pytest

from tests.server import ServerProcess

PREVIEW_AGENT = "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)"


@pytest.fixture(scope="module")
def server():
    """A real `python app.py` (eventlet), its HTTP as browsers get it."""
    process = ServerProcess()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def pages(server):
    """{name: path} of every page a browser can be shown (the busy page: tests/abuse)."""
    room = server.create_room()["room"]
    return {"home": "/", "room": f"/r/{room}", "admin": f"/r/{room}/admin",
            "not found": "/r/" + "A" * 22}
