"""The load-generator pool: a few processes (bench/loadgen.py) commanded over pipes.

Every command goes to all workers at once and the harness waits for every
answer, so the workers act in parallel and the harness stays a plain loop.
"""

import multiprocessing

from . import loadgen, procstat

QUIT_TIMEOUT_SECONDS = 30


class WorkerError(RuntimeError):
    """A worker's command failed; the message names the worker and the error."""


class WorkerPool:
    """`count` load-generator processes, started with `spawn` so each is a clean interpreter."""

    def __init__(self, count):
        context = multiprocessing.get_context("spawn")
        self._pipes = []
        self._processes = []
        for _ in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(target=loadgen.worker_main, args=(theirs,), daemon=True)
            process.start()
            theirs.close()
            self._pipes.append(ours)
            self._processes.append(process)

    def __len__(self):
        return len(self._pipes)

    @property
    def pids(self):
        """Process IDs of the workers (for their CPU time)."""
        return [process.pid for process in self._processes]

    def cpu_seconds(self):
        """CPU seconds all workers have used so far."""
        return procstat.total_cpu_seconds(self.pids)

    def scatter(self, command, kwargs_per_worker):
        """Send each worker its own arguments for `command`; return the answers in worker order."""
        for pipe, kwargs in zip(self._pipes, kwargs_per_worker):
            pipe.send((command, kwargs))
        answers = []
        for index, pipe in enumerate(self._pipes):
            status, value = pipe.recv()
            if status != "ok":
                answers.append(WorkerError(f"worker {index}: {command}: {value}"))
            else:
                answers.append(value)
        failures = [answer for answer in answers if isinstance(answer, WorkerError)]
        if failures:
            raise failures[0]
        return answers

    def broadcast(self, command, **kwargs):
        """The same command and arguments to every worker."""
        return self.scatter(command, [kwargs] * len(self))

    def close(self):
        """Ask every worker to quit (closing its sockets), then make sure it is gone."""
        for pipe in self._pipes:
            try:
                pipe.send(("quit", {}))
            except (BrokenPipeError, OSError):
                pass
        for process in self._processes:
            process.join(QUIT_TIMEOUT_SECONDS)
            if process.is_alive():
                process.terminate()
                process.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def split_evenly(items, parts):
    """Deal `items` round-robin into `parts` lists (rooms to workers)."""
    return [items[index::parts] for index in range(parts)]
