"""Away members and resuming (PROTOCOL.md §7.4), against a real server process."""

import json

import requests

from tests.server import wait_for
from tests.wire import Peer
from tests.pins import pin_auth


def resumable_room(server, count=3):
    """A room whose first member can resume; every member holds the last epoch."""
    room = server.create_room()
    peers = [Peer(server.url) for _ in range(count)]
    for index, peer in enumerate(peers):
        assert peer.join(room["room"], resumable=index == 0)["ok"]
    epoch = max(p.epoch_held for p in peers)
    for peer in peers:
        peer.wait_keyed(epoch=epoch)
    return room, peers


def resume(server, room, peer, proof=None, heads=None):
    """A new socket takes `peer`'s seat back; returns (new peer, ack)."""
    again = Peer(server.url)
    again.member_id = peer.member_id
    ack = again.call("resume", {"room": room["room"], "member_id": peer.member_id,
                                "proof": proof or peer.resume_secret,
                                **({"heads": heads} if heads is not None else {})})
    return again, ack


def test_a_drop_keeps_the_seat_and_the_return_brings_everything_missed(live_server):
    room, (alice, bob, carol) = resumable_room(live_server)
    epoch = bob.epoch_held
    alice.close()
    assert bob.wait_event("member_away") == {"member_id": alice.member_id}
    sent = [bob.send(seq=1)[1], carol.send(seq=1)[1], bob.send(seq=2)[1]]
    back, ack = resume(live_server, room, alice)
    assert ack["ok"] and ack["epoch"] == epoch and ack["held"] == epoch
    assert [event for event, _ in ack["missed"]] == ["message"] * 3
    assert [data for _, data in ack["missed"]] == sent  # every one, in order, once
    assert bob.wait_event("member_back") == {"member_id": alice.member_id}
    assert not bob.named("member_left") and bob.epoch_held == epoch  # no rekey for a drop
    ack, mine = back.send(epoch=epoch, seq=1)
    assert ack == {"ok": True} and carol.wait_event("message", lambda e: e == mine)
    for peer in (back, bob, carol):
        peer.close()


def test_an_away_member_is_keyed_while_away_and_gets_its_key_on_return(live_server):
    room, (alice, bob, carol) = resumable_room(live_server)
    epoch = bob.epoch_held
    alice.close()
    bob.wait_event("member_away")
    carol.close()  # carol leaves for good: a new epoch, keyed by bob for alice too
    rekey = bob.wait_event("rekey", lambda d: d["epoch"] > epoch)
    bob.wait_keyed(epoch=rekey["epoch"])
    back, ack = resume(live_server, room, alice)
    events = [event for event, _ in ack["missed"]]
    assert events[:2] == ["member_left", "rekey"] and "room_key" in events
    key = next(data for event, data in ack["missed"] if event == "room_key")
    assert key["to"] == alice.member_id and key["epoch"] == rekey["epoch"]
    assert back.call("key_held", {"epoch": rekey["epoch"]}) == {"ok": True}
    back.close(), bob.close()


def test_a_wrong_proof_and_an_unknown_member_get_the_same_refusal(live_server):
    room, (alice, bob, carol) = resumable_room(live_server)
    alice.close()
    bob.wait_event("member_away")
    _, wrong = resume(live_server, room, alice, proof=bob.member_id)
    stranger = Peer(live_server.url)
    stranger.member_id = "A" * 22
    _, unknown = resume(live_server, room, stranger, proof=alice.resume_secret)
    _, not_away = resume(live_server, room, carol, proof=alice.resume_secret)
    for ack in (wrong, unknown, not_away):
        assert ack["ok"] is False and ack["code"] == "bad_resume"
        assert ack["error"] == wrong["error"]
    back, ack = resume(live_server, room, alice)  # the real owner still gets it back
    assert ack["ok"]
    for peer in (back, bob, carol, stranger):
        peer.close()


def test_resuming_over_a_half_open_socket_replaces_it_without_a_departure(live_server):
    room, (alice, bob, carol) = resumable_room(live_server)
    back, ack = resume(live_server, room, alice, heads=[])  # its old socket never noticed
    assert ack["ok"] and ack["missed"] == []
    assert alice.disconnected.wait(5)
    ack, mine = back.send(epoch=bob.epoch_held, seq=1)
    assert ack == {"ok": True} and bob.wait_event("message", lambda e: e == mine)
    assert not bob.named("member_left")
    for peer in (back, bob, carol):
        peer.close()


