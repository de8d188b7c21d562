"""Hostile input: every event and the HTTP API refuse bad payloads with a code and a sentence.

Each client->server event has one declared schema (burnchat/schemas.py). Here each
valid payload is mutated field by field (missing, null, wrong type, too long,
empty, not base64url, impossible base64 length, out of range, binary instead of
text, unknown fields) and every mutation must come back as `invalid`, while the
sender's connection and the room it is in keep working.
"""

import json

import pytest
import requests

from tests.abuse.helpers import (PROTOCOL_EVENTS, assert_refusal, burn, exchange, join_payload,
                                 keyed_room, valid_payloads)

FIELD_KINDS = {
    "v": "version", "room": "b64", "member_id": "b64", "ecdh_pub": "b64", "sig_pub": "b64",
    "enc_name": "b64", "mac": "b64", "epoch": "int", "blobs": "blobs",
    "to": "b64", "wrapped": "b64", "sig": "b64", "sender": "b64", "seq": "int", "iv": "b64",
    "prev": "b64", "ct": "b64_variable", "locked": "bool", "seconds": "extend",
    "roster": "b64_list", "line_macs": "b64_list", "commit_sig": "b64", "proof": "b64",
    "transfer": "b64", "index": "index", "total": "int",
}


def bad_values(value, kind):
    """Values a field of this kind must refuse."""
    common = [None, [value], {"value": value}]
    if kind in ("b64", "b64_variable", "text"):
        yield from common + [12345, "", value + "A" * 6000]  # longer than any field
    if kind in ("b64", "b64_variable"):
        yield value[:-1] + "+"          # standard base64, not base64url
        yield value[:-1] + "/"
        yield value[:-2] + "=="         # padding
        yield value[:-1] + "\u00e9"     # not ASCII at all
        yield value[:-1] + " "
    if kind == "b64_variable":
        # Base64 text 1 more than a multiple of 4 long encodes no byte string.
        yield value[:len(value) - (len(value) - 1) % 4]
    if kind == "int":
        yield from common + [0, -1, 2**53 + 1, 1.5, True, "1"]
    if kind == "index":  # a chunk index counts from 0
        yield from common + [-1, 2**53 + 1, 1.5, True, "1", 1]  # 1 is not below total (1)
    if kind == "bool":
        yield from common + [1, 0, "true"]
    if kind == "version":  # any other integer is `bad_version`, not `invalid`
        yield from common + ["2", True, 1.5]
    if kind == "b64_list":
        yield from common + ["ids", [], value * 51, [None]]
        for bad in bad_values(value[0], "b64"):
            yield [bad, *value[1:]]
    if kind == "extend":
        yield from common + [301, 0, -300, 3600, "300", 300.5]
    if kind == "blobs":
        blob = value[0]
        yield from common + ["blobs", [blob] * 51, [{**blob, "extra": 1}], ["blob"], [None],
                            [{k: v for k, v in blob.items() if k != "sig"}]]
        for key, inner in blob.items():
            for bad in bad_values(inner, FIELD_KINDS[key]):
                yield [{**blob, key: bad}]


def mutations(event, payload):
    """(description, args) pairs: every way this event's payload must be refused."""
    yield "a list instead of an object", [[payload]]
    yield "a string instead of an object", ["payload"]
    yield "a number instead of an object", [42]
    yield "two payloads", [payload, payload]
    yield "an unknown field", [{**payload, "extra": "x"}]
    if payload:
        yield "no payload", []
        yield "null", [None]
    for key, value in payload.items():
        yield f"without {key}", [{k: v for k, v in payload.items() if k != key}]
        for bad in bad_values(value, FIELD_KINDS[key]):
            yield f"{key}={json.dumps(bad)[:40]}", [{**payload, key: bad}]


@pytest.fixture
def room_with_mallory(abuse_server, sockets):
    """A room where alice and bob chat and mallory (a raw socket) is a member too."""
    room, (alice, bob) = keyed_room(abuse_server, 2)
    mallory = sockets.raw(abuse_server.url)
    payload = join_payload(room["room"])
    mallory.member_id = payload["member_id"]
    joined = mallory.call("join", payload)
    assert joined["ok"], joined
    alice.wait_keyed(epoch=joined["epoch"]), bob.wait_keyed(epoch=joined["epoch"])  # a join rekeys
    yield room, alice, bob, mallory, joined
    burn(room, sockets.raw(abuse_server.url))
    alice.close(), bob.close()


def still_working(alice, bob, mallory, seq):
    """The room relays, and mallory's connection still answers and is still a member."""
    exchange(alice, bob, seq)
    assert mallory.connected
    assert mallory.call("no_such_event")["code"] == "unknown_event"
    assert not bob.named("member_left"), "a bad payload must not remove anybody"


@pytest.mark.parametrize("event", PROTOCOL_EVENTS)
def test_every_event_refuses_every_malformed_payload(room_with_mallory, event):
    room, alice, bob, mallory, joined = room_with_mallory
    payload = valid_payloads(room["room"], mallory.member_id, bob.member_id)[event]
    cases = list(mutations(event, payload))
    for description, args in cases:
        ack = mallory.call(event, *args)
        assert ack["ok"] is False and ack["code"] == "invalid", (description, ack)
        assert event in ack["error"] or "payload" in ack["error"], (description, ack)
    assert len(cases) >= (5 if not payload else 10)
    still_working(alice, bob, mallory, seq=1)


