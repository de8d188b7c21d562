"""The PIN over real sockets: made by the creator (§8.1), lockout (spoofed X-Forwarded-For
included), gevent mode, quiet output."""

import pytest
import requests

from burnchat.client import crypto
from tests.wire import Peer
from tests.pins import TEST_PIN, TEST_SALT, pin_auth, proof, room_request


def wrong_pins(server, room, headers, count=3):
    """Try `count` wrong PINs from a fresh connection; return the last ack."""
    peer = Peer(server.url, headers=headers)
    acks = [peer.call("admin_auth", pin_auth(room["room"], "2222-2222")) for _ in range(count)]
    peer.close()
    return acks


def test_the_server_gets_a_verifier_and_claims_need_the_pins_proof(live_server):
    """A room needs the PIN's salt and verifier; the answer has no PIN; `admin_auth` takes only a
    proof. Neither the PIN nor the verifier a memory dump holds can claim the room."""
    for missing in ("pin_salt", "pin_verifier"):
        body = room_request(60)
        del body[missing]
        refused = requests.post(live_server.url + "/api/rooms", json=body, timeout=5)
        assert refused.status_code == 400 and missing in refused.json()["error"]
    short = requests.post(live_server.url + "/api/rooms", json=room_request(60, pin_verifier="A" * 42), timeout=5)
    assert short.status_code == 400
    created = requests.post(live_server.url + "/api/rooms", json=room_request(60), timeout=5)
    assert created.status_code == 201 and set(created.json()) == {"room", "url", "expires_at"}
    room = created.json()["room"]

    peer = Peer(live_server.url)
    assert peer.call("admin_auth", {"room": room, "pin": TEST_PIN})["code"] == "invalid"  # the v1 shape
    verifier = crypto.pin_verifier(proof(TEST_PIN))
    assert peer.call("admin_auth", {"room": room, "proof": verifier})["code"] == "bad_pin"
    assert peer.call("admin_auth", pin_auth(room, TEST_PIN))["ok"]
    peer.close()


def test_a_pin_claims_only_the_room_whose_salt_and_verifier_it_made(live_server):
    """Two rooms, two PINs with salts of their own: one room's proof is a wrong PIN in the other."""
    records = [crypto.new_pin_record() for _ in range(2)]
    rooms = [requests.post(live_server.url + "/api/rooms", timeout=5, json={
        "ttl_seconds": 60, "pin_salt": r["salt"], "pin_verifier": r["verifier"]}).json()["room"]
        for r in records]
    peer = Peer(live_server.url)
    assert peer.call("admin_auth", {"room": rooms[1], "proof": records[0]["proof"]})["code"] == "bad_pin"
    assert peer.call("admin_auth", {"room": rooms[0], "proof": records[0]["proof"]})["ok"]
    assert requests.get(f"{live_server.url}/api/rooms/{rooms[1]}", timeout=5).json()["pin_salt"] == records[1]["salt"]
    peer.close()


def test_three_wrong_pins_lock_out_and_spoofed_forwarded_for_does_not_dodge(live_server):
    room = live_server.create_room()
    acks = wrong_pins(live_server, room, {"X-Forwarded-For": "1.2.3.4"})
    assert [a["code"] for a in acks] == ["bad_pin", "bad_pin", "pin_locked_out"]
    assert "Try again in 10 minutes" in acks[-1]["error"]
    # No trusted proxy: a new spoofed header is the same client, still locked out.
    peer = Peer(live_server.url, headers={"X-Forwarded-For": "5.6.7.8"})
    assert peer.call("admin_auth", pin_auth(room["room"], room["pin"]))["code"] == "pin_locked_out"
    peer.close()


def test_with_one_trusted_proxy_only_the_proxy_seen_address_counts(fresh_server):
    server = fresh_server({"BURNCHAT_TRUSTED_PROXIES": "1"})
    room = server.create_room()
    wrong_pins(server, room, {"X-Forwarded-For": "9.9.9.9"})
    dodge = Peer(server.url, headers={"X-Forwarded-For": "1.1.1.1, 9.9.9.9"})
    assert dodge.call("admin_auth", pin_auth(room["room"], room["pin"]))["code"] == "pin_locked_out"
    other = Peer(server.url, headers={"X-Forwarded-For": "8.8.8.8"})
    assert other.call("admin_auth", pin_auth(room["room"], room["pin"]))["ok"]
    dodge.close(), other.close()


@pytest.mark.parametrize("mode", ["gevent"])
def test_other_async_mode_runs_the_whole_flow(fresh_server, mode):
    server = fresh_server({"BURNCHAT_ASYNC_MODE": mode})
    room = server.create_room(ttl_seconds=2)
    alice, bob = Peer(server.url), Peer(server.url)
    assert alice.join(room["room"])["ok"] and bob.join(room["room"])["ok"]
    alice.wait_keyed(), bob.wait_keyed()
    ack, sent = bob.send()
    assert ack["ok"] and alice.wait_event("message") == sent
    for peer in (alice, bob):
        assert peer.wait_event("destroyed", timeout=5) == {"reason": "expired"}
    assert "Deprecat" not in server.output() and "Traceback" not in server.output()


def test_server_output_names_no_room_member_or_pin(fresh_server):
    server = fresh_server()
    room = server.create_room()
    alice = Peer(server.url)
    alice.join(room["room"])
    alice.wait_keyed()
    alice.send()
    wrong_pins(server, room, {}, count=1)
    admin = Peer(server.url)
    admin.call("admin_auth", pin_auth(room["room"], room["pin"]))
    admin.call("admin_burn")
    alice.wait_event("destroyed")
    output = server.output()
    for secret in (room["room"], room["pin"], room["pin"].replace("-", ""), proof(room["pin"]),
                   TEST_SALT, alice.member_id):
        assert secret not in output
    assert "Deprecat" not in output
