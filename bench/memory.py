"""`python -m bench.memory`: where each idle member's memory goes, on Burn Chat and on the bare relay.

For each server kind, a fresh process runs under bench/traced.py. The harness
creates the rooms, takes snapshot 1 (which starts tracemalloc), opens `--members` members
through real sockets in rooms of `--room-size` (our members run the key
protocol, as in the members scenario), waits until all are keyed and idle,
and takes snapshot 2. The difference, divided by the members, is what one
idle member costs in Python allocations made since snapshot 1, grouped three ways:

* by package of the allocating line (eventlet, engineio, socketio, burnchat, stdlib...);
* by allocating line (tracemalloc's "lineno");
* by the innermost project line in the allocation's stack (burnchat/, app.py or
  bench/baseline.py), so allocations made deep in the stack on our behalf are
  charged to the line of ours that asked for them.

RSS per member is printed too, but tracemalloc's own bookkeeping inflates the
RSS of a traced process: compare it with the members scenario's only loosely.
The traced bytes leave out memory that never goes through Python's allocators
(the kernel's socket buffers are not in RSS either). Prints Markdown tables
and writes JSON.
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

import requests

from . import crowd
from .servers import ROOT, Server
from .workers import WorkerPool

RESULTS = Path(__file__).resolve().parent / "results" / "memory.json"
SNAPSHOT_TIMEOUT_SECONDS = 120
SETTLE_SECONDS = 2.0
ROOM_TTL_SECONDS = 3600
KINDS = ("baseline", "burnchat")
PROJECT = (str(ROOT / "burnchat") + os.sep, str(ROOT / "app.py"), str(ROOT / "bench" / "baseline.py"))
IGNORED = (tracemalloc.__file__, str(ROOT / "bench" / "traced.py"))


def parse_args(argv):
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--room-size", type=int, default=10)
    parser.add_argument("--mode", choices=["eventlet", "gevent"], default="eventlet")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--top", type=int, default=15, help="rows per table")
    parser.add_argument("--kind", action="append", choices=KINDS, help="server kinds (default both)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def main(argv=None):
    """Measure every kind, print the tables, write the JSON."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    kinds = list(dict.fromkeys(args.kind or KINDS))
    results = {"command": " ".join(["python", "-m", "bench.memory", *(argv or sys.argv[1:])]),
               "started_at": _utc_now(), "load_average_start": os.getloadavg()[0],
               "members": args.members, "room_size": args.room_size, "mode": args.mode, "kinds": {}}
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp, WorkerPool(args.workers) as pool:
        for kind in kinds:
            results["kinds"][kind] = measure(kind, args, pool, Path(tmp))
    results["load_average_end"] = os.getloadavg()[0]
    results["finished_at"] = _utc_now()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(render(results, args.top))
    print(f"results: {args.out}")
    return 0


