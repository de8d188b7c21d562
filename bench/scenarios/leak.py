"""Scenario `leak`: 2,000 rooms created, used and burned in batches; does the server give it all back?

Each batch of `leak_batch` rooms (200) is created with a TTL of `leak_ttl_seconds` each;
`leak_room_size` members join each (keys and all, as in the relay scenario),
each sends `leak_messages` sealed messages, every message is drained to every
other member, the members leave (disconnect), and the rooms burn at their
expiry. After each batch the harness reads the server's RSS; on Burn Chat it
first asks the test hook `__census` (burnchat/introspect.py), which runs a full
garbage collection and answers the live rooms and connected sockets. The bare
relay has no hook: its RSS is read without a collection.

The first batch warms the process up (allocator arenas, code paths, caches), so
the growth is the RSS after the last batch minus the RSS after the first, per
1,000 rooms of the batches in between. Every room must answer 404 afterwards
and, on Burn Chat, the census must count 0 rooms and 0 other sockets.

Both servers run at once, each with its own load-generator pool.
"""

import math
import threading
import time

import socketio

from .. import crowd, stats

KINDS = ("baseline", "burnchat")
PAIRED = True   # the runner starts both servers and calls run_pair
SERVER_ENV = {"BURNCHAT_TEST_HOOKS": "1"}   # the census hook (the bare relay ignores it)
SEND_SECONDS = 1.0
POLL_SECONDS = 0.2
GONE_GRACE_SECONDS = 10.0
CONNECT_CONCURRENCY = 50   # per worker


def cases(preset):
    """A single case."""
    return ["leak"]


