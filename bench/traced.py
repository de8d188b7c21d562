"""Run a server script under tracemalloc: `python bench/traced.py app.py` (bench/memory.py does).

Tracing starts at the first SIGUSR1, not at start-up: the harness only ever
looks at what was allocated after its first snapshot and is still alive at a
later one, and a process traced from its first import starts several times
slower. Each SIGUSR1 runs a full garbage collection and writes a snapshot to
BENCH_TRACEMALLOC_OUT.N (N = 1, 2, ...), renamed into place once complete, so
the harness can wait for the file.
Traces keep BENCH_TRACEMALLOC_FRAMES frames (default 16), enough to find the
project line behind an allocation made deep in the stack.
"""

import gc
import os
import runpy
import signal
import sys
import tracemalloc


def main():
    """Start tracing, arm the snapshot signal, and run the script as __main__."""
    out = os.environ["BENCH_TRACEMALLOC_OUT"]
    frames = int(os.environ.get("BENCH_TRACEMALLOC_FRAMES", "16"))
    taken = []

    def snapshot(signum, frame):
        """Collect garbage (and start tracing, the first time), then write the next snapshot file."""
        taken.append(signum)
        gc.collect()
        if not tracemalloc.is_tracing():
            tracemalloc.start(frames)
        path = f"{out}.{len(taken)}"
        tracemalloc.take_snapshot().dump(path + ".part")
        os.replace(path + ".part", path)

    signal.signal(signal.SIGUSR1, snapshot)
    target = os.path.abspath(sys.argv[1])
    sys.argv = sys.argv[1:]
    sys.path[0] = os.path.dirname(target)   # as if the script had been run directly
    runpy.run_path(target, run_name="__main__")


if __name__ == "__main__":
    main()
