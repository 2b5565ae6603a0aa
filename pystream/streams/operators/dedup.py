"""Streaming deduplication: emit the first row of each key, drop later rows with that key.

State is a columnar table of the keys seen so far, with the event time of their first row
when the stream has a watermark. Keys whose first event time is below the watermark are
evicted (and rows that late are dropped before they reach the operator), so the state
stays bounded; without a watermark every key is remembered forever, as in Spark.
"""

from __future__ import annotations

import numpy as np

from pystream.compute import grouping
from pystream.streams.batch import MicroBatch, flat_column
from pystream.streams.operators.chaining import check_chain
from pystream.streams.plan import NO_WATERMARK, BatchContext, Node, OutputMode

TS = "__first_event_time"


class Deduplicate(Node):
    stateful = True

    def __init__(self, child: Node, subset: list[str] | None) -> None:
        super().__init__(child)
        self.subset = subset
        self.seen: MicroBatch | None = None

    def check_output_mode(self, mode: str) -> None:
        check_chain(self, mode)
        if mode == OutputMode.COMPLETE:
            raise ValueError("deduplication produces new rows only: use append or update mode")

    def snapshot(self) -> dict[str, MicroBatch]:
        return {} if self.seen is None else {"seen": self.seen}

    def restore(self, tables: dict[str, MicroBatch]) -> None:
        self.seen = tables.get("seen")

    def process(self, inputs: list[MicroBatch], ctx: BatchContext) -> MicroBatch:
        batch = self.split_late(inputs[0], ctx)
        wm = self.watermark
        if self.seen is not None and wm is not None and ctx.watermark != NO_WATERMARK:
            self.seen = self.seen.filter(np.asarray(self.seen[TS]) >= ctx.watermark)
        if batch.num_rows == 0:
            return batch
        keys = self.subset or batch.names
        fresh = batch.select(keys)
        if wm is not None:
            fresh = fresh.with_columns({TS: np.asarray(batch[wm.column], dtype=np.int64)})
        old_rows = 0 if self.seen is None else self.seen.num_rows
        table = fresh if self.seen is None else MicroBatch.concat([self.seen, fresh])
        groups = grouping.factorize(
            [flat_column(table[k], k, "deduplicate on") for k in keys],
            [table.valid.get(k) for k in keys],
        )
        firsts = np.sort(groups.first[groups.first >= old_rows]) - old_rows
        self.seen = table.take(np.sort(groups.first))
        ctx.count("state_rows", self.seen.num_rows)
        return batch.take(firsts)
