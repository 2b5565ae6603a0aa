"""`ParallelExecution`: the micro-batch protocol with worker processes doing the work.

The driver keeps everything that must be decided once per batch: the offsets log, the
watermark, the sink and the commit log. The checkpoint's format does not change, except
that state is saved per shuffle partition (`state/<node>/<worker>/<batch>.npz`) and
`shuffle_partitions` records the worker count, which a restart must keep.

Per batch: the driver settles who reads which source partition (Kafka sources: the
consumer group's assignment, reconciled with the logged ranges in `assignment`; other
sources: the driver's range assignment; sources that only exist in the driver's memory,
like `MemorySource`, are read by the driver as the only map task); every worker runs its
map task; then each stage of the plan (`stages`) runs one task per worker, in order; the
driver concatenates the last stage's outputs, writes them to the sink and commits, then
the workers commit the batch's end offsets of the partitions they own to the group.

A worker that dies during a batch is forked again, every worker reloads the state of the
batch before, and the batch runs again with the same offsets, up to `max_worker_restarts`
times per batch: the sink sees the batch once, as if nothing had happened.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from pystream.streams.batch import MicroBatch
from pystream.streams.checkpoint import CheckpointError, write_atomic
from pystream.streams.execution import BatchOutput, BatchPlan, MicroBatchExecution
from pystream.streams.parallel.assignment import (
    GroupAssignmentError,
    needed_partitions,
    reconcile,
)
from pystream.streams.parallel.group import GroupSpec
from pystream.streams.parallel.stages import range_assignment, split_stages
from pystream.streams.parallel.tasks import Assignment, StageRunner, TaskResult
from pystream.streams.parallel.workers import WorkerLost, WorkerPool

log = logging.getLogger(__name__)

SHUFFLE_FILE = "shuffle_partitions"


def _scratch_dir() -> str:
    shm = Path("/dev/shm")
    return tempfile.mkdtemp(prefix="pystream-shuffle-", dir=shm if shm.is_dir() else None)


class ParallelExecution(MicroBatchExecution):
    max_worker_restarts = 3  # per batch; Spark's default spark.task.maxFailures is 4 attempts

    def __init__(self, *args: Any, workers: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = workers
        self.stage_plan = split_stages(self.nodes, self.plan)
        self.in_workers = all(
            getattr(src, "readable_in_workers", False) for src in self.sources.values()
        )
        self.group = self._group_spec() if self.in_workers else None
        self._check_shuffle_partitions()
        self._pool: WorkerPool | None = None
        self._runner: StageRunner | None = None
        self._scratch: Path | None = None

    # ---- set-up -------------------------------------------------------------------------
    def _group_spec(self) -> GroupSpec | None:
        from pystream.streams.sources.kafka import KafkaSource

        kafka = {n: s for n, s in self.sources.items() if isinstance(s, KafkaSource)}
        if not kafka:
            return None
        clusters = {str(s.bootstrap) for s in kafka.values()}
        if len(clusters) > 1:
            raise ValueError("on workers, the Kafka sources of a query must share one cluster")
        chosen = {s.group_id for s in kafka.values() if s.group_id}
        if len(chosen) > 1:
            raise ValueError(f"the Kafka sources name different groups {sorted(chosen)}")
        query = self.checkpoint.query_id
        first = next(iter(kafka.values()))
        bootstrap = first.bootstrap
        return GroupSpec(
            bootstrap=bootstrap if isinstance(bootstrap, str) else tuple(bootstrap),
            group_id=chosen.pop() if chosen else f"pystream-query-{query}",
            topics=tuple(sorted((n, s.topic) for n, s in kafka.items())),
            instance_prefix=f"pystream-{query}",
            commit=bool(any(s.group_id for s in kafka.values())),
        )

    def _check_shuffle_partitions(self) -> None:
        path = self.checkpoint.path / SHUFFLE_FILE
        if path.exists():
            known = int(path.read_text())
        elif self.checkpoint.commits.ids():
            known = 1  # written by a single-process run
        else:
            write_atomic(path, str(self.workers).encode())
            return
        if known != self.workers:
            raise CheckpointError(
                f"the checkpoint's state is split into {known} shuffle partition(s); "
                f"restart the query with workers={known} (or use a new checkpoint)"
            )

    @property
    def pool(self) -> WorkerPool:
        assert self._pool is not None, "workers are started by run()"
        return self._pool

    @property
    def worker_pids(self) -> list[int]:
        return self.pool.pids

    def run(self) -> None:
        self._scratch = Path(_scratch_dir())
        self._runner = StageRunner(
            self.stage_plan,
            self.sources,
            self.checkpoint,
            self.output_mode,
            self.workers,
            self._scratch,
        )
        self._pool = WorkerPool(self._runner, self.workers, self.group)
        try:
            super().run()
        finally:
            self._pool.close()
            self._pool = None
            shutil.rmtree(self._scratch, ignore_errors=True)

    # ---- worker failures ----------------------------------------------------------------
    def _revive(self, lost: list[int], state_batch: int) -> None:
        """Fork new workers for lost ones and put every worker on the state of `state_batch`."""
        for attempt in range(self.max_worker_restarts + 1):
            self.pool.respawn(lost)
            try:
                self.pool.call("restore", (state_batch,))
                return
            except WorkerLost as e:
                if attempt == self.max_worker_restarts:
                    raise
                lost = e.lost

    def _call(self, command: str, args: Any, state_batch: int) -> list[Any]:
        """`pool.call`, reviving workers that die (on the state of `state_batch`) once."""
        try:
            return self.pool.call(command, args)
        except WorkerLost as e:
            log.warning("%s; restarting them", e)
            self._revive(e.lost, state_batch)
            return self.pool.call(command, args)

    def _reset_state(self) -> None:
        self._call("restore", (-1,), -1)

    def _restore_committed(self, batch_id: int, commit: dict[str, Any]) -> None:
        self._watermark = int(commit["next_watermark_ms"])
        self._event_time_max = {int(k): int(v) for k, v in commit.get("event_time_max", {}).items()}
        self._call("restore", (batch_id,), batch_id)

    # ---- one batch ----------------------------------------------------------------------
    def execute(self, plan: BatchPlan) -> BatchOutput:
        attempt = 0
        while True:
            try:
                return self._execute_once(plan)
            except WorkerLost as e:
                if attempt >= self.max_worker_restarts:
                    raise
                attempt += 1
                log.warning("%s; running batch %d again on new workers", e, plan.batch_id)
                assert self._scratch is not None
                for path in self._scratch.glob(f"b{plan.batch_id}-*"):
                    path.unlink(missing_ok=True)
                self._revive(e.lost, plan.batch_id - 1)

    def _execute_once(self, plan: BatchPlan) -> BatchOutput:
        assert self._runner is not None
        entry, before = plan.to_entry(), self._event_time_max
        results: list[TaskResult]
        if self.in_workers:
            shares = self._assignments(plan)
            results = self.pool.call("map", [(entry, share, before) for share in shares])
        else:
            everything = {name: sorted(plan.end[name]) for name in self.sources}
            results = [self._runner.map(entry, everything, before, task=0)]
        producers = {ex.tag: len(results) for ex in self.stage_plan.stages[0].outputs}
        final = results
        for stage in self.stage_plan.stages[1:]:
            counts = [producers[ex.tag] for ex in stage.inputs]
            final = self.pool.call(
                "reduce", (stage.index, plan.batch_id, plan.watermark, counts, before)
            )
            results = results + final
            producers.update({ex.tag: self.workers for ex in stage.outputs})
        event_time_max: dict[int, int] = dict(before)
        metrics: dict[str, int] = {}
        late: dict[int, list[MicroBatch]] = {}
        for r in results:
            for node_id, seen in r.event_time_max.items():
                event_time_max[node_id] = max(event_time_max.get(node_id, seen), seen)
            for metric, n in r.metrics.items():
                metrics[metric] = metrics.get(metric, 0) + n
            for node_id, rows_late in r.late_rows.items():
                late.setdefault(node_id, []).extend(rows_late)
        outputs = [r.output for r in final if r.output is not None]
        rows = sum(r.num_input_rows for r in results)
        return BatchOutput(rows, MicroBatch.concat(outputs), late, metrics, event_time_max)

    def _assignments(self, plan: BatchPlan) -> list[Assignment]:
        """Per worker, source name -> the partitions its map task reads."""
        shares: list[Assignment] = [{} for _ in range(self.workers)]
        shared = self.group.topic_of if self.group else {}
        for name in self.sources:
            if name not in shared:
                for i, share in enumerate(shares):
                    share[name] = range_assignment(list(plan.end[name]), i, self.workers)
        if shared:
            needed = needed_partitions(plan.start, plan.end, shared)
            if any(needed.values()):
                owned = self._group_assignment(needed, plan.batch_id)
                for i, share in enumerate(shares):
                    for name, topic in shared.items():
                        share[name] = owned[i].get(topic, [])
        return shares

    def _group_assignment(
        self, needed: dict[str, set[int]], batch_id: int
    ) -> list[dict[str, list[int]]]:
        """Wait for the group to settle on an assignment that covers `needed`."""
        spec = self.group
        assert spec is not None
        deadline = time.monotonic() + 2 * spec.rebalance_timeout_ms / 1000
        rejoined = 0.0
        while True:
            replies = self._call("group", (1.0,), batch_id - 1)
            verdict = reconcile([state for state, _ in replies], needed)
            if verdict.plan is not None:
                return verdict.plan
            now = time.monotonic()
            if now > deadline:
                errors = sorted({err for _, err in replies if err})
                raise GroupAssignmentError(
                    f"consumer group {spec.group_id!r} does not settle on an assignment of "
                    f"this batch's partitions: {verdict.reason}"
                    + (f"; join errors: {errors}" if errors else "")
                    + f"; members: {self._describe_members(spec)}"
                )
            if verdict.missing and now - rejoined > 2.0:
                # settled but not covering: make the leader rejoin with fresh metadata
                self._call("rejoin", (), batch_id - 1)
                rejoined = now
            time.sleep(0.02)

    def _describe_members(self, spec: GroupSpec) -> str:
        from pystream.client.cluster import Cluster
        from pystream.client.group import GroupAdmin

        async def describe() -> str:
            cluster = Cluster(
                list(spec.bootstrap) if isinstance(spec.bootstrap, tuple) else spec.bootstrap
            )
            try:
                info = await GroupAdmin(cluster).describe_group(spec.group_id)
            finally:
                await cluster.close()
            return ", ".join(
                f"{m.group_instance_id or m.member_id} ({m.client_id}): {m.assignment}"
                for m in info.members
            )

        try:
            return asyncio.run(describe())
        except Exception as e:
            return f"(describe failed: {e})"

    # ---- after the commit ---------------------------------------------------------------
    def _commit_sources(self, plan: BatchPlan) -> None:
        shared = self.group.topic_of if self.group else {}
        for name, src in self.sources.items():
            if name not in shared:
                src.commit(plan.end[name])
        if self.group is not None and self.group.commit:
            ends = {name: plan.end[name] for name in shared}
            self._call("commit", (ends,), plan.batch_id)

    def save_state(self, batch_id: int) -> None:
        """Nothing to do: each worker saved its partition's state in its reduce tasks."""

    def _purge(self, batch_id: int) -> None:
        keep_from = batch_id - self.retain_batches + 1
        if keep_from <= 0:
            return
        self.checkpoint.offsets.purge_before(keep_from)
        self.checkpoint.commits.purge_before(keep_from)
        self._call("purge", (keep_from,), batch_id)
