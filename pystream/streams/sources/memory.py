"""`MemorySource`: rows added by the program (Spark's MemoryStream), for tests and examples.

Each `add_data` call appends rows to one partition; offsets are row positions. Call
`end_input()` to mark the source bounded, after which a query flushes its open windows.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from pystream.streams.batch import MicroBatch
from pystream.streams.sources.base import Offsets, Source


class MemorySource(Source):
    def __init__(
        self,
        schema: Mapping[str, str],
        *,
        name: str = "memory",
        partitions: int = 1,
        max_records_per_trigger: int | None = None,
        timestamp_column: str | None = None,
    ) -> None:
        self.schema, self.name = dict(schema), name
        self.max_records_per_trigger = max_records_per_trigger
        self.timestamp_column = timestamp_column
        self._parts: list[list[MicroBatch]] = [[] for _ in range(partitions)]
        self._sizes = [0] * partitions
        self._lock = threading.Lock()

    def add_data(self, rows: Sequence[Mapping[str, Any]] | MicroBatch, partition: int = 0) -> None:
        batch = rows if isinstance(rows, MicroBatch) else MicroBatch.from_pylist(rows, self.schema)
        if batch.names != list(self.schema):
            raise ValueError(f"rows have columns {batch.names}, the source has {list(self.schema)}")
        with self._lock:
            self._parts[partition].append(batch)
            self._sizes[partition] += batch.num_rows

    def end_input(self) -> None:
        self.bounded = True

    def initial_offsets(self) -> Offsets:
        return dict.fromkeys(range(len(self._parts)), 0)

    def latest_offsets(self) -> Offsets:
        with self._lock:
            return dict(enumerate(self._sizes))

    def offsets_for_timestamp(self, timestamp_ms: int) -> Offsets:
        if self.timestamp_column is None:
            raise ValueError("this MemorySource has no timestamp_column to search")
        out = {}
        for p in range(len(self._parts)):
            table = self._partition(p)
            if table.num_rows == 0:
                out[p] = 0
                continue
            ts = np.asarray(table[self.timestamp_column])
            later = np.flatnonzero(ts >= timestamp_ms)  # first record at or after, like ListOffsets
            out[p] = int(later[0]) if len(later) else table.num_rows
        return out

    def _partition(self, p: int) -> MicroBatch:
        with self._lock:
            parts = list(self._parts[p])
        return MicroBatch.concat(parts) if parts else MicroBatch.empty(self.schema)

    def _range(self, p: int, lo: int, hi: int) -> list[MicroBatch]:
        """Slices of the added batches covering offsets lo..hi-1 (no copies)."""
        with self._lock:
            parts = list(self._parts[p])
        out, base = [], 0
        for part in parts:
            top = base + part.num_rows
            if top > lo and base < hi:
                out.append(part.slice(max(lo - base, 0), min(hi, top) - base))
            base = top
            if base >= hi:
                break
        return out

    def read(self, start: Offsets, end: Offsets) -> MicroBatch:
        pieces = []
        for p in sorted(end):
            lo, hi = start.get(p, 0), end[p]
            if hi > lo:
                pieces.extend(self._range(p, lo, hi))
        return MicroBatch.concat(pieces) if pieces else MicroBatch.empty(self.schema)
