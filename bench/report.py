"""The results as Markdown tables: printed on stdout and pasted into docs/BENCHMARKS.md."""

from . import goals


# Column labels of the two roles, by topology (see runner.TOPOLOGIES).
LABELS = {"single": {"burnchat": "Burn Chat", "baseline": "bare relay"},
          "redis2": {"burnchat": "2 proc + Redis", "baseline": "1 proc"},
          "tuning": {"burnchat": "tuned", "baseline": "untuned"}}


def render(results):
    """Every table of a results document, as one Markdown text."""
    topology = results.get("topology", "single")
    labels = LABELS[topology]
    parts = [_header(results)]
    if "node" in results:
        parts.append(f"* Node socket.io relay: {results['node']['note']}\n")
    for mode, scenarios in results["runs"].items():
        parts.append(f"## {mode}\n")
        for name, cases in scenarios.items():
            for case, outcome in cases.items():
                parts.append(RENDERERS[name](mode, case, outcome, labels))
    if topology == "single":
        parts.append(_goals(results))
    return "\n".join(parts)


def _header(results):
    """Machine, command and load."""
    m = results["machine"]
    packages = ", ".join(f"{name} {version}" for name, version in m["packages"].items() if version)
    return (f"# Benchmark results ({results['preset']})\n\n"
            f"* command: `{results['command']}`\n"
            f"{_roles(results)}"
            f"* machine: {m['nproc']} x {m['cpu_model']}, {m['ram_gib']} GiB RAM, Linux {m['kernel']}, "
            f"Python {m['python']}\n"
            f"* packages: {packages}\n"
            f"* started {results['started_at']}, finished {results.get('finished_at')}; "
            f"1-min load average {results['load_average_start']} at start, "
            f"{results.get('load_average_end')} at end\n")


def _roles(results):
    """What the two columns are, when they are not Burn Chat and the bare relay."""
    if results.get("topology", "single") == "single":
        return ""
    roles = results["roles"]
    return f"* compared: {roles['burnchat']} against {roles['baseline']}; ratios are the first over the second\n"


def _table(head, rows):
    """A Markdown table."""
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _cell(value):
    """A value as table text."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _errors(title, outcome):
    """A failed case's errors, or None when both runs worked."""
    failed = {kind: outcome[kind]["error"] for kind in ("burnchat", "baseline")
              if "error" in outcome.get(kind, {})}
    if not failed:
        return None
    return f"### {title}\n\n" + "".join(f"* {kind} FAILED: {error}\n" for kind, error in failed.items())


def _summary(title, rows, labels):
    """figure | Burn Chat | bare relay | ratio, for (label, ours, baseline, ratio) rows."""
    return f"### {title}\n\n" + _table(["figure", labels["burnchat"], labels["baseline"], "ratio"], rows)


def _relay(mode, case, outcome, labels):
    """Relay: the summary, then each server's steps."""
    title = f"relay {case} ({mode})"
    failed = _errors(title, outcome)
    if failed:
        return failed
    ours, base, ratios = outcome["burnchat"], outcome["baseline"], outcome["ratios"]
    text = _summary(title, [
        ("deliveries/s at saturation", ours["saturation_per_s"], base["saturation_per_s"],
         ratios["saturation"]),
        (f"p99 latency ms at {base['half_offered_per_s']:,} deliveries/s (50% of {labels['baseline']}; better of "
         f"{len(ours['p99_ms_at_half_tries'])} tries)",
         ours["p99_ms_at_half"], base["p99_ms_at_half"], ratios["p99_at_half"]),
        ("server CPU ms per 1,000 deliveries at saturation", ours["cpu_ms_per_1k_at_saturation"],
         base["cpu_ms_per_1k_at_saturation"], ratios["cpu_per_1k"]),
        ("server CPU per delivery at the same loads (median of paired steps)", None, None,
         ratios["cpu_per_1k_same_load"]),
        ("deliveries per server CPU-second at saturation", ours["deliveries_per_cpu_second"],
         base["deliveries_per_cpu_second"], ratios["deliveries_per_cpu_second"]),
        ("messages lost below saturation (in all steps)",
         f"{ours['lost_below_saturation']} ({ours['lost_total']})",
         f"{base['lost_below_saturation']} ({base['lost_total']})", None),
        ("how the stepping ended", ours["note"], base["note"], None),
    ], labels)
    if "node" in outcome:
        text += _against_node(outcome, labels)
    for kind, label in [*labels.items(), *((("node", NODE_LABEL),) if "node" in outcome else ())]:
        steps = outcome[kind]["steps"] + [outcome[kind]["half_step"]]
        text += f"\n{label} steps (the last row is the 50% step):\n\n" + _table(
            ["offered/s", "delivered/s", "rooms x members", "msg/s each", "p50 ms", "p99 ms", "max ms",
             "lost", "refused", "server CPU %", "CPU ms/1k", "loadgen CPU %", "behind"],
            [(s["offered_per_s"], s["delivered_per_s"], f"{s['rooms']} x {s['members'] // s['rooms']}",
              s["member_rate"], s["latency_ms"]["p50"], s["latency_ms"]["p99"], s["latency_ms"]["max"],
              s["lost"], s["refused"], s["server_cpu_pct"], s["cpu_ms_per_1k"], s["loadgen_cpu_pct"],
              _behind(s)) for s in steps])
    return text


