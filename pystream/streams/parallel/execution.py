"""`ParallelExecution`: the micro-batch protocol with worker processes doing the work.

The driver keeps everything that must be decided once per batch: the offsets log, the
watermark, the sink and the commit log; the checkpoint's format does not change, except
that state is saved per shuffle partition (`state/<node>/<worker>/<batch>.npz`) and
`shuffle_partitions` records the worker count, which a restart must keep.

Per batch: every worker runs a map task over its contiguous share of each source's
partitions (sources that only exist in the driver's memory, like `MemorySource`, are read
by the driver as the only map task); then every worker runs the reduce task of its shuffle
partition, saving that partition's state; the driver concatenates the reduce outputs,
writes them to the sink and commits. Source partitions are assigned by the driver rather
than through a consumer group because the offsets of every batch are fixed in the
checkpoint before any worker reads (a group rebalance cannot change what a batch holds).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from pystream.streams.batch import MicroBatch
from pystream.streams.checkpoint import CheckpointError, write_atomic
from pystream.streams.execution import BatchOutput, BatchPlan, MicroBatchExecution
from pystream.streams.parallel.stages import MapResult, ReduceResult, StageRunner, split_plan
from pystream.streams.parallel.workers import WorkerPool

SHUFFLE_FILE = "shuffle_partitions"


def _scratch_dir() -> str:
    shm = Path("/dev/shm")
    return tempfile.mkdtemp(prefix="pystream-shuffle-", dir=shm if shm.is_dir() else None)


class ParallelExecution(MicroBatchExecution):
    def __init__(self, *args: Any, workers: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if workers < 1:
            raise ValueError("workers must be >= 1")
        self.workers = workers
        self.stage = split_plan(self.nodes, self.plan)
        self._check_shuffle_partitions()
        self._pool: WorkerPool | None = None
        self._runner: StageRunner | None = None

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

    def run(self) -> None:
        scratch = Path(_scratch_dir())
        self._runner = StageRunner(
            self.stage, self.sources, self.checkpoint, self.output_mode, self.workers, scratch
        )
        self._pool = WorkerPool(self._runner, self.workers)
        try:
            super().run()
        finally:
            self._pool.close()
            self._pool = None
            shutil.rmtree(scratch, ignore_errors=True)

    def _reset_state(self) -> None:
        self.pool.call("restore", (-1,))

    def _restore_committed(self, batch_id: int, commit: dict[str, Any]) -> None:
        self._watermark = int(commit["next_watermark_ms"])
        self._event_time_max = {int(k): int(v) for k, v in commit.get("event_time_max", {}).items()}
        self.pool.call("restore", (batch_id,))

    def execute(self, plan: BatchPlan) -> BatchOutput:
        assert self._runner is not None
        entry = plan.to_entry()
        if all(getattr(src, "readable_in_workers", False) for src in self.sources.values()):
            maps: list[MapResult] = self.pool.call("map", (entry, self._event_time_max))
        else:
            maps = [self._runner.map(entry, self._event_time_max, 0, 1)]
        event_time_max: dict[int, int] = dict(self._event_time_max)
        metrics: dict[str, int] = {}
        for m in maps:
            for node_id, seen in m.event_time_max.items():
                event_time_max[node_id] = max(event_time_max.get(node_id, seen), seen)
            for metric, n in m.metrics.items():
                metrics[metric] = metrics.get(metric, 0) + n
        rows = sum(m.num_input_rows for m in maps)
        late: dict[int, list[MicroBatch]] = {}
        if self.stage.stateful is None:
            outputs = [m.output for m in maps if m.output is not None]
        else:
            reduces: list[ReduceResult] = self.pool.call(
                "reduce", (plan.batch_id, plan.watermark, len(maps))
            )
            outputs = [r.output for r in reduces]
            for r in reduces:
                for metric, n in r.metrics.items():
                    metrics[metric] = metrics.get(metric, 0) + n
                for node_id, rows_late in r.late_rows.items():
                    late.setdefault(node_id, []).extend(rows_late)
        return BatchOutput(rows, MicroBatch.concat(outputs), late, metrics, event_time_max)

    def save_state(self, batch_id: int) -> None:
        """Nothing to do: each worker saved its partition's state in its reduce task."""

    def _purge(self, batch_id: int) -> None:
        keep_from = batch_id - self.retain_batches + 1
        if keep_from <= 0:
            return
        self.checkpoint.offsets.purge_before(keep_from)
        self.checkpoint.commits.purge_before(keep_from)
        self.pool.call("purge", (keep_from,))
