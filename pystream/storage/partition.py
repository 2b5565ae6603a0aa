"""`PartitionLog`: one partition's log as the rest of pystream sees it.

A thin wrapper that holds exactly one native handle (`_native.PartitionLog`)
plus the partition's name and `LogConfig`. Every method is one native call;
the native log is safe to call from several threads (the asyncio thread and
executors) and releases the GIL for fsync, retention and big copies.
ListOffsets' special timestamps are resolved here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pystream import _native
from pystream.storage.config import LogConfig

# ListOffsets special timestamps (Kafka's ListOffsetsRequest constants).
LATEST_TIMESTAMP = -1
EARLIEST_TIMESTAMP = -2
MAX_TIMESTAMP = -3
EARLIEST_LOCAL_TIMESTAMP = -4


class PartitionLog:
    """The log of `topic`-`partition` in `path`."""

    def __init__(
        self, topic: str, partition: int, native: _native.PartitionLog, config: LogConfig
    ) -> None:
        self.topic = topic
        self.partition = partition
        self.native = native
        self._config = config

    @classmethod
    def open(
        cls,
        path: Path,
        topic: str,
        partition: int,
        config: LogConfig,
        *,
        recovery_point: int = 0,
        log_start_offset: int = 0,
    ) -> tuple[PartitionLog, _native.RecoveryReport]:
        """Opens (creating if needed) and recovers the log in `path`."""
        native, report = _native.PartitionLog.open(
            str(path),
            recovery_point=recovery_point,
            log_start_offset=log_start_offset,
            **config.native_kwargs(),
        )
        return cls(topic, partition, native, config), report

    # ---- config ----
    @property
    def log_config(self) -> LogConfig:
        return self._config

    @property
    def config(self) -> dict[str, Any]:
        """The effective config under Kafka's names."""
        return self._config.to_dict()

    def update_config(self, config: LogConfig) -> None:
        self.native.update_config(**config.native_kwargs())
        self._config = config

    # ---- offsets ----
    @property
    def path(self) -> Path:
        return Path(self.native.dir)

    @property
    def log_start_offset(self) -> int:
        return self.native.log_start_offset

    @property
    def log_end_offset(self) -> int:
        return self.native.log_end_offset

    @property
    def recovery_point(self) -> int:
        return self.native.recovery_point

    @property
    def size_in_bytes(self) -> int:
        return self.native.size_in_bytes

    @property
    def segment_base_offsets(self) -> list[int]:
        return self.native.segment_base_offsets

    @property
    def last_flush_ms(self) -> int:
        return self.native.last_flush_ms

    # ---- append / read ----
    def append(
        self,
        data: bytes | bytearray | memoryview,
        last_offset: int | None = None,
        max_timestamp: int | None = None,
        offset_of_max_timestamp: int | None = None,
        *,
        flush: bool = True,
        detach: bool = False,
    ) -> _native.LogAppendInfo:
        """Appends validated, offset-assigned batches (see `_native`).

        A roll (or `flush.messages`) fsyncs before returning; with
        `flush=False` the caller does it, up to `info.flush_up_to` (-1: all).
        `detach=True` writes without the GIL (for callers on a worker thread;
        the buffer must not change meanwhile).
        """
        return self.native.append(
            data, last_offset, max_timestamp, offset_of_max_timestamp, flush=flush, detach=detach
        )

    def read(
        self, start_offset: int, max_bytes: int, max_offset: int | None = None
    ) -> _native.LogSlice | None:
        """Whole batches from `start_offset` as a file slice, or None."""
        return self.native.read(start_offset, max_bytes, max_offset)

    def read_bytes(self, start_offset: int, max_bytes: int, max_offset: int | None = None) -> bytes:
        return self.native.read_bytes(start_offset, max_bytes, max_offset)

    def lookup(self, offset: int) -> tuple[int, int] | None:
        """`(segment base offset, position)` of the batch holding `offset`."""
        return self.native.lookup(offset)

    def offset_for_timestamp(self, timestamp: int) -> tuple[int, int] | None:
        """ListOffsets: `(offset, timestamp)` for a timestamp or one of the
        special values (-1 latest, -2 earliest, -3 max timestamp, -4
        earliest local); None when no record qualifies."""
        if timestamp == LATEST_TIMESTAMP:
            return (self.log_end_offset, -1)
        if timestamp in (EARLIEST_TIMESTAMP, EARLIEST_LOCAL_TIMESTAMP):
            return (self.log_start_offset, -1)
        if timestamp == MAX_TIMESTAMP:
            ts, offset = self.native.max_timestamp_and_offset()
            return None if ts < 0 else (offset, ts)
        if timestamp < 0:
            raise ValueError(f"unsupported ListOffsets timestamp {timestamp}")
        return self.native.offset_for_timestamp(timestamp)

    # ---- removal ----
    def truncate_to(self, offset: int) -> bool:
        return self.native.truncate_to(offset)

    def truncate_fully_and_start_at(self, offset: int) -> None:
        self.native.truncate_fully_and_start_at(offset)

    def delete_records(self, before_offset: int) -> int:
        return self.native.delete_records(before_offset)

    def enforce_retention(
        self, *, now_ms: int | None = None, high_watermark: int | None = None
    ) -> _native.RetentionResult:
        return self.native.enforce_retention(now_ms=now_ms, high_watermark=high_watermark)

    # ---- durability ----
    def flush(self, up_to: int | None = None) -> None:
        self.native.flush(up_to)

    def roll(self) -> int:
        return self.native.roll()

    def close(self) -> None:
        self.native.close()

    # ---- leader epochs ----
    def assign_leader_epoch(self, epoch: int, start_offset: int) -> bool:
        return self.native.assign_leader_epoch(epoch, start_offset)

    def end_offset_for_leader_epoch(self, epoch: int) -> tuple[int, int]:
        return self.native.end_offset_for_leader_epoch(epoch)

    @property
    def latest_leader_epoch(self) -> int | None:
        return self.native.latest_leader_epoch

    def __repr__(self) -> str:
        return f"PartitionLog({self.topic}-{self.partition}, {self.native!r})"
