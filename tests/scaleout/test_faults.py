"""Faults around the shared Redis: a restart, a killed process, a stall.

Two app processes share a private redis-server; members sit on both. Each test
prints the figures it measures (`-s` shows them; docs/BENCHMARKS.md "Fault figures").
"""

import re
import threading
import time

import requests

from tests.scaleout.conftest import FAST_HEARTBEAT
from tests.scaleout.test_two_processes import room_keys
from tests.server import wait_for
from tests.wire import Peer, envelope
from tests.pins import pin_auth

STALL_SECONDS = 5.0
OUTAGE_SECONDS = 1.5  # longer than a final-minute tick: countdowns meet the outage too
# All a process may print: its start-up line and type-only lines (burnchat/supervise.py, events.py).
ALLOWED_LINE = re.compile(r"Burn Chat on http://127\.0\.0\.1:\d+|WARNING burnchat: background task "
                          r"retrying after \w+|ERROR burnchat: internal error in \w+ handler: \w+")


def figure(name, seconds):
    """Print one measured figure for BENCHMARKS.md."""
    print(f"\nFIGURE {name}: {seconds * 1000:.0f} ms")


def members(room_id, *servers):
    """One peer per server in `servers`, joined to `room_id`, all holding the room's latest key."""
    peers, epoch = [], 0
    for server in servers:
        peer = Peer(server.url)
        ack = peer.join(room_id)
        assert ack["ok"], ack
        peers.append(peer)
        epoch, peer.expires_at = ack["epoch"], ack["expires_at"] / 1000
    for peer in peers:
        peer.wait_keyed(epoch=epoch)
    return peers


def leases(redis_server):
    """The heartbeat keys present in Redis."""
    return [k for k in redis_server.keys() if k.startswith("burnchat:proc:")]


def assert_quiet(*servers):
    """Nothing but type-only lines in the processes' output: no traceback, no room data."""
    for server in servers:
        for line in server.output().splitlines():
            assert not line.strip() or ALLOWED_LINE.fullmatch(line.strip()), line


def test_redis_restart_tells_every_member_and_leases_come_back(app_processes, redis_server):
    a, b = app_processes(2)
    first, second = a.create_room(50), b.create_room(50)  # in their final minute: ticking each second
    everyone = members(first["room"], a, b) + members(second["room"], a, b)
    watcher = Peer(b.url)  # an admin page on B watching the room made on A
    assert watcher.call("admin_auth", pin_auth(first["room"], first["pin"]))["ok"]

    lost_at = time.time()
    redis_server.stop()  # every room is gone: nothing was on disk
    time.sleep(OUTAGE_SECONDS)  # the fault's length, not a wait for an outcome
    redis_server.start()
    back_at = time.time()
    for peer in (*everyone, watcher):
        assert peer.wait_event("destroyed", timeout=5) == {"reason": "lost"}
    told_at = time.time()
    assert all(peer.disconnected.wait(5) for peer in (*everyone, watcher))
    figure("members told after a Redis restart (from the kill)", told_at - lost_at)
    figure("members told after a Redis restart (from Redis answering again)", told_at - back_at)

    wait_for(lambda: len(leases(redis_server)) == 2, timeout=5, message="both leases back")
    figure("leases back after Redis answers again", time.time() - back_at)
    assert len(redis_server.keys()) == 2  # the leases only: nothing of a lost room came back

    # Scale-out works again: a room across both processes, then its owner dies.
    room = a.create_room(ttl_seconds=4)
    alice, bob = members(room["room"], a, b)
    ack, sent = alice.send()
    assert ack["ok"], ack
    assert bob.wait_event("message") == sent
    assert requests.get(f"{b.url}/r/{room['room']}", timeout=5).status_code == 200
    expires_at = bob.expires_at
    a.stop()  # SIGKILL of the owner after the restart: B must adopt and burn on time
    assert bob.wait_event("destroyed", timeout=8) == {"reason": "expired"}
    late = time.time() - expires_at
    assert late < 2.0, f"burned {late:.2f} s late"
    assert requests.get(f"{b.url}/r/{room['room']}", timeout=5).status_code == 404
    wait_for(lambda: not room_keys(redis_server, room["room"]), timeout=5, message="room keys deleted")
    b.stop()
    assert_quiet(a, b)


