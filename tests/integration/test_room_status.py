"""What a join page learns before joining (GET /api/rooms/ROOM) and the room's word that an admin arrived."""

import time

import requests

from tests.server import wait_for
from tests.wire import Peer
from tests.pins import pin_auth


def test_the_status_says_lock_count_and_expiry_and_nothing_more(live_server):
    """The same facts the join page is rendered with (and the PIN's salt the creator chose, §8.1);
    locking shows at once; a burned room is the one 404."""
    room = live_server.create_room(ttl_seconds=60)
    url = f"{live_server.url}/api/rooms/{room['room']}"
    first = requests.get(url)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    status = first.json()
    assert set(status) == {"locked", "count", "expires_at", "now", "pin_salt"}
    assert status["pin_salt"] == room["pin_salt"]
    assert status["locked"] is False and status["count"] == 0
    assert 0 < status["expires_at"] - status["now"] <= 60_000

    alice = Peer(live_server.url)
    assert alice.join(room["room"])["ok"]
    admin = Peer(live_server.url)
    assert admin.call("admin_auth", pin_auth(room["room"], room["pin"]))["ok"]
    assert admin.call("admin_lock", {"locked": True}) == {"ok": True}
    assert requests.get(url).json() | {"now": 0, "expires_at": 0} == \
        {"locked": True, "count": 1, "now": 0, "expires_at": 0, "pin_salt": room["pin_salt"]}

    assert admin.call("admin_burn") == {"ok": True}
    assert alice.wait_event("destroyed") == {"reason": "burned"}
    deadline = time.monotonic() + 5
    while requests.get(url).status_code != 404 and time.monotonic() < deadline:
        time.sleep(0.05)
    gone = requests.get(url)
    unknown = requests.get(f"{live_server.url}/api/rooms/{'A' * 22}")
    malformed = requests.get(f"{live_server.url}/api/rooms/not-a-room")
    assert gone.status_code == unknown.status_code == malformed.status_code == 404
    assert gone.json() == unknown.json() == malformed.json()  # never whether a room existed
    alice.close()
    admin.close()


def test_members_hear_admin_joined_but_not_who_and_the_claimer_does_not(live_server):
    """A PIN claim tells the room `admin_joined {}`; the claiming connection hears nothing of it."""
    room = live_server.create_room(ttl_seconds=60)
    alice, bob = Peer(live_server.url), Peer(live_server.url)
    assert alice.join(room["room"])["ok"]
    assert bob.join(room["room"])["ok"]
    assert bob.call("admin_auth", pin_auth(room["room"], room["pin"]))["ok"]
    assert alice.wait_event("admin_joined") == {}
    desk = Peer(live_server.url)
    assert desk.call("admin_auth", pin_auth(room["room"], room["pin"]))["ok"]
    assert bob.wait_event("admin_joined") == {}
    wait_for(lambda: len(alice.named("admin_joined")) == 2, timeout=5, message="a second admin_joined")
    assert bob.named("admin_joined") == [{}]  # its own claim said nothing to itself
    assert desk.named("admin_joined") == []
    for peer in (alice, bob, desk):
        peer.close()
