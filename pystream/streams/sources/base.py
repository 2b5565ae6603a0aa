"""The `Source` interface the runtime reads micro-batches through.

A source has partitions, each an ordered sequence of records numbered by offset (Kafka's
model). The runtime asks for the offsets available now, picks an end for the batch (applying
the per-trigger cap), writes the range to the offsets log, then calls `read(start, end)`.
`read` must return the same rows for the same range every time: that is what lets a batch
that was logged but never committed run again after a crash.

Offsets are `{partition: offset}`; `end` is exclusive. A Kafka topic source (through
`pystream.client`) and the embedded-log source (`pystream.storage`, read through mmap) are
meant to implement this same interface; the runtime needs nothing else from them.
"""

from __future__ import annotations

from typing import Any

from pystream.streams.batch import MicroBatch

Offsets = dict[int, int]


class Source:
    name: str = "source"
    schema: dict[str, str] = {}
    bounded = False  # True when the source will never have more records than it has now
    max_records_per_trigger: int | None = None
    # True when a forked worker process can read any range itself (the records live outside
    # this process or are computed from offsets); otherwise the driver reads for workers.
    readable_in_workers = False

    def initial_offsets(self) -> Offsets:
        raise NotImplementedError

    def latest_offsets(self) -> Offsets:
        raise NotImplementedError

    def read(self, start: Offsets, end: Offsets) -> MicroBatch:
        raise NotImplementedError

    def commit(self, end: Offsets) -> None:
        """Called after a batch committed (e.g. to commit consumer-group offsets)."""

    def close(self) -> None:
        """Called once when the query stops: release connections, maps and threads."""

    def offsets_for_timestamp(self, timestamp_ms: int) -> Offsets:
        raise NotImplementedError(f"{type(self).__name__} cannot start from a timestamp")

    def resolve_starting_offsets(self, spec: Any) -> Offsets:
        """'earliest', 'latest', {'timestamp': ms} or an explicit {partition: offset}."""
        if spec in (None, "earliest"):
            return self.initial_offsets()
        if spec == "latest":
            return self.latest_offsets()
        if isinstance(spec, dict) and set(spec) == {"timestamp"}:
            return self.offsets_for_timestamp(int(spec["timestamp"]))
        if isinstance(spec, dict):
            latest = self.latest_offsets()
            unknown = set(spec) - set(latest)
            if unknown:
                raise ValueError(f"starting offsets name unknown partitions {sorted(unknown)}")
            return {p: int(spec.get(p, off)) for p, off in self.initial_offsets().items()}
        raise ValueError(f"cannot read starting offsets {spec!r}")


def cap_offsets(start: Offsets, latest: Offsets, cap: int | None) -> Offsets:
    """End offsets advancing at most `cap` records in total, shared fairly between partitions.

    Each round gives every partition with records left an equal share of what remains, so a
    partition with little data does not hold back the others (Spark's maxOffsetsPerTrigger).
    """
    end = {p: max(latest.get(p, off), off) for p, off in start.items()}
    for p, off in latest.items():
        end.setdefault(p, off)
    if cap is None:
        return end
    budget = cap
    cur = {p: start.get(p, 0) for p in end}
    while budget > 0:
        open_parts = [p for p in end if cur[p] < end[p]]
        if not open_parts:
            break
        share = max(budget // len(open_parts), 1)
        for p in sorted(open_parts):
            take = min(share, end[p] - cur[p], budget)
            cur[p] += take
            budget -= take
            if budget == 0:
                break
    return cur


def total_records(start: Offsets, end: Offsets) -> int:
    return sum(end[p] - start.get(p, 0) for p in end)


def encode_offsets(offsets: Offsets) -> dict[str, int]:
    return {str(p): int(o) for p, o in sorted(offsets.items())}


def decode_offsets(data: dict[str, int]) -> Offsets:
    return {int(p): int(o) for p, o in data.items()}
