"""Worker processes and the pipes the driver talks to them through.

Workers are forked from the driver when a query starts, so they inherit the query plan
(user functions included) without pickling it; each then serves commands (restore state,
run a map task, run a reduce task, purge old state) one at a time until told to stop.
Commands and small results travel through a pipe; shuffle buckets go through files (see
`stages.StageRunner`). A worker that fails answers with its traceback, which the driver
raises as `WorkerError`; a worker that dies is reported the same way. Forking needs a
POSIX system; workers are daemons, so they never outlive the driver.
"""

from __future__ import annotations

import multiprocessing
import traceback
from multiprocessing.connection import Connection
from typing import Any

from pystream.streams.parallel.stages import StageRunner


class WorkerError(RuntimeError):
    """A worker process failed (its traceback is in the message) or died."""


def _serve(runner: StageRunner, index: int, count: int, conn: Connection) -> None:
    while True:
        try:
            command, args = conn.recv()
        except EOFError:
            return
        if command == "stop":
            conn.send(("ok", None))
            return
        try:
            result: Any = None
            if command == "map":
                entry, event_time_max = args
                result = runner.map(entry, event_time_max, index, count)
            elif command == "reduce":
                batch_id, watermark, maps = args
                result = runner.reduce(batch_id, watermark, maps, index)
            elif command == "restore":
                runner.restore(args[0], index)
            elif command == "purge":
                runner.purge(args[0], index)
            else:
                raise ValueError(f"unknown worker command {command!r}")
            conn.send(("ok", result))
        except BaseException:
            conn.send(("error", f"worker {index}: {traceback.format_exc()}"))


class WorkerPool:
    def __init__(self, runner: StageRunner, count: int) -> None:
        context = multiprocessing.get_context("fork")
        self.count = count
        self._conns: list[Connection] = []
        self._procs: list[Any] = []
        for i in range(count):
            parent, child = context.Pipe()
            proc = context.Process(
                target=_serve,
                args=(runner, i, count, child),
                name=f"stream-worker-{i}",
                daemon=True,
            )
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)

    def call(self, command: str, args: list[tuple[Any, ...]] | tuple[Any, ...]) -> list[Any]:
        """Send one command to every worker (the same args, or one tuple each); wait for all."""
        per_worker = args if isinstance(args, list) else [args] * self.count
        for conn, a in zip(self._conns, per_worker, strict=True):
            conn.send((command, a))
        results, errors = [], []
        for i, conn in enumerate(self._conns):
            try:
                status, value = conn.recv()
            except (EOFError, OSError):
                status, value = "error", f"worker {i} died (exit code {self._procs[i].exitcode})"
            if status == "ok":
                results.append(value)
            else:
                errors.append(value)
        if errors:
            raise WorkerError("\n".join(errors))
        return results

    def close(self) -> None:
        for conn in self._conns:
            try:
                conn.send(("stop", None))
            except (OSError, BrokenPipeError):
                pass
        for proc, conn in zip(self._procs, self._conns, strict=True):
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join(5)
            conn.close()
        self._conns, self._procs = [], []