def test_a_killed_process_leaves_no_ghosts_and_rejoiners_are_keyed_fast(app_processes):
    a, b = app_processes(2, FAST_HEARTBEAT)
    room = a.create_room(60)  # A owns the countdown too: B adopts it
    *doomed, first, second = members(room["room"], a, a, a, a, b, b)
    survivors = [first, second]
    ghosts = {peer.member_id for peer in doomed}

    killed_at = time.time()
    a.stop()  # SIGKILL: no disconnects, no goodbye
    keyed_in = {}

    def rejoin(old):
        """Reconnect as soon as the old socket drops, like a client does, and time the key."""
        assert old.disconnected.wait(5)
        peer = Peer(b.url)
        joined_at = time.time()
        assert peer.join(room["room"])["ok"]
        peer.wait_keyed(timeout=10)
        keyed_in[peer.member_id] = time.time() - joined_at

    threads = [threading.Thread(target=rejoin, args=(old,)) for old in doomed]
    for thread in threads:
        thread.start()
    for peer in survivors:
        peer.wait_event("member_left", lambda d: d["member_id"] in ghosts, timeout=5)
        wait_for(lambda p=peer: ghosts <= {d["member_id"] for d in p.named("member_left")},
                 timeout=5, message="every ghost removed")
    figure("ghosts removed after a kill (heartbeat 0.1 s, TTL 0.4 s)", time.time() - killed_at)
    for thread in threads:
        thread.join(timeout=15)
    assert len(keyed_in) == len(doomed)
    figure("slowest rejoiner keyed after a kill, from its join", max(keyed_in.values()))
    assert max(keyed_in.values()) < 1.0, keyed_in

    for peer in survivors:
        with peer._lock:
            events = list(peer.events)
        left = [i for i, (name, data) in enumerate(events)
                if name == "member_left" and data["member_id"] in ghosts]
        assert {events[i][1]["reason"] for i in left} == {"disconnected"}
        between = [name for name, _ in events[left[0]:left[-1]]]
        assert "rekey" not in between, "the ghosts must leave together, with one rekey"
    wait_for(lambda: survivors[0].named("room_state")[-1]["count"] == 6, timeout=5,
             message="two survivors and four rejoiners in the room")
    assert_quiet(b)


def test_a_redis_stall_loses_nothing(app_processes, redis_server):
    a, b = app_processes(2, FAST_HEARTBEAT)
    room = a.create_room(ttl_seconds=14)
    alice, carol, bob = members(room["room"], a, a, b)
    peers = (alice, carol, bob)
    rekeys = [len(peer.named("rekey")) for peer in peers]
    acks = []

    redis_server.pause()
    sent = envelope(alice.member_id, alice.epoch_held, 2)
    sender = threading.Thread(target=lambda: acks.append(alice.call("message", sent, timeout=15)))
    sender.start()  # a message sent while Redis is frozen is answered once it thaws
    time.sleep(STALL_SECONDS)  # the fault's length, not a wait for an outcome
    redis_server.resume()
    sender.join(timeout=15)
    assert acks == [{"ok": True}]
    for peer in (carol, bob):
        assert peer.wait_event("message", lambda d: d == sent, timeout=5)
    ack, back = bob.send(seq=2)
    assert ack["ok"] and alice.wait_event("message", lambda d: d == back)

    expires_at = bob.expires_at
    for peer in peers:
        assert peer.wait_event("destroyed", timeout=expires_at - time.time() + 3) == {"reason": "expired"}
    assert time.time() - expires_at < 2.0
    for peer, before in zip(peers, rekeys):
        assert peer.named("member_left") == [], "a live member was taken for a ghost"
        assert len(peer.named("rekey")) == before, "the stall changed the room's key"
        assert len(peer.named("destroyed")) == 1
    assert_quiet(a, b)


def test_a_member_of_a_killed_process_resumes_on_a_survivor(app_processes):
    a, b = app_processes(2, FAST_HEARTBEAT)
    room = a.create_room(60)
    roamer = Peer(a.url)
    assert roamer.join(room["room"], resumable=True)["ok"]
    stay = members(room["room"], b)[0]
    roamer.wait_keyed(epoch=stay.epoch_held)
    epoch = stay.epoch_held
    a.stop()  # SIGKILL: its sockets vanish without a word
    assert stay.wait_event("member_away", timeout=5) == {"member_id": roamer.member_id}
    ack, sent = stay.send(seq=1)
    assert ack == {"ok": True}
    back = Peer(b.url)
    back.member_id = roamer.member_id
    resumed = back.call("resume", {"room": room["room"], "member_id": roamer.member_id,
                                   "proof": roamer.resume_secret})
    assert resumed["ok"] and resumed["epoch"] == epoch, resumed
    assert ["message", sent] in resumed["missed"]
    assert stay.wait_event("member_back") == {"member_id": roamer.member_id}
    assert not stay.named("member_left") and stay.epoch_held == epoch  # no rekey for it
    ack, mine = back.send(epoch=epoch, seq=1)
    assert ack == {"ok": True} and stay.wait_event("message", lambda e: e == mine)
    back.close(), stay.close()
    assert_quiet(b)
