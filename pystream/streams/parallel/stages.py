"""A query plan cut into stages at its stateful operators, with a shuffle between stages.

Stage 0 (the map stage) runs every operator that no stateful operator precedes: sources,
decoding, filters, projections, watermarks. Each stateful operator starts a stage of its
own (a reduce stage) that runs it and the stateless operators after it, on the rows of the
keys its shuffle partition owns. Every edge into a stateful operator is an *exchange*: the
producing stage splits its output there into one bucket per shuffle partition by the XXH64
hash of the operator's key (`compute.hashing.partition_for`: aggregation keys, the
deduplication subset, the join keys of both sides), and the consuming stage reads its bucket
from every task of the producing stage. Stages run one after the other within a batch, so a
plan with k stateful operators (a windowed join, an aggregation after it, ...) is k + 1
stages, as in Spark.

Buckets are concatenated in task order and source partitions are handed to map tasks in
contiguous ranges (Kafka's range assignment, by the driver or by the consumer group), so
every key's rows reach its operator in the order one process reads them: first-row
semantics (deduplication, earliest ties) are the same with and without workers.

Refused: an operator that combines rows of different stages other than through a stateful
operator (for instance the union of an aggregation's output with raw events).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pystream.streams.batch import FlatColumn, MicroBatch, flat_column
from pystream.streams.operators.aggregate import Aggregate
from pystream.streams.operators.dedup import Deduplicate
from pystream.streams.operators.join import StreamStreamJoin
from pystream.streams.plan import Node


@dataclass
class Exchange:
    """The rows flowing from `producer` into input `side` of the stateful `consumer`."""

    producer: Node
    consumer: Node
    side: int

    @property
    def tag(self) -> str:
        return f"{self.consumer.node_id}.{self.side}"


@dataclass
class Stage:
    index: int
    nodes: list[Node]  # in plan order; for a reduce stage the stateful operator comes first
    stateful: Node | None  # None for the map stage
    inputs: list[Exchange] = field(default_factory=list)  # what a reduce stage reads
    outputs: list[Exchange] = field(default_factory=list)  # what this stage shuffles


@dataclass
class StagePlan:
    root: Node
    stages: list[Stage]

    @property
    def stateful(self) -> list[Node]:
        return [s.stateful for s in self.stages if s.stateful is not None]

    @property
    def final(self) -> Stage:
        return self.stages[-1]


def split_stages(nodes: list[Node], root: Node) -> StagePlan:
    """Cut `nodes` (inputs before users, as `Node.walk` gives them) into stages."""
    stateful = [n for n in nodes if n.stateful]
    for op in stateful:
        if not isinstance(op, (Aggregate, Deduplicate, StreamStreamJoin)):
            raise ValueError(f"{type(op).__name__} cannot run on workers yet")
    stage_of: dict[int, int] = {}
    stages = [Stage(0, [], None)] + [Stage(i + 1, [], op) for i, op in enumerate(stateful)]
    for node in nodes:
        if node.stateful:
            s = stateful.index(node) + 1
            for side, child in enumerate(node.inputs):
                ex = Exchange(child, node, side)
                stages[s].inputs.append(ex)
                stages[stage_of[id(child)]].outputs.append(ex)
        else:
            found = {stage_of[id(child)] for child in node.inputs}
            if len(found) > 1:
                raise ValueError(
                    f"on workers, {type(node).__name__} cannot combine rows from before and "
                    "after a stateful operator"
                )
            s = found.pop() if found else 0
        stage_of[id(node)] = s
        stages[s].nodes.append(node)
    if stage_of[id(root)] != len(stages) - 1:
        raise AssertionError("the root must be in the last stage")
    return StagePlan(root, stages)


def shuffle_keys(op: Node, side: int, batch: MicroBatch) -> list[FlatColumn]:
    """The columns whose hash picks a row's shuffle partition (none: all go to partition 0)."""
    if isinstance(op, Aggregate):
        return [flat_column(e.evaluate(batch)[0], e.name, "group by") for e in op.keys]
    if isinstance(op, Deduplicate):
        names = op.subset or batch.names
        return [flat_column(batch[k], k, "deduplicate on") for k in names]
    if isinstance(op, StreamStreamJoin):
        # integers of any width hash alike (as int64); both sides must agree on the kind
        return [flat_column(batch[k], k, "join on") for k in op.keys]
    raise AssertionError(f"no shuffle key for {type(op).__name__}")


def split_buckets(batch: MicroBatch, keys: list[FlatColumn], n: int) -> list[MicroBatch]:
    if n == 1 or batch.num_rows == 0 or not keys:
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
