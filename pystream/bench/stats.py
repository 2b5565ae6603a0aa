"""Latency percentiles and throughput figures, computed the same way for every tool.

Percentiles use the nearest-rank definition (the smallest sample with at
least p% of the samples at or below it), so every reported value is a latency
that was actually observed. Megabytes are 2**20 bytes, as in Kafka's perf tools.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

MB = 1024 * 1024
PERCENTILES: tuple[tuple[str, float], ...] = (
    ("p50", 50.0),
    ("p95", 95.0),
    ("p99", 99.0),
    ("p99_9", 99.9),
)


def percentile(sorted_samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile of already sorted samples; `pct` is in (0, 100]."""
    if not sorted_samples:
        raise ValueError("percentile of no samples")
    if not 0.0 < pct <= 100.0:
        raise ValueError(f"percentile must be in (0, 100], got {pct}")
    # Round before ceil so that 99.9% of 1000 samples is rank 999, not 1000 via float error.
    rank = math.ceil(round(pct / 100.0 * len(sorted_samples), 9))
    return sorted_samples[max(rank, 1) - 1]


@dataclass(frozen=True)
class LatencySummary:
    """Latency distribution in milliseconds."""

    count: int
    mean: float
    p50: float
    p95: float
    p99: float
    p99_9: float
    max: float

    @classmethod
    def from_seconds(cls, samples: Sequence[float]) -> LatencySummary | None:
        """Summarise latencies given in seconds; None when there are no samples."""
        if not samples:
            return None
        ordered = sorted(samples)
        ms = 1000.0
        return cls(
            count=len(ordered),
            mean=math.fsum(ordered) / len(ordered) * ms,
            max=ordered[-1] * ms,
            **{name: percentile(ordered, pct) * ms for name, pct in PERCENTILES},
        )

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


@dataclass(frozen=True)
class Throughput:
    """Records and bytes moved over an interval."""

    records: int
    bytes: int
    seconds: float

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    @property
    def mb_per_s(self) -> float:
        return self.bytes / MB / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {
            "records": self.records,
            "bytes": self.bytes,
            "seconds": self.seconds,
            "records_per_s": self.records_per_s,
            "mb_per_s": self.mb_per_s,
        }


def median_and_spread(values: Sequence[float]) -> tuple[float, float, float]:
    """(median, min, max) of repeated measurements."""
    if not values:
        raise ValueError("median of no values")
    ordered = sorted(values)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return median, ordered[0], ordered[-1]
