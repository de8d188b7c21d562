"""The issue's targets, checked against a results document: met, missed, or not measured."""

RELAY_SATURATION_RATIO = 0.90
RELAY_P99_RATIO = 1.2
MEMBERS_TARGET = 5000
MEMBERS_RSS_KB = 40
BURN_P99_MS = 200
TIMERS_CPU_PCT = 4.0
TIMERS_DRIFT_P99_MS = 50
# Issue #17: against the Node socket.io 4 relay and the bare relay, in the same invocation.
NODE_CPU_RATIO = 2.0
NODE_P99_RATIO = 10.0
BARE_CPU_RATIO = 0.8
ROOMS_PER_SECOND = 1000
SOAK_MEMBERS = 1000
LEAK_ROOMS = 2000


def check(results):
    """A list of {mode, case, goal, value, met} for every target the run can speak to."""
    rows = []
    for mode, scenarios in results["runs"].items():
        for case, outcome in scenarios.get("relay", {}).items():
            ratios = outcome.get("ratios", {})
            rows.append(_row(mode, f"relay {case}", f">= {RELAY_SATURATION_RATIO:.0%} of bare saturation",
                             ratios.get("saturation"), lambda v: v >= RELAY_SATURATION_RATIO))
            rows.append(_row(mode, f"relay {case}", f"p99 <= {RELAY_P99_RATIO}x bare at 50% load",
                             ratios.get("p99_at_half"), lambda v: v <= RELAY_P99_RATIO))
            rows.append(_row(mode, f"relay {case}", f"CPU per delivery <= {BARE_CPU_RATIO}x bare (same loads)",
                             ratios.get("cpu_per_1k_same_load"), lambda v: v <= BARE_CPU_RATIO, ratio=True))
            node = outcome.get("node_ratios", {}).get("burnchat")
            if node is not None:
                rows.append(_row(mode, f"relay {case}",
                                 f"CPU per delivery <= {NODE_CPU_RATIO}x Node socket.io (same loads)",
                                 node.get("cpu_per_1k_same_load"), lambda v: v <= NODE_CPU_RATIO, ratio=True))
                rows.append(_row(mode, f"relay {case}", f"p99 <= {NODE_P99_RATIO}x Node's at 50% load",
                                 node.get("p99_at_half"), lambda v: v <= NODE_P99_RATIO, ratio=True))
        ours = _ours(scenarios, "members")
        if ours is not None:
            rows.append(_row(mode, "members", f"{MEMBERS_TARGET} idle members on one process",
                             ours.get("opened"), lambda v: v >= MEMBERS_TARGET))
            rows.append(_row(mode, "members", f"<= {MEMBERS_RSS_KB} KiB RSS per member",
                             ours.get("rss_per_member_kb"), lambda v: v <= MEMBERS_RSS_KB))
            rows.append(_row(mode, "members", "RSS per member <= the bare relay's",
                             scenarios["members"]["members"].get("ratios", {}).get("rss_per_member"),
                             lambda v: v <= 1.0, ratio=True))
        ours = _ours(scenarios, "burn")
        if ours is not None:
            rows.append(_row(mode, "burn", f"p99 expires_at -> destroyed <= {BURN_P99_MS} ms",
                             ours.get("destroyed_ms", {}).get("p99"), lambda v: v <= BURN_P99_MS))
            rows.append(_row(mode, "burn", "every room gone afterwards",
                             ours.get("all_gone"), lambda v: v is True and ours.get("missed") == 0))
        ours = _ours(scenarios, "timers")
        if ours is not None:
            rows.append(_row(mode, "timers", f"idle CPU < {TIMERS_CPU_PCT}% of one core",
                             ours.get("cpu_pct"), lambda v: v < TIMERS_CPU_PCT))
            rows.append(_row(mode, "timers", f"tick drift p99 < {TIMERS_DRIFT_P99_MS} ms",
                             ours.get("drift_ms", {}).get("p99"), lambda v: v < TIMERS_DRIFT_P99_MS))
            rows.append(_row(mode, "timers", f">= {ROOMS_PER_SECOND:,} rooms created per second",
                             ours.get("rooms_per_s"), lambda v: v >= ROOMS_PER_SECOND))
        ours = _ours(scenarios, "soak")
        if ours is not None:
            rows.append(_row(mode, "soak", f"{SOAK_MEMBERS:,} members connected throughout",
                             ours.get("connected_at_end"), lambda v: v >= SOAK_MEMBERS))
            rows.append(_row(mode, "soak", "no message lost or refused",
                             ours.get("lost"), lambda v: v == 0 and ours.get("refused") == 0))
        ours = _ours(scenarios, "leak")
        if ours is not None:
            rows.append(_row(mode, "leak", f"{LEAK_ROOMS:,} rooms used and burned, every one 404",
                             ours.get("rooms_gone"),
                             lambda v: v >= LEAK_ROOMS and ours.get("all_gone") is True))
            rows.append(_row(mode, "leak", "0 live rooms and 0 sockets left (census after gc)",
                             ours.get("live_rooms_after"),
                             lambda v: v == 0 and ours.get("connections_after") == 0))
    return rows


def _ours(scenarios, name):
    """Burn Chat's result of a single-case scenario, if it ran."""
    outcome = scenarios.get(name, {}).get(name)
    return None if outcome is None else outcome["burnchat"]


def _row(mode, case, goal, value, test, ratio=False):
    """One target: met is None when there is no value to judge. `ratio`: the value is a ratio
    of two servers' figures (None when a tiny run measured 0 on one of them)."""
    return {"mode": mode, "case": case, "goal": goal, "value": value, "ratio": ratio,
            "met": None if value is None else bool(test(value))}