def test_away_too_long_leaves_with_a_rekey_and_cannot_come_back(fresh_server):
    server = fresh_server({"BURNCHAT_RESUME_SECONDS": "1"})
    room, (alice, bob, carol) = resumable_room(server)
    epoch = bob.epoch_held
    alice.close()
    bob.wait_event("member_away")
    left = bob.wait_event("member_left", timeout=4)
    assert left == {"member_id": alice.member_id, "reason": "disconnected"}
    assert bob.wait_event("rekey", lambda d: d["epoch"] > epoch)
    _, ack = resume(server, room, alice)
    assert ack["code"] == "bad_resume"
    bob.close(), carol.close()


def test_an_away_member_that_misses_too_much_is_let_go(fresh_server):
    server = fresh_server({"BURNCHAT_MESSAGE_RATE": "10000", "BURNCHAT_MESSAGE_BURST": "10000"})
    room, (alice, bob, carol) = resumable_room(server)
    alice.close()
    bob.wait_event("member_away")
    for seq in range(1, 202):  # the bound is 200 events kept per away member
        assert bob.send(seq=seq)[0] == {"ok": True}
    left = carol.wait_event("member_left")
    assert left["member_id"] == alice.member_id
    _, ack = resume(server, room, alice)
    assert ack["code"] == "bad_resume"
    wait_for(lambda: carol.epoch_held > bob.named("rekey")[0]["epoch"] - 1, message="rekey")
    bob.close(), carol.close()


def test_members_without_a_resume_secret_leave_at_once(live_server):
    room = live_server.create_room()
    alice, bob = Peer(live_server.url), Peer(live_server.url)
    assert alice.join(room["room"])["ok"] and bob.join(room["room"])["ok"]
    alice.close()
    assert bob.wait_event("member_left")["reason"] == "disconnected"
    assert not bob.named("member_away")
    bob.close()


def test_kicking_an_away_member_tells_nobody_else_on_the_server(live_server):
    room, (alice, bob, carol) = resumable_room(live_server)
    _, (stranger, other) = resumable_room(live_server, count=2)
    alice.close()
    bob.wait_event("member_away")
    assert bob.call("admin_auth", pin_auth(room["room"], room["pin"]))["ok"]
    assert bob.call("admin_kick", {"member_id": alice.member_id})["ok"]
    assert carol.wait_event("member_left")["reason"] == "kicked"
    other.send(epoch=other.epoch_held, seq=1)  # an event after the kick, to wait on
    stranger.wait_event("message")
    for peer in (bob, carol, stranger, other):
        assert not peer.named("kicked") and not peer.disconnected.is_set()
    _, ack = resume(live_server, room, alice)
    assert ack["code"] == "bad_resume"
    for peer in (bob, carol, stranger, other):
        peer.close()


def test_messages_sent_to_a_socket_that_died_unnoticed_are_replayed_after_the_heads(live_server):
    room, (alice, bob, carol) = resumable_room(live_server)
    epoch = bob.epoch_held
    # Alice's phone lost its network; the server has not noticed and keeps sending to it.
    lost = [bob.send(seq=1)[1], carol.send(seq=1)[1], bob.send(seq=2)[1]]
    alice.wait_event("message", lambda e: e == lost[-1])  # (they reach the dead socket)
    back, ack = resume(live_server, room, alice, heads=[[bob.member_id, epoch, 1]])
    assert ack["ok"] and [data for _, data in ack["missed"]] == lost[1:]  # after what it had
    back.close()
    again, ack = resume(live_server, room, alice, heads=[])  # heard from nobody: everything
    assert [data for _, data in ack["missed"]] == lost
    for peer in (again, bob, carol):
        peer.close()


def test_a_closing_page_leaves_at_once_by_beacon_and_the_answer_tells_nothing(live_server):
    room, (alice, bob, carol) = resumable_room(live_server)
    leave = {"room": room["room"], "member_id": alice.member_id, "proof": alice.resume_secret}
    for wrong in ({**leave, "proof": bob.member_id}, {**leave, "member_id": "A" * 22},
                  {**leave, "room": "B" * 22}):
        assert requests.post(live_server.url + "/api/leave", json=wrong, timeout=5).status_code == 204
    assert not bob.named("member_left")
    answer = requests.post(live_server.url + "/api/leave", data=json.dumps(leave),
                           headers={"Content-Type": "text/plain"}, timeout=5)  # as sendBeacon may
    assert answer.status_code == 204 and answer.text == ""
    assert bob.wait_event("member_left") == {"member_id": alice.member_id, "reason": "left"}
    assert alice.disconnected.wait(5) and not bob.named("member_away")
    assert requests.post(live_server.url + "/api/leave", json={"room": 1},
                         timeout=5).status_code == 400
    bob.close(), carol.close()
