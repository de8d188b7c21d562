"""The core flows against a real server process over real sockets."""

import base64
import hashlib
import html

import requests

from tests.wire import Peer, announcement, b64u, envelope, key_delivery
from tests.pins import pin_auth
from tests.pins import room_request


def peers_in_room(server, count, ttl=60):
    """Create a room and join `count` keyed peers; returns (room, peers)."""
    room = server.create_room(ttl)
    peers = []
    for _ in range(count):
        peer = Peer(server.url)
        ack = peer.join(room["room"])
        assert ack["ok"]
        peers.append(peer)
    for peer in peers:
        peer.wait_keyed(epoch=ack["epoch"])  # every join starts an epoch: wait for the last one
    return room, peers


def close_all(*peers):
    for peer in peers:
        peer.close()


def test_create_join_relay_and_burn_at_zero(live_server):
    room = live_server.create_room(ttl_seconds=3)
    alice, bob = Peer(live_server.url), Peer(live_server.url)
    first = alice.join(room["room"])
    assert first["ok"] and first["members"] == [] and first["epoch"] == 1
    assert bob.join(room["room"])["ok"]
    alice.wait_keyed(), bob.wait_keyed()
    ack, sent = alice.send()
    assert ack == {"ok": True}
    assert bob.wait_event("message") == sent
    ack, sent_back = bob.send()
    assert alice.wait_event("message") == sent_back
    assert alice.named("message") == [sent_back]  # the sender does not get its own message
    for peer in (alice, bob):
        assert peer.wait_event("destroyed", timeout=6) == {"reason": "expired"}
        assert peer.disconnected.wait(5)
    assert requests.get(f"{live_server.url}/r/{room['room']}").status_code == 404


def test_late_joiner_gets_every_public_key(live_server):
    room, peers = peers_in_room(live_server, 3)
    late = Peer(live_server.url)
    ack = late.join(room["room"])
    assert [m["member_id"] for m in ack["members"]] == [p.member_id for p in peers]
    assert all(set(m) == {"member_id", "ecdh_pub", "sig_pub", "enc_name", "mac", "held", "away"}
               for m in ack["members"])
    late.wait_keyed()
    joined = peers[0].wait_event("member_joined", lambda d: d["member_id"] == late.member_id)
    assert joined["ecdh_pub"] and joined["held"] == 0
    close_all(late, *peers)


def test_admin_kick_lock_extend_and_burn_now(live_server):
    room, (alice, bob) = peers_in_room(live_server, 2)
    admin = Peer(live_server.url)
    assert admin.call("admin_kick", {"member_id": bob.member_id})["code"] == "not_admin"
    auth = admin.call("admin_auth", pin_auth(room["room"], room["pin"].lower().replace("-", "")))
    assert auth["ok"] and len(auth["members"]) == 2

    before = alice.epoch_held
    kicked = admin.call("admin_kick", {"member_id": bob.member_id})
    assert kicked["ok"] and kicked["creator"] is False  # the admin page is not a member
    assert bob.wait_event("kicked") == {}
    assert bob.disconnected.wait(5)
    left = alice.wait_event("member_left")
    assert left == {"member_id": bob.member_id, "reason": "kicked"}
    assert alice.wait_event("rekey", lambda d: d["epoch"] == before + 1)
    alice.wait_keyed(epoch=before + 1)
    assert admin.wait_event("member_left")["member_id"] == bob.member_id

    assert admin.call("admin_lock", {"locked": True}) == {"ok": True}
    assert alice.wait_event("room_state", lambda d: d["locked"])
    newcomer = Peer(live_server.url)
    refused = newcomer.join(room["room"])
    assert refused["code"] == "locked" and "locked" in refused["error"]
    assert admin.call("admin_lock", {"locked": False}) == {"ok": True}
    assert newcomer.join(room["room"])["ok"]

    before = alice.named("room_state")[-1]["expires_at"]
    extended = admin.call("admin_extend", {"seconds": 300})
    assert extended["ok"] and extended["expires_at"] >= before + 299_000
    assert alice.wait_event("room_state", lambda d: d["expires_at"] == extended["expires_at"], timeout=1)

    assert admin.call("admin_burn") == {"ok": True}
    for peer in (alice, newcomer, admin):
        assert peer.wait_event("destroyed") == {"reason": "burned"}
    assert requests.get(f"{live_server.url}/r/{room['room']}").status_code == 404
    close_all(alice, newcomer, admin)


