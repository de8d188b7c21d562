"""The issue's targets, checked against a results document: met, missed, or not measured."""

RELAY_SATURATION_RATIO = 0.90
RELAY_P99_RATIO = 1.2
MEMBERS_TARGET = 5000
MEMBERS_RSS_KB = 40
BURN_P99_MS = 200
TIMERS_CPU_PCT = 5.0
TIMERS_DRIFT_P99_MS = 50


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
        ours = _ours(scenarios, "members")
        if ours is not None:
            rows.append(_row(mode, "members", f"{MEMBERS_TARGET} idle members on one process",
                             ours.get("opened"), lambda v: v >= MEMBERS_TARGET))
            rows.append(_row(mode, "members", f"<= {MEMBERS_RSS_KB} KiB RSS per member",
                             ours.get("rss_per_member_kb"), lambda v: v <= MEMBERS_RSS_KB))
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
    return rows


def _ours(scenarios, name):
    """Burn Chat's result of a single-case scenario, if it ran."""
    outcome = scenarios.get(name, {}).get(name)
    return None if outcome is None else outcome["burnchat"]


def _row(mode, case, goal, value, test):
    """One target: met is None when there is no value to judge."""
    return {"mode": mode, "case": case, "goal": goal, "value": value,
            "met": None if value is None else bool(test(value))}