def test_binary_where_text_is_expected_is_refused(room_with_mallory):
    room, alice, bob, mallory, joined = room_with_mallory
    for event in PROTOCOL_EVENTS:
        payload = valid_payloads(room["room"], mallory.member_id, bob.member_id)[event]
        text_fields = [k for k, v in payload.items() if isinstance(v, str)]
        if text_fields:
            payload = {**payload, text_fields[0]: {"_placeholder": True, "num": 0}}
        else:
            payload = {"_placeholder": True, "num": 0}  # the whole payload as bytes
        ack_id = mallory.next_id()
        mallory.send_text(f"451-{ack_id}" + json.dumps([event, payload]))
        mallory.send_binary(b"\x00\xffbinary where text belongs")
        assert_refusal(mallory.read_ack(ack_id), "invalid")
    still_working(alice, bob, mallory, seq=1)


MALFORMED_FRAMES = [
    '42{id}[]',                       # no event name
    '42{id}[123,{{}}]',               # a number as the name
    '42{id}[["join"],{{}}]',          # a list as the name (crashed the handler lookup)
    '42{id}[{{"a":1}}]',              # an object as the name
    '42{id}[null]',
    '42{id}"join"',                   # not a list at all
    '42{id}{{"join":{{}}}}',
    '42{id}["join",{{"v":1',          # JSON cut short
    '42{id}["join",NaN]',
    '42{id}["join",{{"v":1}}]]]',
    '451-{id}["message",{{"_placeholder":true,"num":7}}]',   # placeholder pointing nowhere
    '4599-{id}["message",{{}}]',      # more attachments than any event may carry
    '45{id}["message",{{}}]',         # binary event without attachments
]


def test_malformed_frames_are_refused_and_the_connection_survives(room_with_mallory):
    room, alice, bob, mallory, joined = room_with_mallory
    for template in MALFORMED_FRAMES:
        ack_id = mallory.next_id()
        mallory.send_text(template.format(id=ack_id))
        if template.startswith("451-"):
            mallory.send_binary(b"attachment")
        assert_refusal(mallory.read_ack(ack_id), "invalid")
    still_working(alice, bob, mallory, seq=1)


def test_unknown_and_reserved_event_names_are_refused(room_with_mallory):
    room, alice, bob, mallory, joined = room_with_mallory
    for name in ["hello", "", "JOIN", "join ", "__proto__", "constructor", "x" * 5000,
                 # Reserved names once re-ran their handlers: "disconnect" removed its sender
                 # from the room, "*" crashed Flask-SocketIO's catch-all.
                 "connect", "disconnect", "connect_error", "*"]:
        for args in ([], [{"room": room["room"]}], ["text", 1]):
            assert_refusal(mallory.call(name, *args), "unknown_event")
    still_working(alice, bob, mallory, seq=1)


# ---- HTTP ------------------------------------------------------------------------------

BAD_BODIES = [
    ("no body", dict()),
    ("form data", dict(data={"ttl_seconds": "60"})),
    ("text", dict(data="ttl_seconds=60", headers={"Content-Type": "text/plain"})),
    ("broken JSON", dict(data='{"ttl_seconds": 6', headers={"Content-Type": "application/json"})),
    ("not UTF-8", dict(data=b"\xff\xfe", headers={"Content-Type": "application/json"})),
    ("a list", dict(json=[60])),
    ("a number", dict(json=60)),
    ("null", dict(json=None)),
    ("no field", dict(json={})),
    ("a string", dict(json={"ttl_seconds": "60"})),
    ("a float", dict(json={"ttl_seconds": 60.0})),
    ("a bool", dict(json={"ttl_seconds": True})),
    ("null field", dict(json={"ttl_seconds": None})),
    ("zero", dict(json={"ttl_seconds": 0})),
    ("negative", dict(json={"ttl_seconds": -60})),
    ("over 72 h", dict(json={"ttl_seconds": 72 * 3600 + 1})),
    ("huge", dict(json={"ttl_seconds": 10**30})),
    ("unknown field", dict(json={"ttl_seconds": 60, "admin": True})),
    ("binary", dict(data=b"\x00\x01\x02", headers={"Content-Type": "application/octet-stream"})),
]


@pytest.mark.parametrize("description, request_options", BAD_BODIES,
                         ids=[d for d, _ in BAD_BODIES])
def test_create_room_refuses_bad_bodies_with_a_json_sentence(abuse_server, description,
                                                             request_options):
    response = requests.post(abuse_server.url + "/api/rooms", timeout=5, **request_options)
    assert response.status_code == 400, (description, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    assert len(response.json()["error"]) > 10


def test_oversized_and_wrong_method_api_requests_get_json_errors(abuse_server):
    huge = requests.post(abuse_server.url + "/api/rooms", timeout=5,
                         data=b'{"ttl_seconds": 60, "pad": "' + b"A" * 70_000 + b'"}',
                         headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and len(huge.json()["error"]) > 10
    wrong = requests.get(abuse_server.url + "/api/rooms", timeout=5)
    assert wrong.status_code == 405 and wrong.json()["error"]
    assert abuse_server.create_room()["room"]  # and the API still works
