"""`StageRunner`: runs one task of a stage (in a worker process, or in the driver).

A map task reads the source partitions it was handed for the batch's logged range and runs
stage 0; a reduce task of stage s reads bucket `task` of every exchange into the stage's
stateful operator (one file per producing task), runs the operator and what follows it, and
saves the operator's state for its shuffle partition as `state/<node>/<task>/<batch>.npz`.
Either kind writes its own output exchanges as buckets, or returns the query's output when
it runs the last stage. Buckets are pickled `MicroBatch`es in a scratch directory
(`/dev/shm` where there is one), written to a temporary name and renamed.

Each worker holds the state of every stateful operator for its shuffle partition, so
`restore` and `purge` act on all of them.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pystream.streams.batch import MicroBatch
from pystream.streams.execution import BatchPlan, run_nodes
from pystream.streams.parallel.stages import Exchange, Stage, StagePlan, shuffle_keys, split_buckets
from pystream.streams.plan import BatchContext

if TYPE_CHECKING:
    from pystream.streams.checkpoint import CheckpointDir
    from pystream.streams.sources.base import Offsets, Source

# source name -> partitions one map task reads
Assignment = dict[str, list[int]]


@dataclass
class TaskResult:
    num_input_rows: int = 0
    event_time_max: dict[int, int] = field(default_factory=dict)
    metrics: dict[str, int] = field(default_factory=dict)
    late_rows: dict[int, list[MicroBatch]] = field(default_factory=dict)
    output: MicroBatch | None = None  # the query's rows, from tasks of the last stage


def bucket_path(directory: Path, batch_id: int, ex: Exchange, producer: int, task: int) -> Path:
    return directory / f"b{batch_id}-x{ex.tag}-m{producer}-r{task}.pickle"


class StageRunner:
    def __init__(
        self,
        plan: StagePlan,
        sources: dict[str, Source],
        checkpoint: CheckpointDir,
        output_mode: str,
        partitions: int,
        shuffle_dir: Path,
    ) -> None:
        self.plan, self.sources, self.checkpoint = plan, sources, checkpoint
        self.output_mode, self.partitions, self.shuffle_dir = output_mode, partitions, shuffle_dir

    def _finish(
        self,
        stage: Stage,
        ctx: BatchContext,
        outputs: dict[int, MicroBatch],
        task: int,
        rows: int = 0,
    ) -> TaskResult:
        for ex in stage.outputs:
            feed = outputs[ex.producer.node_id]
            keys = shuffle_keys(ex.consumer, ex.side, feed) if feed.num_rows else []
            for r, bucket in enumerate(split_buckets(feed, keys, self.partitions)):
                path = bucket_path(self.shuffle_dir, ctx.batch_id, ex, task, r)
                tmp = path.with_name(path.name + ".tmp")
                with open(tmp, "wb") as f:
                    pickle.dump(bucket, f, protocol=5)
                os.replace(tmp, path)
        last = stage is self.plan.final
        return TaskResult(
            rows,
            ctx.event_time_max,
            ctx.metrics,
            ctx.late_rows,
            outputs[self.plan.root.node_id] if last else None,
        )

    def map(
        self,
        entry: dict[str, Any],
        assignment: Assignment,
        event_time_max: dict[int, int],
        task: int,
    ) -> TaskResult:
        """Stage 0 over the partitions in `assignment` (each source's logged range)."""
        plan = BatchPlan.from_entry(entry)
        batches = {}
        for name, src in self.sources.items():
            mine = assignment.get(name, [])
            end: Offsets = {p: plan.end[name][p] for p in mine}
            start = {p: plan.start.get(name, {}).get(p, 0) for p in mine}
            batches[name] = src.read(start, end)
        ctx = BatchContext(plan.batch_id, plan.watermark, self.output_mode, batches)
        ctx.event_time_max = dict(event_time_max)
        outputs = run_nodes(self.plan.stages[0].nodes, ctx)
        rows = sum(b.num_rows for b in batches.values())
        return self._finish(self.plan.stages[0], ctx, outputs, task, rows)

    def reduce(
        self,
        stage_index: int,
        batch_id: int,
        watermark: int,
        producers: list[int],
        event_time_max: dict[int, int],
        task: int,
    ) -> TaskResult:
        """Reduce task `task` of a stage; `producers` counts the tasks behind each input."""
        stage = self.plan.stages[stage_index]
        op = stage.stateful
        assert op is not None
        feeds: dict[int, MicroBatch] = {}
        for ex, count in zip(stage.inputs, producers, strict=True):
            pieces = []
            for m in range(count):
                path = bucket_path(self.shuffle_dir, batch_id, ex, m, task)
                with open(path, "rb") as f:
                    pieces.append(pickle.load(f))
            feeds[ex.producer.node_id] = MicroBatch.concat(pieces)
        ctx = BatchContext(batch_id, watermark, self.output_mode, {})
        ctx.event_time_max = dict(event_time_max)
        outputs = run_nodes(stage.nodes, ctx, feeds)
        self.checkpoint.save_state(op.node_id, batch_id, op.snapshot(), partition=task)
        for ex, count in zip(stage.inputs, producers, strict=True):
            for m in range(count):
                bucket_path(self.shuffle_dir, batch_id, ex, m, task).unlink(missing_ok=True)
        return self._finish(stage, ctx, outputs, task)

    def restore(self, batch_id: int, task: int) -> None:
        """State of every stateful operator after `batch_id` (-1: empty), for partition `task`."""
        for op in self.plan.stateful:
            tables = {} if batch_id < 0 else self.checkpoint.load_state(op.node_id, batch_id, task)
            op.restore(tables)

    def purge(self, keep_from: int, task: int) -> None:
        for op in self.plan.stateful:
            self.checkpoint.purge_state_before(op.node_id, keep_from, task)
