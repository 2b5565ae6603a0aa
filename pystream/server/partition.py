"""One partition as the broker serves it: the native log plus broker policy.

`Partition` validates and appends produce payloads (the native layer checks
CRCs, assigns offsets and stamps LogAppendTime in one coarse call), applies
idempotent-producer sequence checks before anything is written, serves
reads as `FileSlice`s for zero-copy sends, and wakes long-polling fetches
when data arrives. On a single node the high watermark is the log end
offset: every append is "replicated" once written.

Appends to one partition are serialized by an asyncio lock; the write of a
large one may run on a worker thread (see `write_placement`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pystream import _native
from pystream.protocol.errors import ErrorCode
from pystream.protocol.types import FileSlice
from pystream.server.config import BrokerConfig
from pystream.server.producer_state import ProducerStateManager
from pystream.server.write_placement import OFFLOOP_APPEND_BYTES, WRITE_PLACEMENT
from pystream.storage import PartitionLog

log = logging.getLogger(__name__)

__all__ = ["OFFLOOP_APPEND_BYTES", "AppendResult", "OwnedFileSlice", "Partition"]


@dataclass(frozen=True, slots=True)
class OwnedFileSlice(FileSlice):
    """A FileSlice that holds the native slice (and so its open file) alive."""

    owner: object = None


@dataclass
class AppendResult:
    error: ErrorCode = ErrorCode.NONE
    base_offset: int = -1
    log_append_time: int = -1
    log_start_offset: int = -1
    message: str | None = None


class Partition:
    def __init__(
        self, topic: str, index: int, plog: PartitionLog, path: Path, config: BrokerConfig
    ):
        self.topic = topic
        self.index = index
        self.log = plog
        self.path = path
        self.leader_epoch = 0
        self.max_message_bytes = int(config["message.max.bytes"])
        self.log_append_time = False
        self.producers = ProducerStateManager(path)
        self._waiters: set[asyncio.Future[None]] = set()
        self._snapshot_offset = -1
        self._append_lock = asyncio.Lock()
        self._flushing: asyncio.Future[None] | None = None
        self._flush_next: int | None = None  # a flush asked for while one runs (-1: all)

    @classmethod
    def open(
        cls, topic: str, index: int, plog: PartitionLog, path: Path, config: BrokerConfig
    ) -> Partition:
        p = cls(topic, index, plog, path, config)
        p.reload_config(plog.config)
        p._recover_producer_state()
        return p

    def reload_config(self, config: dict[str, Any]) -> None:
        self.max_message_bytes = int(config.get("max.message.bytes", self.max_message_bytes))
        self.log_append_time = config.get("message.timestamp.type") == "LogAppendTime"

    # ---- offsets ----
    @property
    def log_end_offset(self) -> int:
        return int(self.log.log_end_offset)

    @property
    def high_watermark(self) -> int:
        return self.log_end_offset

    @property
    def last_stable_offset(self) -> int:
        return self.high_watermark

    @property
    def log_start_offset(self) -> int:
        return int(self.log.log_start_offset)

    # ---- append ----
    def append(self, records: memoryview | bytes | None) -> AppendResult:
        """Validates and appends on the calling thread (internal writers, tools, tests)."""
        prepared = self._prepare(records)
        if isinstance(prepared, AppendResult):
            return prepared
        buf, info, now = prepared
        return self._complete(self._write(buf, info), info, now)

    async def append_async(self, records: memoryview | bytes | None) -> AppendResult:
        """The produce path: appends one at a time per partition. A large payload is
        written on the loop while the page cache takes writes quickly, and on a worker
        thread once the kernel starts throttling them (`write_placement`), so the event
        loop keeps receiving requests while a `pwrite` blocks for milliseconds."""
        async with self._append_lock:
            prepared = self._prepare(records)
            if isinstance(prepared, AppendResult):
                return prepared
            buf, info, now = prepared
            size = len(buf)
            if WRITE_PLACEMENT.on_loop(size) or self.topic.startswith("__"):
                started = time.perf_counter()
                appended = self._write(buf, info)
                if size >= OFFLOOP_APPEND_BYTES:
                    WRITE_PLACEMENT.record(time.perf_counter() - started)
            else:
                loop = asyncio.get_running_loop()
                appended, seconds = await loop.run_in_executor(None, self._timed_write, buf, info)
                WRITE_PLACEMENT.record(seconds)
            return self._complete(appended, info, now)

    def _prepare(
        self, records: memoryview | bytes | None
    ) -> AppendResult | tuple[memoryview | bytearray, Any, int]:
        """Checks, dedupes, validates and stamps: an error/duplicate result, or what to write."""
        if records is None or len(records) == 0:
            return AppendResult(ErrorCode.CORRUPT_MESSAGE, message="empty record set")
        try:
            batches = _native.read_batch_infos(records, verify_crc=False)
        except _native.NativeError as e:
            return AppendResult(ErrorCode.CORRUPT_MESSAGE, message=str(e))
        if len(batches) != 1:
            # Kafka's rule for Produce v3+: exactly one batch per partition.
            return AppendResult(
                ErrorCode.INVALID_RECORD,
                message=f"expected exactly one record batch per partition, got {len(batches)}",
            )
        for b in batches:
            check = self.producers.check(
                b.producer_id, b.producer_epoch, b.base_sequence, b.last_sequence
            )
            if check.duplicate is not None:
                return AppendResult(
                    base_offset=check.duplicate.first_offset,
                    log_start_offset=self.log_start_offset,
                )
            if check.error != ErrorCode.NONE:
                return AppendResult(check.error, log_start_offset=self.log_start_offset)
        # Large requests arrive in a writable buffer of their own (see
        # server/framing.py): validate and stamp in place, no copy.
        buf = (
            records
            if isinstance(records, memoryview) and not records.readonly
            else bytearray(records)
        )
        now = int(time.time() * 1000)
        try:
            info = _native.validate_and_assign(
                buf,
                self.log_end_offset,
                log_append_time_ms=now if self.log_append_time else None,
                partition_leader_epoch=self.leader_epoch,
                max_batch_bytes=self.max_message_bytes,
            )
        except _native.RecordTooLargeError as e:
            return AppendResult(ErrorCode.MESSAGE_TOO_LARGE, message=str(e))
        except _native.UnsupportedCompressionError as e:
            return AppendResult(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE, message=str(e))
        except _native.InvalidRecordError as e:
            return AppendResult(ErrorCode.INVALID_RECORD, message=str(e))
        except _native.CorruptRecordError as e:
            return AppendResult(ErrorCode.CORRUPT_MESSAGE, message=str(e))
        return buf, info, now

    def _write(self, buf: memoryview | bytearray, info: Any, *, detach: bool = False) -> Any:
        """The validated batch to the log; fsyncs that fall due go to `_complete`."""
        return self.log.append(
            buf,
            info.last_offset,
            info.max_timestamp,
            info.offset_of_max_timestamp,
            flush=False,
            detach=detach,
        )

    def _timed_write(self, buf: memoryview | bytearray, info: Any) -> tuple[Any, float]:
        """`_write` on a worker thread, without the GIL, and how long it took."""
        started = time.perf_counter()
        appended = self._write(buf, info, detach=True)
        return appended, time.perf_counter() - started

    def _complete(self, appended: Any, info: Any, now: int) -> AppendResult:
        if appended.flush_up_to is not None:
            self._flush_in_background(appended.flush_up_to)
        for a in info.batches:
            self.producers.update(
                a.producer_id,
                a.producer_epoch,
                a.base_sequence,
                a.last_sequence,
                a.base_offset,
                a.last_offset,
                now,
            )
        self._wake()
        return AppendResult(
            base_offset=info.first_offset,
            log_append_time=now if self.log_append_time else -1,
            log_start_offset=self.log_start_offset,
        )

    # ---- durability ----
    def _flush_in_background(self, up_to: int) -> None:
        """fsyncs up to `up_to` (-1: everything) on a worker thread, one flush at a time.

        A segment roll (or `flush.messages`) must not stall the event loop
        for the seconds a 1 GiB segment's fsync can take; the recovery point
        moves when the flush completes, exactly as a synchronous flush would.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (tools, tests): flush here
            self.log.flush(None if up_to < 0 else up_to)
            return
        if self._flushing is not None:
            pending = self._flush_next
            self._flush_next = -1 if -1 in (up_to, pending) else max(up_to, pending or 0)
            return
        self._flushing = loop.run_in_executor(None, self.log.flush, None if up_to < 0 else up_to)
        self._flushing.add_done_callback(self._flush_done)

    def _flush_done(self, fut: asyncio.Future[None]) -> None:
        self._flushing = None
        if not fut.cancelled() and (exc := fut.exception()) is not None:
            log.error("background flush of %s-%d failed: %s", self.topic, self.index, exc)
        if self._flush_next is not None:
            up_to, self._flush_next = self._flush_next, None
            self._flush_in_background(up_to)

    async def wait_flushed(self) -> None:
        """Waits for background flushes (shutdown, before the log is closed)."""
        while self._flushing is not None:
            await asyncio.wait([self._flushing])
            await asyncio.sleep(0)

    # ---- reads ----
    def read(self, offset: int, max_bytes: int, max_offset: int | None = None) -> FileSlice | None:
        """Whole batches from `offset`, as a slice of a segment file.

        The slice keeps the segment file open until it has been sent, even if
        retention deletes the segment meanwhile.
        """
        region = self.log.read(offset, max_bytes, max_offset)
        if region is None or region.length == 0:
            return None
        return OwnedFileSlice(region.fileno(), region.position, region.length, region)

    # ---- long poll ----
    def waiter(self) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(fut)
        return fut

    def discard_waiter(self, fut: asyncio.Future[None]) -> None:
        self._waiters.discard(fut)

    def _wake(self) -> None:
        if self._waiters:
            for fut in self._waiters:
                if not fut.done():
                    fut.set_result(None)
            self._waiters.clear()

    def close_waiters(self) -> None:
        self._wake()

    # ---- lifecycle ----
    def _recover_producer_state(self) -> None:
        """Snapshot, then the batches after it (headers only, one native call per chunk)."""
        start = max(self.producers.load_latest_snapshot(self.log_end_offset), self.log_start_offset)
        offset = start
        while offset < self.log_end_offset:
            data = self.log.read_bytes(offset, 8 << 20)
            if not data:
                break
            infos = _native.read_batch_infos(data, verify_crc=False, allow_partial_tail=True)
            if not infos:
                break
            for b in infos:
                if b.last_offset >= start:
                    self.producers.update(
                        b.producer_id,
                        b.producer_epoch,
                        b.base_sequence,
                        b.last_sequence,
                        b.base_offset,
                        b.last_offset,
                        b.max_timestamp,
                    )
                offset = b.last_offset + 1

    def maybe_snapshot_producers(self) -> None:
        """Snapshots producer state if the log grew since the last snapshot,
        so a crash replays only the batches after it."""
        end = self.log_end_offset
        if self.producers.producers and end != self._snapshot_offset:
            try:
                self.producers.write_snapshot(end)
                self._snapshot_offset = end
            except OSError as e:
                log.warning("producer snapshot of %s-%d failed: %s", self.topic, self.index, e)

    def close(self) -> None:
        self.close_waiters()
        try:
            self.producers.write_snapshot(self.log_end_offset)
        except OSError as e:
            log.warning(
                "could not write producer snapshot for %s-%d: %s", self.topic, self.index, e
            )
