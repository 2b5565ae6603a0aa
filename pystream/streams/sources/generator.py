"""Generator sources: rows computed from their offsets, for tests and benchmarks.

`GeneratorSource` calls `generate(partition, start, end)` for each partition's range; the
function must be pure (same range, same rows) so replays after a failure are exact. With
`rows_per_second` the source releases rows as wall-clock time passes (like Spark's rate
source); without it, every row up to `total` is available at once and the source is bounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import numpy as np

from pystream.streams.batch import MicroBatch
from pystream.streams.sources.base import Offsets, Source

Generate = Callable[[int, int, int], MicroBatch]


class GeneratorSource(Source):
    readable_in_workers = True

    def __init__(
        self,
        generate: Generate,
        schema: Mapping[str, str],
        *,
        name: str = "generator",
        partitions: int = 1,
        total: int | None = None,
        rows_per_second: float | None = None,
        max_records_per_trigger: int | None = None,
    ) -> None:
        if total is None and rows_per_second is None:
            raise ValueError("a generator needs `total` rows, `rows_per_second`, or both")
        if partitions < 1:
            raise ValueError("partitions must be >= 1")
        self.generate, self.schema, self.name = generate, dict(schema), name
        self.partitions, self.total, self.rows_per_second = partitions, total, rows_per_second
        self.max_records_per_trigger = max_records_per_trigger
        self.bounded = total is not None
        self._started = time.monotonic()

    def _partition_total(self, p: int, total: int) -> int:
        # rows are dealt round-robin: partition p holds rows p, p + n, p + 2n, ...
        return max(0, (total - p + self.partitions - 1) // self.partitions)

    def initial_offsets(self) -> Offsets:
        return dict.fromkeys(range(self.partitions), 0)

    def latest_offsets(self) -> Offsets:
        available = self.total if self.total is not None else 1 << 62
        if self.rows_per_second is not None:
            released = int((time.monotonic() - self._started) * self.rows_per_second)
            available = min(available, released)
        return {p: self._partition_total(p, available) for p in range(self.partitions)}

    def read(self, start: Offsets, end: Offsets) -> MicroBatch:
        parts = [
            self.generate(p, start.get(p, 0), end[p])
            for p in sorted(end)
            if end[p] > start.get(p, 0)
        ]
        if not parts:
            return MicroBatch.empty(self.schema)
        return MicroBatch.concat(parts)


def rate_source(
    rows_per_second: float | None = None,
    *,
    total: int | None = None,
    partitions: int = 1,
    start_ms: int = 0,
    name: str = "rate",
    max_records_per_trigger: int | None = None,
) -> GeneratorSource:
    """Rows (timestamp, value): value n is emitted at start_ms + n / rows_per_second seconds."""
    rate = rows_per_second or 1000.0

    def generate(p: int, start: int, end: int) -> MicroBatch:
        value = np.arange(start, end, dtype=np.int64) * partitions + p
        ts = start_ms + (value * 1000 / rate).astype(np.int64)
        return MicroBatch({"timestamp": ts, "value": value})

    return GeneratorSource(
        generate,
        {"timestamp": "int64", "value": "int64"},
        name=name,
        partitions=partitions,
        total=total,
        rows_per_second=rows_per_second,
        max_records_per_trigger=max_records_per_trigger,
    )