NODE_LABEL = "Node socket.io 4"


def _against_node(outcome, labels):
    """Both Python servers against the Node socket.io relay, measured in the same steps."""
    node, ratios = outcome["node"], outcome.get("node_ratios")
    if "error" in node or not ratios:
        return f"\n* {NODE_LABEL} FAILED: {node.get('error', 'no ratios')}\n"
    ours, base = ratios["burnchat"], ratios["baseline"]
    head = ["figure", NODE_LABEL, f"{labels['burnchat']} / Node", f"{labels['baseline']} / Node"]
    return f"\nAgainst {NODE_LABEL} (same steps, same invocation):\n\n" + _table(head, [
        ("server CPU per delivery at the same loads (median of paired steps)", None,
         ours["cpu_per_1k_same_load"], base["cpu_per_1k_same_load"]),
        ("p99 latency ms at the 50% step", node["p99_ms_at_half"], ours["p99_at_half"],
         base["p99_at_half"]),
        ("deliveries/s at saturation", node["saturation_per_s"], ours["saturation"], base["saturation"]),
        ("server CPU ms per 1,000 deliveries at saturation", node["cpu_ms_per_1k_at_saturation"],
         ours["cpu_per_1k"], base["cpu_per_1k"]),
        ("messages lost (in all steps)", node["lost_total"], None, None),
        ("how the stepping ended", node["note"], None, None),
    ])


def _behind(step):
    """yes / no, and whether the step was the retry of one that fell behind."""
    return ("yes" if step["behind"] else "no") + (" (retry)" if step.get("retry") else "")


def _members(mode, case, outcome, labels):
    """Members: how many, memory, connect times, what stopped it."""
    title = f"members ({mode})"
    failed = _errors(title, outcome)
    if failed:
        return failed
    ours, base, ratios = outcome["burnchat"], outcome["baseline"], outcome["ratios"]
    return _summary(title, [
        ("members open (target)", f"{ours['opened']:,} ({ours['target']:,})",
         f"{base['opened']:,} ({base['target']:,})", None),
        ("RSS per member KiB", ours["rss_per_member_kb"], base["rss_per_member_kb"],
         ratios["rss_per_member"]),
        ("RSS with every member in, MiB", round(ours["rss_members_kb"] / 1024, 1),
         round(base["rss_members_kb"] / 1024, 1), None),
        ("connect p50 / p99 ms", f"{ours['connect_ms']['p50']} / {ours['connect_ms']['p99']}",
         f"{base['connect_ms']['p50']} / {base['connect_ms']['p99']}", ratios["connect_p99"]),
        ("join p50 / p99 ms", f"{ours['join_ms']['p50']} / {ours['join_ms']['p99']}",
         f"{base['join_ms']['p50']} / {base['join_ms']['p99']}", ratios["join_p99"]),
        ("time to open them all, s", ours["open_seconds"], base["open_seconds"], None),
        ("stopped by", ours["stopped_by"] or "nothing (target reached)",
         base["stopped_by"] or "nothing (target reached)", None),
    ], labels)


