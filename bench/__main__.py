"""`python -m bench run`: run the benchmark scenarios and write a JSON file and Markdown tables.

    python -m bench run                                   # everything: both modes, all scenarios
    python -m bench run --scenario relay --mode eventlet  # one scenario, one mode
    python -m bench run --preset smoke                    # seconds-long, tiny numbers (the test)
    python -m bench run --topology redis2 --scenario relay --scenario burn --mode eventlet --preset scaleout
                                                          # 2 processes + Redis against 1 process
"""

import argparse
import json
import shlex
import signal
import sys
from dataclasses import replace
from pathlib import Path

from . import goals, report, runner
from .presets import PRESETS

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def parse_args(argv):
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run scenarios against Burn Chat and the bare relay")
    run.add_argument("--scenario", action="append", choices=[*runner.SCENARIOS, "all"],
                     help="scenario to run (repeatable; default all)")
    run.add_argument("--mode", action="append", choices=["eventlet", "gevent"],
                     help="BURNCHAT_ASYNC_MODE to run under (repeatable; default both)")
    run.add_argument("--preset", choices=sorted(PRESETS), default="full")
    run.add_argument("--topology", choices=sorted(runner.TOPOLOGIES), default="single",
                     help="single: Burn Chat vs the bare relay; redis2: Burn Chat on 2 processes + "
                          "Redis vs Burn Chat on 1 process (ratios are 2-process/1-process); tuning: "
                          "Burn Chat with BENCH_TUNING_AFTER vs BENCH_TUNING_BEFORE (default: every "
                          "stack tuning vs none)")
    run.add_argument("--workers", type=int, help="load-generator processes (default: the preset's)")
    run.add_argument("--out", type=Path, default=RESULTS_DIR / "latest.json", help="JSON results file")
    run.add_argument("--markdown", type=Path, default=RESULTS_DIR / "latest.md",
                     help="Markdown tables file")
    return parser.parse_args(argv)


def main(argv=None):
    """Run, print the tables, write the files; exit 1 if any case failed."""
    argv = sys.argv[1:] if argv is None else argv
    # Stop like on Ctrl-C, so every server and worker is cleaned up.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    args = parse_args(argv)
    preset = PRESETS[args.preset]
    if args.workers:
        preset = replace(preset, workers=args.workers)
    scenarios = list(runner.SCENARIOS) if not args.scenario or "all" in args.scenario \
        else list(dict.fromkeys(args.scenario))
    modes = list(dict.fromkeys(args.mode or ["eventlet", "gevent"]))
    command = shlex.join(["python", "-m", "bench", *argv])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    results = runner.run_all(preset, modes, scenarios, args.out.parent / "logs", command,
                             checkpoint=lambda partial: _write_json(args.out, partial),
                             topology=args.topology)
    # The targets compare Burn Chat with the bare relay: only the single topology speaks to them.
    results["targets"] = goals.check(results) if args.topology == "single" else []
    _write_json(args.out, results)
    tables = report.render(results)
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    args.markdown.write_text(tables)
    print(tables)
    print(f"results: {args.out}\ntables: {args.markdown}")
    return 1 if _failures(results) else 0


def _write_json(path, results):
    """Write the results file (after every case too, so a late crash loses nothing)."""
    path.write_text(json.dumps(results, indent=1) + "\n")


def _failures(results):
    """Every case whose run failed."""
    return [(mode, case, kind)
            for mode, scenarios in results["runs"].items()
            for cases in scenarios.values()
            for case, outcome in cases.items()
            for kind in ("baseline", "burnchat", "node") if "error" in outcome.get(kind, {})]


if __name__ == "__main__":
    sys.exit(main())
