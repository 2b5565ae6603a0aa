"""`ForeachBatchSink`: call user code with each batch and its id (Spark's foreachBatch)."""

from __future__ import annotations

from collections.abc import Callable

from pystream.streams.batch import MicroBatch
from pystream.streams.sinks.base import Sink


class ForeachBatchSink(Sink):
    def __init__(self, fn: Callable[[MicroBatch, int], None]) -> None:
        self.fn = fn

    def write(self, batch: MicroBatch, batch_id: int, mode: str) -> None:
        self.fn(batch, batch_id)