def _burn(mode, case, outcome, labels):
    """Burn: delay from expires_at to destroyed, and whether every room is gone."""
    title = f"burn ({mode})"
    failed = _errors(title, outcome)
    if failed:
        return failed
    ours, base, ratios = outcome["burnchat"], outcome["baseline"], outcome["ratios"]
    return _summary(title, [
        ("rooms x members", f"{ours['rooms']} x {ours['members'] // max(1, ours['rooms'])}",
         f"{base['rooms']} x {base['members'] // max(1, base['rooms'])}", None),
        ("expires_at spread across rooms, ms", ours["expiry_spread_ms"], base["expiry_spread_ms"], None),
        ("expires_at -> destroyed p50 ms", ours["destroyed_ms"]["p50"], base["destroyed_ms"]["p50"],
         ratios["p50"]),
        ("expires_at -> destroyed p99 ms", ours["destroyed_ms"]["p99"], base["destroyed_ms"]["p99"],
         ratios["p99"]),
        ("expires_at -> destroyed max ms", ours["destroyed_ms"]["max"], base["destroyed_ms"]["max"], None),
        ("members that never heard destroyed", ours["missed"], base["missed"], None),
        ("rooms gone afterwards (404)", f"{ours['rooms_gone']} of {ours['rooms']}",
         f"{base['rooms_gone']} of {base['rooms']}", None),
    ], labels)


def _timers(mode, case, outcome, labels):
    """Timers: idle CPU and tick timing."""
    title = f"timers ({mode})"
    failed = _errors(title, outcome)
    if failed:
        return failed
    ours, base, ratios = outcome["burnchat"], outcome["baseline"], outcome["ratios"]
    return _summary(title, [
        ("idle rooms (observed)", f"{ours['rooms']:,} ({ours['observers']})",
         f"{base['rooms']:,} ({base['observers']})", None),
        ("server CPU, % of one core", ours["cpu_pct"], base["cpu_pct"], ratios["cpu"]),
        ("tick drift p50 / p99 / max ms",
         f"{ours['drift_ms']['p50']} / {ours['drift_ms']['p99']} / {ours['drift_ms']['max']}",
         f"{base['drift_ms']['p50']} / {base['drift_ms']['p99']} / {base['drift_ms']['max']}",
         ratios["drift_p99"]),
        ("tick lateness p50 / p99 / max ms",
         f"{ours['lateness_ms']['p50']} / {ours['lateness_ms']['p99']} / {ours['lateness_ms']['max']}",
         f"{base['lateness_ms']['p50']} / {base['lateness_ms']['p99']} / {base['lateness_ms']['max']}",
         ratios["lateness_p99"]),
        ("tick samples", ours["drift_ms"]["samples"], base["drift_ms"]["samples"], None),
        ("RSS per idle room KiB", ours["rss_per_room_kb"], base["rss_per_room_kb"], None),
        ("rooms created per second", ours["rooms_per_s"], base["rooms_per_s"], None),
    ], labels)


