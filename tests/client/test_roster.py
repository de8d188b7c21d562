"""Who the room says is in it (PROTOCOL.md §4, §5.2-§5.3), mirroring tests/js/roster.test.mjs:
duplicate names numbered alike whatever the server's order, and line MACs a relay cannot rewrite."""

import copy

from burnchat.client import crypto
from burnchat.client.session import RoomSession

from .roomsim import Room, announcement_of, room_key_events
from tests.client.helpers import code_of


def test_two_viewers_listed_in_opposite_orders_number_the_sams_alike():
    """The server lists the two Sams in opposite orders to Pat and Quinn: both number them by member ID."""
    room_id, secret = crypto.random_id(), crypto.random_id()
    made = {}
    for key, name in (("s1", "Sam"), ("s2", "Sam"), ("pat", "Pat"), ("quinn", "Quinn")):
        session = RoomSession(room_id, secret)
        made[key] = (session, announcement_of(session.start(name)))
    ann = {key: a for key, (_s, a) in made.items()}
    made["pat"][0].joined({"v": 2, "epoch": 1, "members": [ann["s1"], ann["s2"], ann["quinn"]]})
    made["quinn"][0].joined({"v": 2, "epoch": 1, "members": [ann["s2"], ann["s1"], ann["pat"]]})

    def view(key):
        return {m["member_id"]: m["name"] for m in made[key][0].members() if m["duplicate"]}

    low, high = sorted((made["s1"][0].member_id, made["s2"][0].member_id))
    assert view("pat") == view("quinn") == {low: "Sam", high: "Sam (2)"}


def next_key():
    """Alice's room_key for Bob in a keyed room of Alice, Bob and Cy, for the next epoch."""
    room = Room(["Alice", "Bob", "Cy"])
    room.rekey("Alice")
    room.epoch += 1
    for session in room.sessions.values():
        session.on_rekey({"epoch": room.epoch, "creator": None, "passed_over": None})
    event = room_key_events(room.request("Alice"), room["Alice"].member_id)[room["Bob"].member_id]
    return room, event


def test_a_rewritten_line_mac_is_tampering_not_a_mismatch():
    """A relay that rewrites Cy's line MAC gets the key refused as bad_sig: Cy is not blamed."""
    room, event = next_key()
    bad = copy.deepcopy(event)
    bad["line_macs"][bad["roster"].index(room["Cy"].member_id)] = crypto.b64u_encode(bytes(16))
    assert code_of(lambda: room["Bob"].accept_room_key(bad)) == "bad_sig"
    assert room["Bob"].accept_room_key(event) == event["epoch"]


def test_a_roster_list_out_of_order_is_bad_encoding():
    """The same IDs and MACs, reversed: refused before any crypto, as the browser does."""
    room, event = next_key()
    reversed_event = {**event, "roster": event["roster"][::-1], "line_macs": event["line_macs"][::-1]}
    assert code_of(lambda: room["Bob"].accept_room_key(reversed_event)) == "bad_encoding"
