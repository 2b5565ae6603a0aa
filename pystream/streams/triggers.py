"""Triggers: when the runtime starts the next micro-batch.

- `Trigger.processing_time(interval)`: a batch every interval (0 = as fast as possible,
  the default: the next batch starts as soon as the previous one ends and data is there).
- `Trigger.once()`: one batch with everything available, then stop (no per-trigger cap).
- `Trigger.available_now()`: everything available at start, in as many batches as the
  per-trigger cap needs, then stop.
"""

from __future__ import annotations

from dataclasses import dataclass

from pystream.streams.windows import duration_ms


@dataclass(frozen=True)
class Trigger:
    kind: str
    interval_ms: int = 0

    @classmethod
    def processing_time(cls, interval: int | str = 0) -> Trigger:
        return cls("processing_time", duration_ms(interval))

    @classmethod
    def once(cls) -> Trigger:
        return cls("once")

    @classmethod
    def available_now(cls) -> Trigger:
        return cls("available_now")

    @property
    def stops_when_caught_up(self) -> bool:
        return self.kind in ("once", "available_now")