def _soak(mode, case, outcome, labels):
    """Soak: losses, latency and RSS minute by minute."""
    title = f"soak ({mode})"
    failed = _errors(title, outcome)
    if failed:
        return failed
    ours, base, ratios = outcome["burnchat"], outcome["baseline"], outcome["ratios"]
    text = _summary(title, [
        ("rooms x members, offered deliveries/s",
         f"{ours['rooms']} x {ours['members'] // max(1, ours['rooms'])}, {ours['offered_per_s']:,}",
         f"{base['rooms']} x {base['members'] // max(1, base['rooms'])}, {base['offered_per_s']:,}", None),
        ("windows x seconds", f"{ours['minutes']} x {ours['minute_seconds']}",
         f"{base['minutes']} x {base['minute_seconds']}", None),
        ("messages sent / lost / refused", f"{ours['sent']:,} / {ours['lost']} / {ours['refused']}",
         f"{base['sent']:,} / {base['lost']} / {base['refused']}", None),
        ("members still connected at the end", ours["connected_at_end"], base["connected_at_end"], None),
        ("server CPU, % of one core (mean of windows)", ours["server_cpu_pct"], base["server_cpu_pct"],
         ratios["cpu"]),
        ("p99 ms, worst window", ours["p99_ms_worst_minute"], base["p99_ms_worst_minute"],
         ratios["p99_worst_minute"]),
        ("RSS start -> end MiB", f"{ours['rss_start_kb'] / 1024:.1f} -> {ours['rss_end_kb'] / 1024:.1f}",
         f"{base['rss_start_kb'] / 1024:.1f} -> {base['rss_end_kb'] / 1024:.1f}", None),
        ("RSS growth KiB (after the first window)",
         f"{ours['rss_growth_kb']} ({ours['rss_growth_after_first_minute_kb']})",
         f"{base['rss_growth_kb']} ({base['rss_growth_after_first_minute_kb']})", ratios["rss_growth"]),
    ], labels)
    head = ["window"] + [f"{labels[kind]} {what}" for kind in ("burnchat", "baseline")
                         for what in ("p50 / p99 ms", "lost", "CPU %", "RSS MiB")]
    rows = []
    for index, (mine, theirs) in enumerate(zip(ours["steps"], base["steps"])):
        rows.append([index + 1] + [cell for step in (mine, theirs) for cell in (
            f"{step['latency_ms']['p50']} / {step['latency_ms']['p99']}", step["lost"],
            step["server_cpu_pct"], round(step["rss_kb"] / 1024, 1))])
    return text + "\nPer window:\n\n" + _table(head, rows)


def _leak(mode, case, outcome, labels):
    """Leak check: what the rooms left behind."""
    title = f"leak ({mode})"
    failed = _errors(title, outcome)
    if failed:
        return failed
    ours, base, ratios = outcome["burnchat"], outcome["baseline"], outcome["ratios"]

    def census(result):
        """Live rooms and other sockets after the last batch, or why not known."""
        if result["live_rooms_after"] is None:
            return "no hook"
        return f"{result['live_rooms_after']} rooms, {result['connections_after']} sockets"

    return _summary(title, [
        ("rooms (batches) x members, messages each",
         f"{ours['rooms']:,} ({ours['batches']}) x {ours['members_per_room']}, {ours['messages_per_member']}",
         f"{base['rooms']:,} ({base['batches']}) x {base['members_per_room']}, {base['messages_per_member']}",
         None),
        ("messages sent / lost", f"{ours['sent']:,} / {ours['lost']}", f"{base['sent']:,} / {base['lost']}",
         None),
        ("rooms gone afterwards (404)", f"{ours['rooms_gone']:,} of {ours['rooms']:,}",
         f"{base['rooms_gone']:,} of {base['rooms']:,}", None),
        ("census after the last batch (after a gc)", census(ours), census(base), None),
        ("RSS fresh / after batch 1 / end MiB",
         " / ".join(f"{ours[k] / 1024:.1f}" for k in ("rss_fresh_kb", "rss_after_first_batch_kb", "rss_end_kb")),
         " / ".join(f"{base[k] / 1024:.1f}" for k in ("rss_fresh_kb", "rss_after_first_batch_kb", "rss_end_kb")),
         None),
        ("RSS growth per 1,000 rooms after batch 1, KiB", ours["rss_growth_kb_per_1k_rooms"],
         base["rss_growth_kb_per_1k_rooms"], ratios["rss_growth_per_1k"]),
        ("RSS growth per 1,000 rooms over the second half of the batches, KiB",
         ours["rss_growth_kb_per_1k_rooms_second_half"], base["rss_growth_kb_per_1k_rooms_second_half"],
         None),
        ("RSS after each batch MiB", " ".join(f"{kb / 1024:.1f}" for kb in ours["rss_kb_per_batch"]),
         " ".join(f"{kb / 1024:.1f}" for kb in base["rss_kb_per_batch"]), None),
    ], labels)


def _goals(results):
    """The issue's targets: met or missed."""
    rows = [(row["mode"], row["case"], row["goal"], row["value"],
             {True: "met", False: "MISSED", None: "not measured"}[row["met"]])
            for row in goals.check(results)]
    return "## Targets\n\n" + _table(["mode", "scenario", "target", "value", "result"], rows)


RENDERERS = {"relay": _relay, "members": _members, "burn": _burn, "timers": _timers, "soak": _soak,
             "leak": _leak}
