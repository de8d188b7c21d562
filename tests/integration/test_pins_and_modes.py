"""PIN lockout over real sockets (spoofed X-Forwarded-For included), gevent mode, quiet output."""

import pytest

from tests.wire import Peer


def wrong_pins(server, room, headers, count=3):
    """Try `count` wrong PINs from a fresh connection; return the last ack."""
    peer = Peer(server.url, headers=headers)
    acks = [peer.call("admin_auth", {"room": room["room"], "pin": "2222-2222"}) for _ in range(count)]
    peer.close()
    return acks


def test_three_wrong_pins_lock_out_and_spoofed_forwarded_for_does_not_dodge(live_server):
    room = live_server.create_room()
    acks = wrong_pins(live_server, room, {"X-Forwarded-For": "1.2.3.4"})
    assert [a["code"] for a in acks] == ["bad_pin", "bad_pin", "pin_locked_out"]
    assert "Try again in 10 minutes" in acks[-1]["error"]
    # No trusted proxy: a new spoofed header is the same client, still locked out.
    peer = Peer(live_server.url, headers={"X-Forwarded-For": "5.6.7.8"})
    assert peer.call("admin_auth", {"room": room["room"], "pin": room["pin"]})["code"] == "pin_locked_out"
    peer.close()


def test_with_one_trusted_proxy_only_the_proxy_seen_address_counts(fresh_server):
    server = fresh_server({"BURNCHAT_TRUSTED_PROXIES": "1"})
    room = server.create_room()
    wrong_pins(server, room, {"X-Forwarded-For": "9.9.9.9"})
    dodge = Peer(server.url, headers={"X-Forwarded-For": "1.1.1.1, 9.9.9.9"})
    assert dodge.call("admin_auth", {"room": room["room"], "pin": room["pin"]})["code"] == "pin_locked_out"
    other = Peer(server.url, headers={"X-Forwarded-For": "8.8.8.8"})
    assert other.call("admin_auth", {"room": room["room"], "pin": room["pin"]})["ok"]
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
    admin.call("admin_auth", {"room": room["room"], "pin": room["pin"]})
    admin.call("admin_burn")
    alice.wait_event("destroyed")
    output = server.output()
    for secret in (room["room"], room["pin"], room["pin"].replace("-", ""), alice.member_id):
        assert secret not in output
    assert "Deprecat" not in output