def measure(kind, args, pool, tmp):
    """One kind's snapshots around opening the members, and their difference per member."""
    out = tmp / kind
    server = Server(kind, args.mode, tmp / f"{kind}.log", traced=True,
                    env={"BENCH_TRACEMALLOC_OUT": str(out)})
    server.start()
    try:
        pool.broadcast("configure", url=server.url, urls=server.urls, keyed=server.keyed, text_bytes=160)
        rooms = crowd.create_rooms(pool, -(-args.members // args.room_size), ROOM_TTL_SECONDS)
        time.sleep(SETTLE_SECONDS)
        before, rss_before = _snapshot(server, out, 1), server.rss_kb()
        opened = crowd.open_members(pool, rooms, args.room_size, 50, stop_on_error=True)
        if opened["error_count"]:
            raise RuntimeError(f"could not open members: {opened['errors']}")
        crowd.wait_ready(pool, 120)
        time.sleep(SETTLE_SECONDS)
        after, rss_after = _snapshot(server, out, 2), server.rss_kb()
        members = opened["opened"]
        if not server.alive():
            raise RuntimeError(f"the {kind} server died; see {server.log_path}")
    finally:
        server.stop()
        pool.broadcast("close_all")
    return {"members": members, "rss_per_member_kib": round((rss_after - rss_before) / members, 1),
            **breakdown(before, after, members)}


def _snapshot(server, out, number):
    """Signal the server for snapshot `number`, poke it awake, and load the file once written."""
    path = Path(f"{out}.{number}")
    os.kill(server.pid, signal.SIGUSR1)
    deadline = time.monotonic() + SNAPSHOT_TIMEOUT_SECONDS
    while not path.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"no snapshot {path} after {SNAPSHOT_TIMEOUT_SECONDS} s")
        try:   # a request wakes an idle hub so the signal handler runs now
            requests.get(server.url + "/", timeout=5)
        except requests.RequestException:
            pass
        time.sleep(0.2)
    snapshot = tracemalloc.Snapshot.load(str(path))
    return snapshot.filter_traces([tracemalloc.Filter(False, name) for name in IGNORED])


def breakdown(before, after, members):
    """Bytes (and blocks) per member of `after` minus `before`, by package, line and project line."""
    by_package, by_line, by_project = defaultdict(int), defaultdict(lambda: [0, 0]), defaultdict(int)
    total = 0
    for stat in after.compare_to(before, "traceback"):
        frames = list(stat.traceback)   # oldest first
        innermost = frames[-1]
        size = stat.size_diff
        total += size
        by_package[package_of(innermost.filename)] += size
        line = by_line[f"{short(innermost.filename)}:{innermost.lineno}"]
        line[0] += size
        line[1] += stat.count_diff
        ours = next((f for f in reversed(frames) if f.filename.startswith(PROJECT)), None)
        by_project["(no project frame in the stack)" if ours is None
                   else f"{short(ours.filename)}:{ours.lineno}"] += size
    per = members or 1
    return {
        "traced_bytes_per_member": round(total / per),
        "by_package": _ranked({k: v / per for k, v in by_package.items()}),
        "by_line": sorted(([k, round(v[0] / per), round(v[1] / per, 2)] for k, v in by_line.items()),
                          key=lambda row: -row[1]),
        "by_project_line": _ranked({k: v / per for k, v in by_project.items()}),
    }


def package_of(filename):
    """The top-level package (or stdlib module) a file belongs to."""
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    if str(path).startswith(str(ROOT)):
        return str(path.relative_to(ROOT).parts[0]).removesuffix(".py")
    return "stdlib:" + path.stem if path.suffix == ".py" else filename


def short(filename):
    """A file name relative to site-packages, the project or the stdlib."""
    parts = Path(filename).parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1:])
    if filename.startswith(str(ROOT)):
        return str(Path(filename).relative_to(ROOT))
    return Path(filename).name


def _ranked(values):
    """[(key, rounded value)] largest first."""
    return sorted(([k, round(v)] for k, v in values.items()), key=lambda row: -row[1])


def render(results, top):
    """The breakdown as Markdown."""
    kinds = results["kinds"]
    lines = [f"# Memory per idle member ({results['mode']}, {results['members']:,} members in rooms of "
             f"{results['room_size']})\n",
             f"* command: `{results['command']}`; {results['started_at']} - {results['finished_at']}, "
             f"load {results['load_average_start']:.2f} -> {results['load_average_end']:.2f}\n"]
    lines.append(_table(["figure", *kinds], [
        ["traced bytes per member", *(kinds[k]["traced_bytes_per_member"] for k in kinds)],
        ["RSS KiB per member (traced process)", *(kinds[k]["rss_per_member_kib"] for k in kinds)]]))
    packages = dict.fromkeys(p for k in kinds for p, _ in kinds[k]["by_package"][:top])
    values = {k: dict(kinds[k]["by_package"]) for k in kinds}
    head = ["package", *(f"{k} B/member" for k in kinds)]
    rows = [[p, *(values[k].get(p, 0) for k in kinds)] for p in packages]
    if len(kinds) == 2:
        head.append("difference")
        rows = [row + [row[2] - row[1]] for row in rows]
        rows.sort(key=lambda row: -abs(row[-1]))
    lines.append("\nBy package of the allocating line:\n\n" + _table(head, rows))
    for kind in kinds:
        lines.append(f"\n{kind}: top allocating lines (bytes, blocks per member):\n\n" + _table(
            ["line", "B/member", "blocks/member"], kinds[kind]["by_line"][:top]))
        lines.append(f"\n{kind}: by the innermost project line in the stack:\n\n" + _table(
            ["project line", "B/member"], kinds[kind]["by_project_line"][:top]))
    return "\n".join(lines)


def _table(head, rows):
    """A Markdown table."""
    text = ["| " + " | ".join(map(str, head)) + " |", "|" + "---|" * len(head)]
    return "\n".join(text + ["| " + " | ".join(map(str, row)) + " |" for row in rows]) + "\n"


def _utc_now():
    """The current UTC time, ISO 8601 to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


if __name__ == "__main__":
    sys.exit(main())
