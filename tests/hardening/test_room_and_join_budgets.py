"""Per-address live rooms and per-socket joins: one client cannot fill the server or churn a room."""

import requests

from tests.abuse.helpers import assert_refusal, burn, join_payload
from tests.server import wait_for
from tests.wire import Peer
from tests.pins import room_request


def create(server, ttl=60):
    """POST /api/rooms; returns the response."""
    return requests.post(server.url + "/api/rooms", json=room_request(ttl), timeout=5)


def test_one_address_holds_at_most_its_live_rooms(fresh_server, sockets):
    server = fresh_server({"BURNCHAT_ROOMS_PER_ADDRESS": "3"})
    rooms = [create(server).json() for _ in range(2)] + [create(server, ttl=1).json()]
    refused = create(server)
    assert refused.status_code == 429 and "live rooms" in refused.json()["error"]
    # A room that expires frees its place, and so does one its admin burns.
    wait_for(lambda: create(server).status_code == 201, timeout=5, message="an expired room's place")
    assert create(server).status_code == 429
    burn(rooms[0], sockets.raw(server.url))
    wait_for(lambda: create(server).status_code == 201, timeout=5, message="a burned room's place")
    assert create(server).status_code == 429


def test_a_join_leave_loop_on_one_socket_is_cut_off(fresh_server, sockets):
    server = fresh_server({"BURNCHAT_JOINS_PER_MINUTE": "3"})
    room = server.create_room()["room"]
    witness = Peer(server.url)
    assert witness.join(room)["ok"]
    looper = sockets.raw(server.url)
    acks = []
    for _ in range(20):
        ack = looper.call("join", join_payload(room))
        acks.append(ack)
        if ack["ok"]:
            assert looper.call("leave", {})["ok"]
    assert [ack["ok"] for ack in acks[:3]] == [True] * 3
    for ack in acks[3:]:
        assert_refusal(ack, "rate_limited")
    # The room saw three newcomers, not twenty; another socket still joins at once.
    assert sockets.raw(server.url).call("join", join_payload(room))["ok"]
    wait_for(lambda: len(witness.named("member_joined")) == 4, message="the fourth newcomer")
    assert len(witness.named("member_joined")) == 4
    witness.close()
