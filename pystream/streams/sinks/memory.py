"""`MemorySink`: keeps every batch's output by batch id (for tests and interactive use)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from pystream.streams.batch import MicroBatch
from pystream.streams.sinks.base import Sink


class MemorySink(Sink):
    def __init__(self) -> None:
        self.batches: dict[int, MicroBatch] = {}
        self.writes = 0  # counts replays too, so tests can see a batch written twice
        self._lock = threading.Lock()

    def write(self, batch: MicroBatch, batch_id: int, mode: str) -> None:
        with self._lock:
            self.batches[batch_id] = batch
            self.writes += 1

    def rows(self) -> list[dict[str, Any]]:
        """Every row written, in batch order (what an append-mode consumer sees)."""
        with self._lock:
            return [r for i in sorted(self.batches) for r in self.batches[i].to_pylist()]

    def last(self) -> list[dict[str, Any]]:
        """The most recent batch (the whole result table in complete mode)."""
        with self._lock:
            return self.batches[max(self.batches)].to_pylist() if self.batches else []

    def table(self, keys: Sequence[str]) -> dict[tuple[Any, ...], dict[str, Any]]:
        """Rows upserted by key in batch order (what an update-mode consumer sees)."""
        out: dict[tuple[Any, ...], dict[str, Any]] = {}
        for row in self.rows():
            out[tuple(row[k] for k in keys)] = row
        return out
