"""A query plan split for worker processes: map stage, shuffle, reduce stage (Spark's model).

The map stage runs every operator before the stateful one (sources, decoding, filters,
projections, the watermark) on the source partitions a worker owns, then splits the
stateful operator's input into one bucket per reduce partition by the XXH64 hash of its
key (`compute.hashing.partition_for`). The reduce stage runs the stateful operator and what
follows it on one bucket from every map task, so each key's state lives in exactly one
worker. A plan without a stateful operator has no reduce stage.

Source partitions go to map tasks in contiguous ranges (Kafka's range assignment), so the
buckets concatenated in map order keep every key's rows in the order a single process
reads them: first-row semantics (deduplication, earliest ties) are the same.

Supported plans: at most one stateful operator with one input (aggregation or
deduplication); stream-stream joins and chained stateful operators are refused.
"""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pystream.streams.batch import Column, MicroBatch
from pystream.streams.execution import BatchPlan, run_nodes
from pystream.streams.operators.aggregate import Aggregate
from pystream.streams.operators.dedup import Deduplicate
from pystream.streams.plan import BatchContext, Node

if TYPE_CHECKING:
    from pystream.streams.checkpoint import CheckpointDir
    from pystream.streams.sources.base import Offsets, Source


@dataclass
class StagePlan:
    root: Node
    map_nodes: list[Node]
    stateful: Node | None
    reduce_nodes: list[Node]


def split_plan(nodes: list[Node], root: Node) -> StagePlan:
    stateful = [n for n in nodes if n.stateful]
    if not stateful:
        return StagePlan(root, list(nodes), None, [])
    if len(stateful) > 1:
        raise ValueError("a query on workers may have one stateful operator, not several")
    op = stateful[0]
    if not isinstance(op, (Aggregate, Deduplicate)):
        raise ValueError(
            f"{type(op).__name__} cannot run on workers yet (aggregations and drop_duplicates can)"
        )
    at = nodes.index(op)
    feeding = {id(n) for n in op.inputs[0].walk()}
    if any(id(n) not in feeding for n in nodes[:at]):
        raise ValueError("on workers, every operator before the stateful one must feed it")
    after = {id(op)}
    for node in nodes[at + 1 :]:
        if any(id(i) not in after for i in node.inputs):
            raise ValueError("on workers, operators after the stateful one must read only it")
        after.add(id(node))
    return StagePlan(root, nodes[:at], op, nodes[at:])


def shuffle_keys(op: Node, batch: MicroBatch) -> list[Column]:
    """The columns whose hash picks a row's reduce partition (none: all go to partition 0)."""
    if isinstance(op, Aggregate):
        return [expr.evaluate(batch)[0] for expr in op.keys]
    if isinstance(op, Deduplicate):
        return [batch[k] for k in (op.subset or batch.names)]
    raise AssertionError(f"no shuffle key for {type(op).__name__}")


def split_buckets(batch: MicroBatch, keys: list[Column], n: int) -> list[MicroBatch]:
    if n == 1 or batch.num_rows == 0:
        return [batch] + [batch.slice(0, 0)] * (n - 1)
    if not keys:
        return [batch] + [batch.slice(0, 0)] * (n - 1)
    from pystream.compute.hashing import partition_for

    parts = partition_for(keys, n)
    order = np.argsort(parts, kind="stable")  # stable: rows keep their order in a bucket
    bounds = np.searchsorted(parts[order], np.arange(n + 1))
    ordered = batch.take(order)
    return [ordered.slice(int(bounds[i]), int(bounds[i + 1])) for i in range(n)]


def range_assignment(partitions: list[int], index: int, count: int) -> list[int]:
    """Kafka's range assignor for one member: a contiguous run of the sorted partitions."""
    ordered = sorted(partitions)
    per, extra = divmod(len(ordered), count)
    start = index * per + min(index, extra)
    return ordered[start : start + per + (1 if index < extra else 0)]


