"""Two app processes, one Redis: rooms shared, admin acts everywhere, burn once, nothing left."""

import signal
import time

import requests

from tests.server import ServerProcess, wait_for
from tests.integration.test_relink import join_key_and_hash
from tests.wire import Peer, b64u
from tests.pins import pin_auth


def room_keys(redis_server, room_id):
    """Every Redis key, or hash/zset entry, that still names the room."""
    left = [k for k in redis_server.keys() if room_id in k]
    for key in redis_server.keys():
        kind = redis_server.client.type(key)
        if kind == "zset" and redis_server.client.zscore(key, room_id) is not None:
            left.append(f"{key}[{room_id}]")
        if kind == "hash" and redis_server.client.hexists(key, room_id):
            left.append(f"{key}[{room_id}]")
        if kind == "set" and redis_server.client.sismember(key, room_id):
            left.append(f"{key}[{room_id}]")
    return left


def room_across(a, b, ttl=60):
    """A room made on process A with one member on each process, both keyed."""
    room = a.create_room(ttl)
    alice, bob = Peer(a.url), Peer(b.url)
    assert alice.join(room["room"])["ok"]
    assert bob.join(room["room"])["ok"]
    alice.wait_keyed(), bob.wait_keyed()
    return room, alice, bob


def test_messages_flow_both_ways_between_processes(two_processes):
    a, b = two_processes
    room, alice, bob = room_across(a, b)
    assert requests.get(f"{b.url}/r/{room['room']}").status_code == 200
    ack, sent = alice.send()
    assert ack["ok"] and bob.wait_event("message") == sent
    ack, back = bob.send()
    assert ack["ok"] and alice.wait_event("message") == back
    alice.close(), bob.close()


def test_admin_on_one_process_acts_on_members_of_the_other(two_processes, redis_server):
    a, b = two_processes
    room, alice, bob = room_across(a, b)
    carol = Peer(b.url)
    assert carol.join(room["room"])["ok"]
    carol.wait_keyed()
    admin = Peer(a.url)
    assert admin.call("admin_auth", pin_auth(room["room"], room["pin"]))["ok"]

    before = bob.epoch_held
    assert admin.call("admin_kick", {"member_id": carol.member_id})["ok"]
    assert carol.wait_event("kicked") == {} and carol.disconnected.wait(5)
    assert bob.wait_event("member_left")["member_id"] == carol.member_id
    bob.wait_keyed(epoch=before + 1), alice.wait_keyed(epoch=before + 1)

    assert admin.call("admin_lock", {"locked": True})["ok"]
    assert bob.wait_event("room_state", lambda d: d["locked"])
    assert Peer(b.url).join(room["room"])["code"] == "locked"
    assert admin.call("admin_lock", {"locked": False})["ok"]

    extended = admin.call("admin_extend", {"seconds": 300})
    assert bob.wait_event("room_state", lambda d: d["expires_at"] == extended["expires_at"], timeout=1)

    assert admin.call("admin_burn")["ok"]
    for peer in (alice, bob):
        assert peer.wait_event("destroyed") == {"reason": "burned"}
    wait_for(lambda: not room_keys(redis_server, room["room"]), timeout=5, message="room keys deleted")
    assert requests.get(f"{b.url}/r/{room['room']}").status_code == 404


def test_pin_failures_on_two_processes_add_up(two_processes):
    a, b = two_processes
    room = a.create_room()
    codes = []
    for server in (a, b, a):
        peer = Peer(server.url)
        codes.append(peer.call("admin_auth", pin_auth(room["room"], "2222-2222"))["code"])
        peer.close()
    assert codes == ["bad_pin", "bad_pin", "pin_locked_out"]
    late = Peer(b.url)
    assert late.call("admin_auth", pin_auth(room["room"], room["pin"]))["code"] == "pin_locked_out"
    late.close()


def test_burn_fires_once_and_leaves_no_key(two_processes, redis_server):
    a, b = two_processes
    room, alice, bob = room_across(a, b, ttl=3)
    for peer in (alice, bob):
        assert peer.wait_event("destroyed", timeout=8) == {"reason": "expired"}
    assert alice.disconnected.wait(5) and bob.disconnected.wait(5)
    assert len(alice.named("destroyed")) == len(bob.named("destroyed")) == 1
    wait_for(lambda: not room_keys(redis_server, room["room"]), timeout=5, message="room keys deleted")


def test_killing_the_countdown_owner_still_burns_on_time(two_processes, redis_server):
    a, b = two_processes
    room = a.create_room(ttl_seconds=3)  # A owns the countdown
    bob = Peer(b.url)
    expires_at = bob.join(room["room"])["expires_at"] / 1000
    bob.wait_keyed()
    a.stop()  # SIGKILL: no goodbye, no lease release
    destroyed = bob.wait_event("destroyed", timeout=8)
    burned_at = time.time()
    assert destroyed == {"reason": "expired"}
    assert burned_at - expires_at < 2.0, f"burned {burned_at - expires_at:.2f} s late"
    wait_for(lambda: not room_keys(redis_server, room["room"]), timeout=5, message="room keys deleted")


def test_refuses_a_redis_that_persists(redis_server, tmp_path):
    from tests.scaleout.conftest import RedisServer
    persisting = RedisServer("--save", "3600 1", "--appendonly", "no", "--dir", str(tmp_path))
    try:
        try:
            ServerProcess({"BURNCHAT_REDIS_URL": persisting.url})
        except AssertionError as error:
            assert "Refusing to run" in str(error) and "save" in str(error)
        else:
            raise AssertionError("the app started against a persisting Redis")
        allowed = ServerProcess({"BURNCHAT_REDIS_URL": persisting.url,
                                 "BURNCHAT_REDIS_ALLOW_PERSISTENCE": "1"})
        allowed.stop(signal.SIGTERM)
    finally:
        persisting.stop()


def test_a_ban_on_one_process_holds_on_the_other(two_processes):
    """Kick and change the link (§5.6) through Redis: the new join-key hash, the relink rekey and the
    re-announcement reach the other process; the old link is refused there too."""
    a, b = two_processes
    room, alice, bob = room_across(a, b)
    carol = Peer(b.url)
    assert carol.join(room["room"])["ok"]
    carol.wait_keyed()
    assert alice.call("admin_auth", pin_auth(room["room"], room["pin"]))["ok"]
    new_key, new_hash = join_key_and_hash()
    kicked = alice.call("admin_kick", {"member_id": carol.member_id, "join_key_hash": new_hash})
    assert kicked["ok"] and kicked["creator"] is True
    assert bob.wait_event("rekey", lambda d: d["epoch"] == kicked["epoch"])["relink"] == alice.member_id
    assert Peer(b.url).join(room["room"])["code"] == "bad_link"
    bob.wait_keyed(epoch=kicked["epoch"])
    fresh = {"enc_name": b64u(160), "mac": b64u(32)}
    assert bob.call("announce", fresh) == {"ok": True}
    assert alice.wait_event("member_announced")["mac"] == fresh["mac"]
    newcomer = Peer(a.url)
    listed = {m["member_id"]: m for m in newcomer.join(room["room"], join_key=new_key)["members"]}
    assert listed[bob.member_id]["mac"] == fresh["mac"] and carol.member_id not in listed
    for peer in (alice, bob, carol, newcomer):
        peer.close()