def test_extend_never_passes_72_hours(live_server):
    room = live_server.create_room(ttl_seconds=72 * 3600 - 60)
    admin = Peer(live_server.url)
    assert admin.call("admin_auth", pin_auth(room["room"], room["pin"]))["ok"]
    first = admin.call("admin_extend", {"seconds": 1800})
    assert first["ok"] and first["expires_at"] == first["max_expires_at"]
    assert admin.call("admin_extend", {"seconds": 300})["code"] == "max_ttl"
    admin.close()


def test_removed_member_key_epoch_is_refused_and_newcomer_keyed_without_creator(live_server):
    room, (creator, bob) = peers_in_room(live_server, 2)
    old = bob.epoch_held
    creator.close()
    assert bob.wait_event("rekey", lambda d: d["epoch"] == old + 1)
    bob.wait_keyed(epoch=old + 1)
    ack, _ = bob.send(epoch=old)
    assert ack["code"] == "stale_epoch"
    carol = Peer(live_server.url)
    joined = carol.join(room["room"])
    assert joined["ok"] and joined["epoch"] == old + 2  # a join starts a new epoch too
    carol.wait_keyed(epoch=old + 2, timeout=1)  # made by bob, the creator is long gone
    ack, sent = carol.send()
    assert ack == {"ok": True} and bob.wait_event("message") == sent
    close_all(bob, carol)


def test_unresponsive_creator_is_passed_over_and_named(live_server):
    room = live_server.create_room()
    silent = Peer(live_server.url, keyed=False)
    helper = Peer(live_server.url)
    assert silent.join(room["room"])["ok"]
    # `silent`, the earliest member, is asked to create each key and never answers;
    # after 2 s the server moves to a fresh epoch, asks the next member and says who failed.
    assert helper.join(room["room"])["ok"]
    request = helper.wait_event("key_request", timeout=5)
    assert request == {"epoch": 3, "for": [silent.member_id]}
    rekey = helper.wait_event("rekey", lambda d: d["epoch"] == 3)
    assert rekey == {"epoch": 3, "creator": helper.member_id, "passed_over": silent.member_id,
                     "relink": None}
    close_all(silent, helper)


def test_key_missing_passes_a_starving_creator_over_at_once(live_server):
    room = live_server.create_room()
    liar, victim = Peer(live_server.url, keyed=False), Peer(live_server.url, keyed=False)
    assert liar.join(room["room"])["ok"]
    joined = victim.join(room["room"])
    request = liar.wait_event("key_request", lambda d: d["epoch"] == joined["epoch"])
    # A complete delivery whose blob the victim cannot open (the server cannot tell).
    assert liar.call("key_deliver", key_delivery(request["epoch"], liar.member_id,
                                                 request["for"]))["ok"]
    assert victim.wait_event("room_key")["from"] == liar.member_id
    assert victim.call("key_missing", {"epoch": request["epoch"]}) == {"ok": True}
    moved = victim.wait_event("key_request", timeout=1)  # no 2 s timeout: the victim said so
    assert moved == {"epoch": request["epoch"] + 1, "for": [liar.member_id]}
    assert victim.wait_event("rekey", lambda d: d["epoch"] == moved["epoch"])["passed_over"] \
        == liar.member_id
    close_all(liar, victim)


def test_kicking_admin_member_creates_the_epoch_that_excludes_the_kicked(live_server):
    room, (alice, bob, carol) = peers_in_room(live_server, 3)
    assert bob.call("admin_auth", pin_auth(room["room"], room["pin"]))["ok"]
    kicked = bob.call("admin_kick", {"member_id": carol.member_id})
    assert kicked["ok"] and kicked["creator"] is True
    request = bob.wait_event("key_request", lambda d: d["epoch"] == kicked["epoch"])
    assert request["for"] == [alice.member_id]
    alice.wait_keyed(epoch=kicked["epoch"])
    assert alice.named("room_key")[-1]["from"] == bob.member_id
    close_all(alice, bob, carol)


