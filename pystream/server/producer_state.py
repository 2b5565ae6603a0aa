"""Idempotent-producer state of one partition: sequence checks and dedup.

For each producer id the partition remembers its epoch and the metadata of
its last five batches (first/last sequence, first/last offset), as Kafka
does. A retried batch that matches one of them is answered with its
original offsets instead of being written twice; a gap in sequence numbers
is OUT_OF_ORDER_SEQUENCE_NUMBER; an older epoch is INVALID_PRODUCER_EPOCH.

The state survives restarts through a snapshot file in the partition dir
(`<20-digit offset>.snapshot`, JSON lines) written at clean shutdown and
periodically, and the log after the snapshot offset is replayed on open.
Not thread-safe: used from the event loop only.
"""

from __future__ import annotations

import json
import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from pystream.protocol.errors import ErrorCode

MAX_CACHED_BATCHES = 5
NO_PRODUCER_ID = -1
NO_EPOCH = -1
INT32_MAX = 2**31 - 1


@dataclass
class BatchMetadata:
    first_seq: int
    last_seq: int
    first_offset: int
    last_offset: int
    timestamp: int


@dataclass
class ProducerEntry:
    epoch: int = NO_EPOCH
    batches: deque[BatchMetadata] = field(default_factory=lambda: deque(maxlen=MAX_CACHED_BATCHES))
    last_timestamp: int = -1

    @property
    def last_seq(self) -> int:
        return self.batches[-1].last_seq if self.batches else -1


class SequenceCheck:
    """Outcome of checking one batch: an error, a duplicate, or fine."""

    __slots__ = ("duplicate", "error")

    def __init__(self, error: ErrorCode = ErrorCode.NONE, duplicate: BatchMetadata | None = None):
        self.error = error
        self.duplicate = duplicate


OK = SequenceCheck()


def _next_seq(seq: int) -> int:
    return 0 if seq == INT32_MAX else seq + 1


class ProducerStateManager:
    def __init__(self, partition_dir: Path) -> None:
        self.dir = partition_dir
        self.producers: dict[int, ProducerEntry] = {}

    def check(self, producer_id: int, epoch: int, first_seq: int, last_seq: int) -> SequenceCheck:
        if producer_id == NO_PRODUCER_ID:
            return OK
        entry = self.producers.get(producer_id)
        if entry is None or entry.epoch == NO_EPOCH:
            # Unknown producer (new, or its state expired with retention):
            # accept, as Kafka does since KIP-360.
            return OK
        if epoch < entry.epoch:
            return SequenceCheck(ErrorCode.INVALID_PRODUCER_EPOCH)
        if epoch > entry.epoch:
            if first_seq != 0:
                return SequenceCheck(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
            return OK
        for batch in entry.batches:
            if batch.first_seq == first_seq and batch.last_seq == last_seq:
                return SequenceCheck(duplicate=batch)
        if entry.batches and first_seq != _next_seq(entry.last_seq):
            return SequenceCheck(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER)
        return OK

    def update(
        self,
        producer_id: int,
        epoch: int,
        first_seq: int,
        last_seq: int,
        first_offset: int,
        last_offset: int,
        timestamp: int,
    ) -> None:
        if producer_id == NO_PRODUCER_ID:
            return
        entry = self.producers.get(producer_id)
        if entry is None:
            entry = self.producers[producer_id] = ProducerEntry()
        if epoch != entry.epoch:
            entry.epoch = epoch
            entry.batches.clear()
        entry.batches.append(
            BatchMetadata(first_seq, last_seq, first_offset, last_offset, timestamp)
        )
        entry.last_timestamp = timestamp

    def truncate_after(self, offset: int) -> None:
        """Forgets batches at or beyond `offset` (log truncation)."""
        for pid in list(self.producers):
            entry = self.producers[pid]
            kept = [b for b in entry.batches if b.last_offset < offset]
            entry.batches = deque(kept, maxlen=MAX_CACHED_BATCHES)
            if not kept:
                del self.producers[pid]

    def expire(self, now_ms: int, expiration_ms: int) -> None:
        for pid in [
            p for p, e in self.producers.items() if now_ms - e.last_timestamp > expiration_ms
        ]:
            del self.producers[pid]

    # ---- snapshots ----
    def snapshot_path(self, offset: int) -> Path:
        return self.dir / f"{offset:020d}.snapshot"

    def write_snapshot(self, offset: int) -> None:
        lines = [json.dumps({"version": 1, "offset": offset})]
        for pid, entry in self.producers.items():
            lines.append(
                json.dumps(
                    {
                        "pid": pid,
                        "epoch": entry.epoch,
                        "ts": entry.last_timestamp,
                        "batches": [
                            [b.first_seq, b.last_seq, b.first_offset, b.last_offset, b.timestamp]
                            for b in entry.batches
                        ],
                    }
                )
            )
        path = self.snapshot_path(offset)
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            f.write("\n".join(lines) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        for old in self.dir.glob("*.snapshot"):
            if old != path:
                old.unlink(missing_ok=True)

    def load_latest_snapshot(self, log_end_offset: int) -> int:
        """Loads the newest usable snapshot; returns the offset to replay from."""
        candidates = sorted(self.dir.glob("*.snapshot"), reverse=True)
        for path in candidates:
            try:
                offset = int(path.stem)
            except ValueError:
                continue
            if offset > log_end_offset:
                path.unlink(missing_ok=True)  # written past a truncated tail
                continue
            try:
                self._load(path)
                return offset
            except (OSError, ValueError, KeyError, TypeError):
                self.producers.clear()
                path.unlink(missing_ok=True)
        return 0

    def _load(self, path: Path) -> None:
        lines = path.read_text().splitlines()
        head = json.loads(lines[0])
        if head.get("version") != 1:
            raise ValueError("unknown snapshot version")
        for line in lines[1:]:
            if not line:
                continue
            item = json.loads(line)
            entry = ProducerEntry(epoch=int(item["epoch"]), last_timestamp=int(item["ts"]))
            for b in item["batches"]:
                entry.batches.append(BatchMetadata(*map(int, b)))
            self.producers[int(item["pid"])] = entry
