"""Worker processes and the pipes the driver talks to them through.

Workers are forked from the driver, so they inherit the query plan (user functions
included) without pickling it; each serves commands one at a time until told to stop:
restore state, run a map or reduce task, purge old state, and, when the query reads Kafka
sources, report its consumer-group assignment, rejoin the group or commit offsets (see
`group`). Commands and small results travel through a pipe; shuffle buckets go through
files (see `tasks`).

A worker whose code fails answers with its traceback, raised in the driver as
`WorkerError`, which fails the query. A worker that dies (killed, out of memory) is
reported as `WorkerLost`; the driver can `respawn` it, forked afresh with the same index,
and run the batch again (see `execution`). Forking needs a POSIX system; workers are
daemons, and a worker whose driver is gone exits when its pipe closes.
"""

from __future__ import annotations

import multiprocessing
import os
import traceback
from multiprocessing.connection import Connection
from typing import Any

from pystream.streams.parallel.group import GroupSpec, WorkerMembership
from pystream.streams.parallel.tasks import StageRunner


class WorkerError(RuntimeError):
    """A worker process failed (its traceback is in the message) or died."""


class WorkerLost(WorkerError):
    """Worker processes died while running a command; `lost` holds their indexes."""

    def __init__(self, message: str, lost: list[int]) -> None:
        super().__init__(message)
        self.lost = lost


class _Worker:
    def __init__(self, runner: StageRunner, group: GroupSpec | None, index: int) -> None:
        self.runner, self.group, self.index = runner, group, index
        self._membership: WorkerMembership | None = None

    @property
    def membership(self) -> WorkerMembership:
        if self.group is None:
            raise ValueError("this query's sources are not shared through a consumer group")
        if self._membership is None:
            self._membership = WorkerMembership(self.group, self.index)
        return self._membership

    def handle(self, command: str, args: tuple[Any, ...]) -> Any:
        runner, i = self.runner, self.index
        if command == "map":
            entry, assignment, event_time_max = args
            return runner.map(entry, assignment, event_time_max, i)
        if command == "reduce":
            stage, batch_id, watermark, producers, event_time_max = args
            return runner.reduce(stage, batch_id, watermark, producers, event_time_max, i)
        if command == "restore":
            return runner.restore(args[0], i)
        if command == "purge":
            return runner.purge(args[0], i)
        if command == "group":
            state = self.membership.current(args[0])
            return state, self.membership.last_error
        if command == "rejoin":
            return self.membership.rejoin()
        if command == "commit":
            return self.membership.commit(args[0])
        raise ValueError(f"unknown worker command {command!r}")

    def close(self) -> None:
        if self._membership is not None:
            self._membership.close()


def _serve(
    runner: StageRunner,
    group: GroupSpec | None,
    index: int,
    conn: Connection,
    inherited: list[Connection],
    driver: int,
) -> None:
    # A forked child holds copies of the driver's pipe ends (its own and earlier workers'):
    # closed here, so that a worker sees end-of-file as soon as its driver is gone.
    for other in inherited:
        other.close()
    worker = _Worker(runner, group, index)
    try:
        while True:
            try:
                while not conn.poll(1.0):
                    if os.getppid() != driver:  # the driver died: nobody will ask again
                        return
                command, args = conn.recv()
            except EOFError:
                return
            if command == "stop":
                worker.close()
                conn.send(("ok", None))
                return
            try:
                conn.send(("ok", worker.handle(command, args)))
            except BaseException:
                conn.send(("error", f"worker {index}: {traceback.format_exc()}"))
    finally:
        worker.close()


class WorkerPool:
    def __init__(self, runner: StageRunner, count: int, group: GroupSpec | None = None) -> None:
        self.runner, self.count, self.group = runner, count, group
        self._context = multiprocessing.get_context("fork")
        self._conns: list[Connection | None] = [None] * count
        self._procs: list[Any] = [None] * count
        for i in range(count):
            self._start(i)

    def _start(self, i: int) -> None:
        parent, child = self._context.Pipe()
        inherited = [c for c in self._conns if c is not None] + [parent]
        proc = self._context.Process(
            target=_serve,
            args=(self.runner, self.group, i, child, inherited, os.getpid()),
            name=f"stream-worker-{i}",
            daemon=True,
        )
        proc.start()
        child.close()
        self._conns[i], self._procs[i] = parent, proc

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self._procs]

    def respawn(self, lost: list[int]) -> None:
        """Fork new workers in place of dead ones (they start with empty state)."""
        for i in lost:
            proc, conn = self._procs[i], self._conns[i]
            if proc is not None:
                if proc.is_alive():
                    proc.kill()
                proc.join(5)
            if conn is not None:
                conn.close()
            self._start(i)

    def call(self, command: str, args: list[tuple[Any, ...]] | tuple[Any, ...]) -> list[Any]:
        """Send one command to every worker (the same args, or one tuple each); wait for all."""
        per_worker = args if isinstance(args, list) else [args] * self.count
        sent: list[bool] = []
        for conn, a in zip(self._conns, per_worker, strict=True):
            try:
                assert conn is not None
                conn.send((command, a))
                sent.append(True)
            except (OSError, AssertionError):
                sent.append(False)
        results: list[Any] = []
        errors: list[str] = []
        lost: list[int] = []
        for i, conn in enumerate(self._conns):
            try:
                if not sent[i] or conn is None:
                    raise EOFError
                status, value = conn.recv()
            except (EOFError, OSError):
                lost.append(i)
                results.append(None)
                continue
            results.append(value if status == "ok" else None)
            if status != "ok":
                errors.append(value)
        if errors:
            raise WorkerError("\n".join(errors))
        if lost:
            codes = [self._procs[i].exitcode if self._procs[i] else None for i in lost]
            raise WorkerLost(f"workers {lost} died (exit codes {codes}) during {command!r}", lost)
        return results

    def close(self) -> None:
        for conn in self._conns:
            try:
                if conn is not None:
                    conn.send(("stop", None))
            except OSError:
                pass
        for i, (proc, conn) in enumerate(zip(self._procs, self._conns, strict=True)):
            if proc is not None:
                proc.join(15)
                if proc.is_alive():
                    proc.terminate()
                    proc.join(5)
            if conn is not None:
                conn.close()
            self._conns[i] = self._procs[i] = None