def test_v1_clients_are_told_to_reload(live_server):
    room = live_server.create_room()
    old = Peer(live_server.url)
    ack = old.call("join", {"v": 1, "room": room["room"], **announcement()})
    assert ack["code"] == "bad_version" and "Reload" in ack["error"]
    # Exactly as a v1 page sent it: an unpadded name, so not even the v2 shape.
    v1_shaped = {"v": 1, "room": room["room"], **announcement(), "enc_name": b64u(12 + 5 + 16)}
    assert old.call("join", v1_shaped)["code"] == "bad_version"
    v1_message = {**envelope(b64u(16), 1, 1), "v": 1}
    assert old.call("message", v1_message)["code"] == "bad_version"
    close_all(old)


def test_sender_must_be_self_and_rate_limit_says_slow_down(live_server):
    room, (alice, bob) = peers_in_room(live_server, 2)
    forged = envelope(bob.member_id, alice.epoch_held, 1)
    assert alice.call("message", forged)["code"] == "not_sender"
    acks = [alice.send(seq=i)[0] for i in range(1, 16)]
    assert all(a["ok"] for a in acks[:10])
    limited = [a for a in acks if not a["ok"]]
    assert limited and limited[0]["code"] == "rate_limited" and "Slow down" in limited[0]["error"]
    close_all(alice, bob)


def test_unknown_room_and_burned_room_look_the_same(live_server):
    unknown = requests.get(f"{live_server.url}/r/{b64u(16)}")
    room = live_server.create_room()
    admin = Peer(live_server.url)
    admin.call("admin_auth", pin_auth(room["room"], room["pin"]))
    admin.call("admin_burn")
    burned = requests.get(f"{live_server.url}/r/{room['room']}")
    assert unknown.status_code == burned.status_code == 404
    assert unknown.text == burned.text
    assert "doesn't exist or has burned" in html.unescape(burned.text)
    assert requests.get(f"{live_server.url}/r/{room['room']}/admin").status_code == 404
    peer = Peer(live_server.url)
    assert peer.join(b64u(16))["code"] == "no_room"
    close_all(admin, peer)


def test_join_key_keeps_out_whoever_has_only_the_room_id(live_server):
    join_key = b64u(32)
    digest = hashlib.sha256(base64.urlsafe_b64decode(join_key + "=")).digest()
    join_key_hash = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    room = requests.post(f"{live_server.url}/api/rooms",
                         json=room_request(60, join_key_hash=join_key_hash)).json()
    intruder, wrong, member = Peer(live_server.url), Peer(live_server.url), Peer(live_server.url)
    refused = intruder.join(room["room"])
    assert refused["code"] == "bad_link" and "full link" in refused["error"]
    assert wrong.call("join", {"v": 2, "room": room["room"], "join_key": b64u(32),
                               **announcement()})["code"] == "bad_link"
    assert member.call("join", {"v": 2, "room": room["room"], "join_key": join_key,
                                **announcement()})["ok"]
    close_all(intruder, wrong, member)


def test_key_delivery_must_cover_every_recipient(live_server):
    room = live_server.create_room()
    creator, other = Peer(live_server.url, keyed=False), Peer(live_server.url)
    assert creator.join(room["room"])["ok"]
    assert other.join(room["room"])["ok"]
    request = creator.wait_event("key_request", lambda d: other.member_id in d["for"])
    delivery = key_delivery(request["epoch"], creator.member_id, request["for"])
    empty = creator.call("key_deliver", {**delivery, "blobs": []})
    assert empty["code"] == "invalid" and "every listed member" in empty["error"]
    twice = creator.call("key_deliver", {**delivery, "blobs": delivery["blobs"] * 2})
    assert twice["code"] == "invalid"
    stranger = key_delivery(request["epoch"], creator.member_id, [b64u(16)])
    assert creator.call("key_deliver", stranger)["code"] == "invalid"
    unsorted = {**delivery, "roster": delivery["roster"][::-1]}
    assert creator.call("key_deliver", unsorted)["code"] == "invalid"
    assert creator.call("key_deliver", delivery)["ok"]
    blob = other.wait_event("room_key")
    assert blob == {"epoch": request["epoch"], "from": creator.member_id, "to": other.member_id,
                    "roster": delivery["roster"], "line_macs": delivery["line_macs"],
                    "commit_sig": delivery["commit_sig"], **{k: delivery["blobs"][0][k]
                                                             for k in ("wrapped", "sig")}}
    other.wait_keyed(epoch=request["epoch"])
    close_all(creator, other)
