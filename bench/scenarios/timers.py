"""Scenario `timers`: 10,000 idle rooms with live countdowns; what do the timers alone cost?

CPU share is the server's CPU time over a quiet window divided by the window
(100% = one core). The only traffic in the window is the countdown itself and
WebSocket pings: a few observer rooms (`timers_observers`) hold one member each
so the ticks can be timed; the other rooms are empty, as rooms are between
visits. Two tick figures, both from the observers:

* drift: |wall clock at receipt - the tick's `now`|, i.e. how far the time a
  tick claims is from the time it is seen (loop lag plus delivery);
* lateness: for consecutive ticks of a room, the gap between their `now`s minus
  the wait the schedule asked for (10 s, or what is left before the last
  minute): how late the server's timer fired.

The baseline is the bare relay's plain `socketio.sleep` loop per room on the
same tick schedule.
"""

import time

from .. import crowd, stats

OBSERVER_CONCURRENCY = 20
FINAL_MINUTE_SECONDS = 60.0


PAIRED = False   # the runner runs the baseline, then Burn Chat


def cases(preset):
    """A single case."""
    return ["timers"]


def run(case, server, pool, preset, log):
    """Create the rooms, let them idle, and measure CPU and ticks over a quiet window."""
    rss_fresh = server.rss_kb()
    started = time.monotonic()
    rooms = crowd.create_rooms(pool, preset.timers_rooms, preset.timers_ttl_seconds)
    create_seconds = time.monotonic() - started
    rss_rooms = server.rss_kb()
    log(f"{preset.timers_rooms} rooms created in {create_seconds:.1f} s")
    observed = _spread_pick(rooms, preset.timers_observers)
    opened = crowd.open_members(pool, observed, 1, OBSERVER_CONCURRENCY)
    if opened["error_count"]:
        raise RuntimeError(f"could not open observers: {opened['errors']}")
    crowd.wait_ready(pool, preset.ready_timeout_seconds)
    time.sleep(preset.timers_settle_seconds)
    cpu, since, window_start = server.cpu_seconds(), time.time(), time.monotonic()
    time.sleep(preset.timers_window_seconds)
    window = time.monotonic() - window_start
    cpu = server.cpu_seconds() - cpu
    ticks = [member for part in pool.broadcast("ticks", since=since) for member in part]
    return {
        "rooms": preset.timers_rooms,
        "observers": opened["opened"],
        "create_seconds": round(create_seconds, 1),
        "rooms_per_s": round(preset.timers_rooms / create_seconds, 1),
        "window_seconds": round(window, 1),
        "cpu_pct": round(100 * cpu / window, 2),
        "rss_per_room_kb": round((rss_rooms - rss_fresh) / preset.timers_rooms, 2),
        "drift_ms": stats.summary([abs(received * 1000 - now_ms)
                                   for member in ticks for received, now_ms, _ in member]),
        "lateness_ms": stats.summary([late for member in ticks for late in _lateness(member)]),
    }


def compare(ours, baseline):
    """CPU and tick ratios."""
    return {"cpu": stats.ratio(ours["cpu_pct"], baseline["cpu_pct"]),
            "drift_p99": stats.ratio(ours["drift_ms"]["p99"], baseline["drift_ms"]["p99"]),
            "lateness_p99": stats.ratio(ours["lateness_ms"]["p99"], baseline["lateness_ms"]["p99"])}


def _spread_pick(rooms_per_worker, count):
    """About `count` rooms in all, evenly spread over each worker's creation order."""
    total = sum(len(rooms) for rooms in rooms_per_worker)
    picked = []
    for rooms in rooms_per_worker:
        share = max(1, round(count * len(rooms) / total)) if rooms else 0
        stride = max(1, len(rooms) // share) if share else 1
        picked.append(rooms[::stride][:share])
    return picked


def _scheduled_wait_ms(now_ms, expires_ms):
    """The wait the countdown schedule asks for after a tick at `now_ms` (burnchat/countdown.py)."""
    remaining = (expires_ms - now_ms) / 1000
    if remaining > FINAL_MINUTE_SECONDS:
        return 1000 * min(10.0, remaining - FINAL_MINUTE_SECONDS)
    return 1000 * max(0.0, min(1.0, remaining))


def _lateness(ticks):
    """How late each tick after the first came, against the schedule."""
    return [(later[1] - earlier[1]) - _scheduled_wait_ms(earlier[1], earlier[2])
            for earlier, later in zip(ticks, ticks[1:])]
