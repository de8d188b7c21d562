"""One invocation: for each async mode and scenario, Burn Chat and the bare relay on fresh processes.

Each server kind has its own load-generator pool. The relay scenario runs both
servers at once and interleaves their load steps; the others run the bare
relay first, then Burn Chat. A case that fails is written down with its error
and the invocation goes on.
"""

import os
import sys
import time
import traceback
from contextlib import ExitStack

from burnchat.config import STACK_TUNINGS

from . import machine, noderelay
from .cluster import ServerGroup
from .scenarios import burn, leak, members, relay, soak, timers
from .servers import Server
from .workers import WorkerPool

SCENARIOS = {"relay": relay, "members": members, "burn": burn, "timers": timers, "soak": soak,
             "leak": leak}
KINDS = ("baseline", "burnchat")
# What stands in each role. "single": Burn Chat against the bare relay. "redis2": Burn
# Chat on 2 processes + Redis (role "burnchat") against Burn Chat on 1 process (role
# "baseline"), so every ratio reads 2-process / 1-process.
TOPOLOGIES = {
    "single": {"baseline": "bare relay (1 process)", "burnchat": "Burn Chat (1 process)"},
    "redis2": {"baseline": "Burn Chat, 1 process", "burnchat": "Burn Chat, 2 processes + Redis"},
    # "tuning": Burn Chat with the stack tunings of BENCH_TUNING_BEFORE (default none: the
    # stack's defaults) against Burn Chat with BENCH_TUNING_AFTER (default every tuning);
    # values as for BURNCHAT_STACK_TUNING. One change at a time, pairs in one invocation.
    "tuning": {"baseline": "Burn Chat, tunings {before}", "burnchat": "Burn Chat, tunings {after}"},
}


def tuning_env():
    """BURNCHAT_STACK_TUNING of the two sides of the tuning topology."""
    return {"baseline": os.environ.get("BENCH_TUNING_BEFORE", "none"),
            "burnchat": os.environ.get("BENCH_TUNING_AFTER", ",".join(STACK_TUNINGS))}


def roles(topology):
    """What stands in each role of `topology`, in words."""
    if topology != "tuning":
        return TOPOLOGIES[topology]
    env = tuning_env()
    return {kind: label.format(before=env["baseline"], after=env["burnchat"])
            for kind, label in TOPOLOGIES[topology].items()}


def run_all(preset, modes, scenario_names, log_dir, command, checkpoint=lambda results: None,
            topology="single"):
    """Run every case and return the results document; `checkpoint` gets it after every case."""
    results = {"command": command, "preset": preset.name, "machine": machine.describe(),
               "load_average_start": machine.load_average(), "started_at": _utc_now(),
               "topology": topology, "roles": roles(topology), "runs": {}}
    # The Node socket.io relay is a third server in the relay scenario's single topology.
    with_node = topology == "single" and any(getattr(SCENARIOS[n], "WITH_NODE", False)
                                             for n in scenario_names)
    if with_node:
        with_node, note = noderelay.prepare()
        results["node"] = {"available": with_node, "note": note}
        sys.stderr.write(f"[node] {note}\n")
    with ExitStack() as stack:
        kinds = KINDS + (("node",) if with_node else ())
        pools = {kind: stack.enter_context(WorkerPool(preset.workers)) for kind in kinds}
        for mode in modes:
            for name in scenario_names:
                module = SCENARIOS[name]
                for case in module.cases(preset):
                    outcome = run_case(module, case, mode, pools, preset, log_dir, topology,
                                       with_node=with_node and getattr(module, "WITH_NODE", False))
                    results["runs"].setdefault(mode, {}).setdefault(name, {})[case] = outcome
                    checkpoint(results)
    results["load_average_end"] = machine.load_average()
    results["finished_at"] = _utc_now()
    return results


def run_case(module, case, mode, pools, preset, log_dir, topology="single", with_node=False):
    """Both servers' results for one case (and the Node relay's, `with_node`), and their ratios."""
    servers = make_servers(topology, mode, case, log_dir, env=getattr(module, "SERVER_ENV", None))
    if with_node:
        servers["node"] = Server("node", mode, log_dir / f"{mode}-{case}-node.log")
    kinds = tuple(servers)
    logs = {kind: _logger(f"[{mode} {case} {kind}]") for kind in kinds}
    if module.PAIRED:
        outcome = _measure(lambda: module.run_pair(case, servers, pools, preset, logs),
                           kinds, servers, pools, preset, logs)
    else:
        outcome = {}
        for kind in KINDS:
            outcome.update(_measure(
                lambda kind=kind: {kind: module.run(case, servers[kind], pools[kind], preset, logs[kind])},
                (kind,), servers, pools, preset, logs))
    if not any("error" in outcome[kind] for kind in KINDS):
        outcome["ratios"] = module.compare(outcome["burnchat"], outcome["baseline"])
    if with_node and not any("error" in outcome[kind] for kind in kinds):
        outcome["node_ratios"] = {kind: module.compare(outcome[kind], outcome["node"]) for kind in KINDS}
    return outcome


def make_servers(topology, mode, case, log_dir, env=None):
    """The server in each role for one case of `topology` (see TOPOLOGIES); `env`: a
    scenario's extra server environment (e.g. the leak check's test hooks)."""
    env = dict(env or {})
    if topology == "redis2":
        return {"baseline": Server("burnchat", mode, log_dir / f"{mode}-{case}-1proc.log", env=env),
                "burnchat": ServerGroup(mode, log_dir / f"{mode}-{case}-redis2.log", count=2)}
    if topology == "tuning":
        return {kind: Server("burnchat", mode, log_dir / f"{mode}-{case}-tuning-{kind}.log",
                             env={**env, "BURNCHAT_STACK_TUNING": tuning})
                for kind, tuning in tuning_env().items()}
    return {kind: Server(kind, mode, log_dir / f"{mode}-{case}-{kind}.log", env=env) for kind in KINDS}


def _measure(work, kinds, servers, pools, preset, logs):
    """Start the servers of `kinds`, point their pools at them, run `work`; always clean up."""
    started = time.monotonic()
    try:
        for kind in kinds:
            servers[kind].start()
            pools[kind].broadcast("configure", url=servers[kind].url, urls=servers[kind].urls,
                                  keyed=servers[kind].keyed, text_bytes=preset.text_bytes)
        results = work()
        for kind in kinds:
            if not servers[kind].alive():
                raise RuntimeError(f"the {kind} server died during the run; see {servers[kind].log_path}")
    except Exception as error:  # noqa: BLE001 - recorded, the invocation goes on
        for kind in kinds:
            logs[kind]("FAILED: " + "".join(traceback.format_exception_only(error)).strip())
        results = {kind: {"error": f"{type(error).__name__}: {error}"} for kind in kinds}
    finally:
        for kind in kinds:
            servers[kind].stop()
            pools[kind].broadcast("close_all")
    for kind in kinds:
        results[kind]["seconds"] = round(time.monotonic() - started, 1)
        logs[kind](f"done in {results[kind]['seconds']} s")
    return results


def _logger(label):
    """A progress-line printer for one server of one case (stderr, so stdout stays the tables)."""
    def log(line):
        """Print one line, labelled."""
        sys.stderr.write(f"{label} {line}\n")
        sys.stderr.flush()
    return log


def _utc_now():
    """The current UTC time, ISO 8601 to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
