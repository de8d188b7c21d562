"""A seconds-long run of the benchmark harness with tiny numbers, so it never rots.

It runs the real entry point (`python -m bench run --preset smoke`) against real
server processes (ours and the bare relay, eventlet) and checks that the JSON
holds every figure of every scenario, with no message lost. It times nothing.
"""

import json
import subprocess
import sys

import pytest

from tests.server import ROOT

SMOKE_TIMEOUT_SECONDS = 100


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """Run the smoke preset once; returns (exit code, output, results document)."""
    out = tmp_path_factory.mktemp("bench") / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--preset", "smoke", "--mode", "eventlet",
         "--out", str(out), "--markdown", str(out.with_suffix(".md"))],
        cwd=ROOT, capture_output=True, text=True, timeout=SMOKE_TIMEOUT_SECONDS)
    results = json.loads(out.read_text()) if out.exists() else None
    return run.returncode, run.stdout + run.stderr, results


def case(smoke, scenario, name, kind):
    """One server's result for one scenario case, failing with the harness output if absent."""
    code, output, results = smoke
    assert results is not None, output
    outcome = results["runs"]["eventlet"][scenario][name]
    assert "error" not in outcome[kind], outcome[kind]["error"]
    return outcome[kind]


KINDS = ("burnchat", "baseline")


def test_harness_exits_cleanly_and_prints_the_tables(smoke):
    code, output, results = smoke
    assert code == 0, output
    for heading in ("### relay 2x3", "### members", "### burn", "### timers", "### soak", "### leak",
                    "## Targets"):
        assert heading in output


RATIOS = {
    ("relay", "2x3"): {"saturation", "p99_at_half", "cpu_per_1k", "cpu_per_1k_same_load",
                       "deliveries_per_cpu_second"},
    ("members", "members"): {"rss_per_member", "connect_p99", "join_p99"},
    ("burn", "burn"): {"p50", "p99"},
    ("timers", "timers"): {"cpu", "drift_p99", "lateness_p99"},
    ("soak", "soak"): {"cpu", "p99_worst_minute", "rss_growth"},
    ("leak", "leak"): {"rss_growth_per_1k"},
}


def test_every_case_has_its_ratios(smoke):
    # Values are not checked: with tiny numbers a baseline figure can be 0 and its ratio None.
    for (scenario, name), expected in RATIOS.items():
        ratios = smoke[2]["runs"]["eventlet"][scenario][name]["ratios"]
        assert set(ratios) == expected, (scenario, ratios)


@pytest.mark.parametrize("kind", KINDS)
def test_relay_figures_and_no_lost_messages(smoke, kind):
    relay = case(smoke, "relay", "2x3", kind)
    assert relay["saturation_per_s"] > 0
    assert relay["cpu_ms_per_1k_at_saturation"] is not None
    assert relay["p99_ms_at_half"] is not None
    assert relay["lost_total"] == 0 and relay["lost_below_saturation"] == 0
    for step in [*relay["steps"], relay["half_step"]]:
        assert step["delivered"] == step["expected"] > 0
        assert step["refused"] == 0
        assert None not in (step["latency_ms"]["p50"], step["latency_ms"]["p99"],
                            step["latency_ms"]["max"])


@pytest.mark.parametrize("kind", KINDS)
def test_members_figures(smoke, kind):
    members = case(smoke, "members", "members", kind)
    assert members["opened"] == members["target"] and members["stopped_by"] is None
    assert members["rss_per_member_kb"] is not None
    assert members["connect_ms"]["p99"] is not None and members["join_ms"]["p99"] is not None


@pytest.mark.parametrize("kind", KINDS)
def test_burn_figures_and_every_room_gone(smoke, kind):
    burn = case(smoke, "burn", "burn", kind)
    assert burn["missed"] == 0 and burn["all_gone"]
    assert None not in (burn["destroyed_ms"]["p50"], burn["destroyed_ms"]["p99"],
                        burn["destroyed_ms"]["max"])


@pytest.mark.parametrize("kind", KINDS)
def test_timers_figures(smoke, kind):
    timers = case(smoke, "timers", "timers", kind)
    assert timers["cpu_pct"] is not None and timers["rss_per_room_kb"] is not None
    assert timers["drift_ms"]["p99"] is not None and timers["lateness_ms"]["p99"] is not None


@pytest.mark.parametrize("kind", KINDS)
def test_soak_figures_per_minute_and_nothing_lost(smoke, kind):
    soak = case(smoke, "soak", "soak", kind)
    assert soak["lost"] == 0 and soak["refused"] == 0 and soak["sent"] > 0
    assert soak["delivered"] == soak["sent"] * (soak["members"] // soak["rooms"] - 1)
    assert soak["connected_at_end"] == soak["members"]
    assert len(soak["p99_ms_per_minute"]) == len(soak["rss_kb_per_minute"]) == soak["minutes"] == 2
    assert None not in soak["p50_ms_per_minute"] + soak["p99_ms_per_minute"]
    assert soak["rss_growth_kb"] == soak["rss_end_kb"] - soak["rss_start_kb"]


@pytest.mark.parametrize("kind", KINDS)
def test_leak_check_burns_every_room_and_reports_rss_growth(smoke, kind):
    leak = case(smoke, "leak", "leak", kind)
    assert leak["rooms"] == 9 and leak["batches"] == 3 and leak["all_gone"]
    assert leak["lost"] == 0 and leak["sent"] == 9 * 2 * 2
    assert leak["rss_growth_kb_per_1k_rooms"] is not None
    assert leak["rss_growth_kb_per_1k_rooms_second_half"] is not None
    if kind == "burnchat":   # the census hook: after a gc, nothing of any room is left
        assert leak["after_gc"] and leak["live_rooms_after"] == 0 and leak["connections_after"] == 0
    else:
        assert leak["live_rooms_after"] is None


def test_targets_are_judged(smoke):
    targets = smoke[2]["targets"]
    assert {row["case"] for row in targets} == {"relay 2x3", "members", "burn", "timers", "soak", "leak"}
    # A ratio of two tiny figures can be None (a server measured 0 ms of CPU in a step).
    assert all(row["value"] is not None for row in targets if not row["ratio"])


def test_node_socketio_relay_is_compared_or_skipped_with_a_note(smoke):
    node = smoke[2].get("node")
    assert node is not None and node["note"]
    if not node["available"]:
        pytest.skip(node["note"])
    outcome = smoke[2]["runs"]["eventlet"]["relay"]["2x3"]
    relay = case(smoke, "relay", "2x3", "node")
    assert relay["lost_total"] == 0 and relay["saturation_per_s"] > 0
    assert set(outcome["node_ratios"]) == {"burnchat", "baseline"}
    assert set(outcome["node_ratios"]["burnchat"]) == RATIOS[("relay", "2x3")]
    assert "Against Node socket.io 4" in smoke[1]
