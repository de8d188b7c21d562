"""Scenario `soak`: 100 rooms x 10 members sending at a moderate rate for 10 minutes.

Both servers run at once, each with its own load-generator pool, and every
window ("minute", `soak_minute_seconds`) runs on both at the same time, so they
meet the same moments of a shared machine. Members send 0.2 msg/s each
(1,800 deliveries/s per server, well under either's saturation) through the
relay scenario's crowd (bench/scenarios/relay.py: real joins, keys and sealed
envelopes). Each window is one relay step, drained before the next: its
messages lost (accepted but not delivered to every other member), p50/p99
latency, server CPU, and the server's RSS after it. A drift shows as the last
windows' p99 or RSS above the first's.
"""

import threading
from dataclasses import replace

from .. import crowd, stats
from .relay import RelayCrowd

KINDS = ("baseline", "burnchat")
PAIRED = True   # the runner starts both servers and calls run_pair


def cases(preset):
    """A single case."""
    return ["soak"]


def offered_per_s(preset):
    """Deliveries/s the soak offers each server."""
    size = preset.soak_room_size
    return preset.soak_rooms * size * preset.soak_member_rate * (size - 1)


def run_pair(case, servers, pools, preset, logs):
    """Fill both servers, run every window on both at once; results by kind."""
    window = replace(preset, relay_step_seconds=preset.soak_minute_seconds)
    offered = offered_per_s(preset)
    crowds = {kind: RelayCrowd(servers[kind], pools[kind], window, preset.soak_rooms,
                               preset.soak_room_size) for kind in KINDS}
    for kind in KINDS:
        if not crowds[kind].ensure(offered):
            raise RuntimeError("the soak needs more members than relay_max_members")
    rss_start = {kind: servers[kind].rss_kb() for kind in KINDS}
    minutes = {kind: [] for kind in KINDS}
    failed = {}
    for index in range(preset.soak_minutes):
        going = [kind for kind in KINDS if kind not in failed]
        if not going:
            break
        steps = _at_once({kind: (lambda kind=kind: crowds[kind].step(offered, code=index + 1))
                          for kind in going})
        for kind in going:
            if isinstance(steps[kind], Exception):   # this server's soak ends; the other's goes on
                failed[kind] = f"{type(steps[kind]).__name__}: {steps[kind]} (window {index + 1})"
                logs[kind](f"minute {index + 1} FAILED: {failed[kind]}")
                continue
            steps[kind]["rss_kb"] = servers[kind].rss_kb()
            minutes[kind].append(steps[kind])
            logs[kind](f"minute {index + 1}: " + _describe(steps[kind]))
    return {kind: {"error": failed[kind]} if kind in failed or not minutes[kind] else
            _result(minutes[kind], rss_start[kind], crowd.status(pools[kind]), offered,
                    preset.soak_minute_seconds)
            for kind in KINDS}


def _at_once(work):
    """Run each kind's callable in its own thread; their results (or exceptions) by kind."""
    results = {}

    def run(kind, call):
        """One kind's work."""
        try:
            results[kind] = call()
        except Exception as error:  # noqa: BLE001 - the caller records it for this kind
            results[kind] = error

    threads = [threading.Thread(target=run, args=item) for item in work.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _result(minutes, rss_start, status, offered, minute_seconds):
    """One server's soak figures from its windows."""
    rss_end = minutes[-1]["rss_kb"]
    return {
        "members": minutes[0]["members"],
        "rooms": minutes[0]["rooms"],
        "offered_per_s": round(offered),
        "minutes": len(minutes),
        "minute_seconds": minute_seconds,
        "sent": sum(m["sent"] for m in minutes),
        "delivered": sum(m["delivered"] for m in minutes),
        "lost": sum(m["lost"] for m in minutes),
        "refused": sum(m["refused"] for m in minutes),
        "skipped_disconnected": sum(m.get("skipped", 0) for m in minutes),
        "connected_at_end": status["connected"],
        "p50_ms_per_minute": [m["latency_ms"]["p50"] for m in minutes],
        "p99_ms_per_minute": [m["latency_ms"]["p99"] for m in minutes],
        "p99_ms_worst_minute": max(m["latency_ms"]["p99"] or 0 for m in minutes),
        "server_cpu_pct_per_minute": [m["server_cpu_pct"] for m in minutes],
        "server_cpu_pct": round(sum(m["server_cpu_pct"] for m in minutes) / len(minutes), 1),
        "cpu_ms_per_1k": _mean([m["cpu_ms_per_1k"] for m in minutes]),
        "rss_kb_per_minute": [m["rss_kb"] for m in minutes],
        "rss_start_kb": rss_start,
        "rss_end_kb": rss_end,
        "rss_growth_kb": rss_end - rss_start,
        "rss_growth_after_first_minute_kb": rss_end - minutes[0]["rss_kb"],
        "steps": minutes,
    }


def _mean(values):
    """The mean of the values that are not None, rounded; None if there are none."""
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 2) if values else None


def compare(ours, baseline):
    """CPU, worst-minute p99 and RSS growth ratios."""
    return {"cpu": stats.ratio(ours["server_cpu_pct"], baseline["server_cpu_pct"]),
            "p99_worst_minute": stats.ratio(ours["p99_ms_worst_minute"], baseline["p99_ms_worst_minute"]),
            "rss_growth": stats.ratio(ours["rss_growth_kb"], baseline["rss_growth_kb"])}


def _describe(step):
    """One progress line for a window."""
    latency = step["latency_ms"]
    return (f"sent {step['sent']} delivered {step['delivered']} lost {step['lost']}, "
            f"p50 {latency['p50']} p99 {latency['p99']} ms, server CPU {step['server_cpu_pct']}%, "
            f"RSS {step['rss_kb'] / 1024:.1f} MiB")
