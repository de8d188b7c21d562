"""One invocation: for each async mode and scenario, Burn Chat and the bare relay on fresh processes.

Each server kind has its own load-generator pool. The relay scenario runs both
servers at once and interleaves their load steps; the others run the bare
relay first, then Burn Chat. A case that fails is written down with its error
and the invocation goes on.
"""

import sys
import time
import traceback
from contextlib import ExitStack

from . import machine
from .cluster import ServerGroup
from .scenarios import burn, members, relay, timers
from .servers import Server
from .workers import WorkerPool

SCENARIOS = {"relay": relay, "members": members, "burn": burn, "timers": timers}
KINDS = ("baseline", "burnchat")
# What stands in each role. "single": Burn Chat against the bare relay. "redis2": Burn
# Chat on 2 processes + Redis (role "burnchat") against Burn Chat on 1 process (role
# "baseline"), so every ratio reads 2-process / 1-process.
TOPOLOGIES = {
    "single": {"baseline": "bare relay (1 process)", "burnchat": "Burn Chat (1 process)"},
    "redis2": {"baseline": "Burn Chat, 1 process", "burnchat": "Burn Chat, 2 processes + Redis"},
}


def run_all(preset, modes, scenario_names, log_dir, command, checkpoint=lambda results: None,
            topology="single"):
    """Run every case and return the results document; `checkpoint` gets it after every case."""
    results = {"command": command, "preset": preset.name, "machine": machine.describe(),
               "load_average_start": machine.load_average(), "started_at": _utc_now(),
               "topology": topology, "roles": TOPOLOGIES[topology], "runs": {}}
    with ExitStack() as stack:
        pools = {kind: stack.enter_context(WorkerPool(preset.workers)) for kind in KINDS}
        for mode in modes:
            for name in scenario_names:
                module = SCENARIOS[name]
                for case in module.cases(preset):
                    outcome = run_case(module, case, mode, pools, preset, log_dir, topology)
                    results["runs"].setdefault(mode, {}).setdefault(name, {})[case] = outcome
                    checkpoint(results)
    results["load_average_end"] = machine.load_average()
    results["finished_at"] = _utc_now()
    return results


def run_case(module, case, mode, pools, preset, log_dir, topology="single"):
    """Both servers' results for one case, and their ratios when both worked."""
    servers = make_servers(topology, mode, case, log_dir)
    logs = {kind: _logger(f"[{mode} {case} {kind}]") for kind in KINDS}
    if module.PAIRED:
        outcome = _measure(lambda: module.run_pair(case, servers, pools, preset, logs),
                           KINDS, servers, pools, preset, logs)
    else:
        outcome = {}
        for kind in KINDS:
            outcome.update(_measure(
                lambda kind=kind: {kind: module.run(case, servers[kind], pools[kind], preset, logs[kind])},
                (kind,), servers, pools, preset, logs))
    if not any("error" in outcome[kind] for kind in KINDS):
        outcome["ratios"] = module.compare(outcome["burnchat"], outcome["baseline"])
    return outcome


def make_servers(topology, mode, case, log_dir):
    """The server in each role for one case of `topology` (see TOPOLOGIES)."""
    if topology == "redis2":
        return {"baseline": Server("burnchat", mode, log_dir / f"{mode}-{case}-1proc.log"),
                "burnchat": ServerGroup(mode, log_dir / f"{mode}-{case}-redis2.log", count=2)}
    return {kind: Server(kind, mode, log_dir / f"{mode}-{case}-{kind}.log") for kind in KINDS}


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
