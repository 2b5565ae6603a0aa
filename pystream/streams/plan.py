"""The logical plan: a tree of operator nodes, and what one micro-batch run gives them.

A node takes its inputs' micro-batches for the current batch and returns its output batch.
Stateful nodes (aggregations, deduplication, joins) also snapshot and restore their state as
`MicroBatch` tables; the runtime stores those in the checkpoint directory after every batch.
Nodes get a stable `node_id` (position in a depth-first walk) when a query starts, so a
restarted query with the same plan finds its state again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from pystream.streams.batch import MicroBatch

if TYPE_CHECKING:
    from pystream.streams.sinks.base import Sink
    from pystream.streams.sources.base import Source

NO_WATERMARK = np.iinfo(np.int64).min
FINAL_WATERMARK = np.iinfo(np.int64).max


class OutputMode:
    APPEND = "append"
    UPDATE = "update"
    COMPLETE = "complete"
    ALL = (APPEND, UPDATE, COMPLETE)


@dataclass
class BatchContext:
    batch_id: int
    watermark: int  # event-time watermark in force for this batch (ms)
    output_mode: str
    source_batches: dict[str, MicroBatch]
    event_time_max: dict[int, int] = field(default_factory=dict)  # watermark node -> max seen
    late_rows: dict[int, list[MicroBatch]] = field(default_factory=dict)
    metrics: dict[str, int] = field(default_factory=dict)

    def count(self, metric: str, n: int) -> None:
        self.metrics[metric] = self.metrics.get(metric, 0) + n


class Node:
    stateful = False

    def __init__(self, *inputs: Node) -> None:
        self.inputs: list[Node] = list(inputs)
        self.node_id = -1

    @property
    def watermark(self) -> WatermarkNode | None:
        """The event-time watermark definition this node's rows carry, if any."""
        for node in self.inputs:
            wm = node.watermark
            if wm is not None:
                return wm
        return None

    def process(self, inputs: list[MicroBatch], ctx: BatchContext) -> MicroBatch:
        raise NotImplementedError

    def walk(self) -> Iterator[Node]:
        """Depth-first, inputs before the node; a node reachable twice is yielded once."""
        seen: set[int] = set()

        def visit(node: Node) -> Iterator[Node]:
            if id(node) in seen:
                return
            seen.add(id(node))
            for child in node.inputs:
                yield from visit(child)
            yield node

        yield from visit(self)

    # stateful nodes override these
    def snapshot(self) -> dict[str, MicroBatch]:
        return {}

    def restore(self, tables: dict[str, MicroBatch]) -> None:
        pass

    def check_output_mode(self, mode: str) -> None:
        pass

    def split_late(
        self, batch: MicroBatch, ctx: BatchContext, wm: WatermarkNode | None = None
    ) -> MicroBatch:
        """Rows at or above the watermark; late rows go to the watermark's late-data policy."""
        wm = wm or self.watermark
        if wm is None or ctx.watermark == NO_WATERMARK or batch.num_rows == 0:
            return batch
        ts = np.asarray(batch[wm.column])
        late = ts < ctx.watermark
        n_late = int(late.sum())
        if n_late:
            ctx.count("num_late_rows", n_late)
            if wm.late_sink is not None:
                ctx.late_rows.setdefault(wm.node_id, []).append(batch.filter(late))
            batch = batch.filter(~late)
        return batch


class SourceNode(Node):
    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source

    def process(self, inputs: list[MicroBatch], ctx: BatchContext) -> MicroBatch:
        return ctx.source_batches[self.source.name]


class WatermarkNode(Node):
    """`with_watermark(column, delay)`: watermark = max event time seen - delay.

    Rows pass through unchanged; stateful operators downstream drop (or send to
    `late_sink`) rows whose event time is below the watermark of the batch.
    """

    def __init__(self, child: Node, column: str, delay: int, late_sink: Sink | None = None) -> None:
        super().__init__(child)
        self.column, self.delay, self.late_sink = column, delay, late_sink

    @property
    def watermark(self) -> WatermarkNode | None:
        return self

    def process(self, inputs: list[MicroBatch], ctx: BatchContext) -> MicroBatch:
        batch = inputs[0]
        if batch.num_rows:
            ts = batch[self.column]
            if not isinstance(ts, np.ndarray) or ts.dtype.kind not in "iu":
                raise TypeError(f"event-time column {self.column!r} must hold int64 milliseconds")
            seen = int(ts.max())
            ctx.event_time_max[self.node_id] = max(ctx.event_time_max.get(self.node_id, seen), seen)
        return batch