def run_pair(case, servers, pools, preset, logs):
    """Run the batches on both servers at once; results by kind."""
    results = {}

    def run(kind):
        """One server's whole leak check; a failure is this server's result, not the other's."""
        try:
            results[kind] = run_one(servers[kind], pools[kind], preset, logs[kind])
        except Exception as error:  # noqa: BLE001 - recorded as this server's result
            logs[kind](f"FAILED: {type(error).__name__}: {error}")
            results[kind] = {"error": f"{type(error).__name__}: {error}"}

    threads = [threading.Thread(target=run, args=(kind,)) for kind in KINDS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def run_one(server, pool, preset, log):
    """Every batch on one server, then the census and the 404s."""
    rss_fresh = server.rss_kb()
    batches, all_rooms = [], []
    for index in range(math.ceil(preset.leak_rooms / preset.leak_batch)):
        count = min(preset.leak_batch, preset.leak_rooms - len(all_rooms))
        batch = _batch(server, pool, preset, count, code=index % 250 + 1)
        all_rooms += batch.pop("room_ids")
        census = census_of(server)
        batch.update(rss_kb=server.rss_kb(), census=census)
        batches.append(batch)
        log(f"batch {index + 1}: {count} rooms, lost {batch['lost']}, gone {batch['gone']}, "
            f"RSS {batch['rss_kb'] / 1024:.1f} MiB, census {census}")
    gone = sum(server.room_is_gone(room) for room in all_rooms)
    census = census_of(server)
    rss_end = server.rss_kb()
    measured_rooms = len(all_rooms) - batches[0]["rooms"]
    growth = rss_end - batches[0]["rss_kb"]
    return {
        "rooms": len(all_rooms),
        "batches": len(batches),
        "members_per_room": preset.leak_room_size,
        "messages_per_member": preset.leak_messages,
        "sent": sum(b["sent"] for b in batches),
        "lost": sum(b["lost"] for b in batches),
        "rooms_gone": gone,
        "all_gone": gone == len(all_rooms),
        "live_rooms_after": None if census is None else census["rooms"],
        "connections_after": None if census is None else census["connections"],
        "after_gc": census is not None,
        "rss_fresh_kb": rss_fresh,
        "rss_after_first_batch_kb": batches[0]["rss_kb"],
        "rss_end_kb": rss_end,
        "rss_growth_kb": growth,
        "rss_growth_kb_per_1k_rooms": round(growth * 1000 / measured_rooms, 1) if measured_rooms else None,
        "rss_growth_kb_per_1k_rooms_second_half": _tail_growth(batches),
        "rss_kb_per_batch": [b["rss_kb"] for b in batches],
        "join_ms": stats.summary([ms for b in batches for ms in b.pop("join_ms")]),
    }


def _tail_growth(batches):
    """RSS growth per 1,000 rooms over the second half of the batches: once the allocator has
    reached its high-water mark, a leak keeps growing while a plateau does not."""
    half = len(batches) // 2
    rooms = sum(b["rooms"] for b in batches[half + 1:])
    growth = batches[-1]["rss_kb"] - batches[half]["rss_kb"]
    return round(growth * 1000 / rooms, 1) if rooms else None


def _batch(server, pool, preset, count, code):
    """Create, fill, use, leave and burn one batch of rooms; what it sent, lost and left behind."""
    # Every room gets its full TTL from its own creation: on a busy machine creating a
    # batch can take longer than a TTL shared by the batch would leave.
    rooms = crowd.create_rooms(pool, count, preset.leak_ttl_seconds)
    expire_at = time.time() + preset.leak_ttl_seconds   # the last room's expiry, at the latest
    opened = crowd.open_members(pool, rooms, preset.leak_room_size, CONNECT_CONCURRENCY, seal=True)
    if opened["error_count"]:
        raise RuntimeError(f"could not open leak members (raise leak_ttl_seconds on a busy "
                           f"machine): {opened['errors']}")
    crowd.wait_ready(pool, max(0.5, expire_at - time.time() - SEND_SECONDS - 1))
    start_at = time.monotonic() + 0.1
    pool.broadcast("relay_step", code=code, rate=preset.leak_messages / SEND_SECONDS,
                   duration=SEND_SECONDS, start_at=start_at)
    counts = _drain(pool, min(preset.drain_timeout_seconds, expire_at - time.time() - 0.2))
    pool.broadcast("close_all")   # every member leaves before the burn
    room_ids = [room for part in rooms for room in part]
    time.sleep(max(0.0, expire_at - time.time()))
    gone = _wait_gone(server, room_ids, time.monotonic() + GONE_GRACE_SECONDS)
    return {"rooms": count, "sent": sum(c["sent"] for c in counts),
            "lost": sum(c["expected"] - c["delivered"] for c in counts)
            + sum(c["pending"] for c in counts),
            "gone": gone, "room_ids": room_ids, "join_ms": opened["join_ms"]}


def _drain(pool, timeout):
    """Wait until every accepted message reached every other member, or `timeout`."""
    deadline = time.monotonic() + max(0.5, timeout)
    while True:
        counts = pool.broadcast("step_counts")
        settled = all(c["pending"] == 0 and c["delivered"] >= c["expected"] for c in counts)
        if settled or time.monotonic() > deadline:
            return counts
        time.sleep(0.05)


def _wait_gone(server, rooms, deadline):
    """Poll until every room answers 404 or `deadline`; how many do."""
    pending = list(rooms)
    while pending and time.monotonic() < deadline:
        pending = [room for room in pending if not server.room_is_gone(room)]
        if pending:
            time.sleep(POLL_SECONDS)
    return len(rooms) - len(pending)


def census_of(server):
    """Burn Chat's `__census` answer (after a gc), or None for a server without the hook."""
    if not server.keyed:
        return None
    client = socketio.Client(reconnection=False)
    try:
        client.connect(server.url, transports=["websocket"], wait_timeout=10)
        answer = client.call("__census", {}, timeout=30)
    finally:
        client.disconnect()
    return {"rooms": answer["rooms"], "connections": answer["connections"]}


def compare(ours, baseline):
    """RSS growth ratio."""
    return {"rss_growth_per_1k": stats.ratio(ours["rss_growth_kb_per_1k_rooms"],
                                             baseline["rss_growth_kb_per_1k_rooms"])}