@dataclass
class MapResult:
    num_input_rows: int
    event_time_max: dict[int, int]
    metrics: dict[str, int]
    output: MicroBatch | None  # the result itself when the plan has no stateful operator


@dataclass
class ReduceResult:
    output: MicroBatch
    late_rows: dict[int, list[MicroBatch]] = field(default_factory=dict)
    metrics: dict[str, int] = field(default_factory=dict)


def _bucket_path(directory: Path, batch_id: int, map_index: int, reduce_index: int) -> Path:
    return directory / f"b{batch_id}-m{map_index}-r{reduce_index}.pickle"


class StageRunner:
    """Runs map and reduce tasks of one query (in a worker, or in the driver)."""

    def __init__(
        self,
        stage: StagePlan,
        sources: dict[str, Source],
        checkpoint: CheckpointDir,
        output_mode: str,
        reduce_partitions: int,
        shuffle_dir: Path,
    ) -> None:
        self.stage, self.sources, self.checkpoint = stage, sources, checkpoint
        self.output_mode, self.reduce_partitions = output_mode, reduce_partitions
        self.shuffle_dir = shuffle_dir

    def map(
        self, entry: dict[str, Any], event_time_max: dict[int, int], index: int, count: int
    ) -> MapResult:
        plan = BatchPlan.from_entry(entry)
        batches = {}
        for name, src in self.sources.items():
            mine = range_assignment(list(plan.end[name]), index, count)
            end: Offsets = {p: plan.end[name][p] for p in mine}
            start = {p: plan.start.get(name, {}).get(p, 0) for p in mine}
            batches[name] = src.read(start, end)
        ctx = BatchContext(plan.batch_id, plan.watermark, self.output_mode, batches)
        ctx.event_time_max = dict(event_time_max)
        outputs = run_nodes(self.stage.map_nodes, ctx)
        rows = sum(b.num_rows for b in batches.values())
        op = self.stage.stateful
        if op is None:
            return MapResult(
                rows, ctx.event_time_max, ctx.metrics, outputs[self.stage.root.node_id]
            )
        feed = outputs[op.inputs[0].node_id]
        keys = shuffle_keys(op, feed) if feed.num_rows else []
        for r, bucket in enumerate(split_buckets(feed, keys, self.reduce_partitions)):
            path = _bucket_path(self.shuffle_dir, plan.batch_id, index, r)
            tmp = path.with_name(path.name + ".tmp")
            with open(tmp, "wb") as f:
                pickle.dump(bucket, f, protocol=5)
            os.replace(tmp, path)
        return MapResult(rows, ctx.event_time_max, ctx.metrics, None)

    def reduce(self, batch_id: int, watermark: int, maps: int, index: int) -> ReduceResult:
        op = self.stage.stateful
        assert op is not None
        pieces = []
        for m in range(maps):
            path = _bucket_path(self.shuffle_dir, batch_id, m, index)
            with open(path, "rb") as f:
                pieces.append(pickle.load(f))
            path.unlink()
        feed = MicroBatch.concat(pieces)
        ctx = BatchContext(batch_id, watermark, self.output_mode, {})
        outputs = run_nodes(self.stage.reduce_nodes, ctx, {op.inputs[0].node_id: feed})
        self.checkpoint.save_state(op.node_id, batch_id, op.snapshot(), partition=index)
        return ReduceResult(outputs[self.stage.root.node_id], ctx.late_rows, ctx.metrics)

    def restore(self, batch_id: int, index: int) -> None:
        op = self.stage.stateful
        if op is not None:
            tables = {} if batch_id < 0 else self.checkpoint.load_state(op.node_id, batch_id, index)
            op.restore(tables)

    def purge(self, keep_from: int, index: int) -> None:
        op = self.stage.stateful
        if op is not None:
            self.checkpoint.purge_state_before(op.node_id, keep_from, index)
