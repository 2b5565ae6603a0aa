"""Where the coordinator's records live: the partitions of `__consumer_offsets`.

A group belongs to partition `abs(hashCode(group_id)) % partitions`, with
Java's String.hashCode and Kafka's `Utils.abs` (MIN_VALUE maps to 0), so a
group lands on the same partition as on a Kafka cluster with the same
partition count.

`CoordinatorStore` is what the coordinator needs: append a few records to
one partition, and read a partition back keeping only the latest value of
each key (what compaction would leave). `TopicStore` is the real one over
the broker's log; `MemoryStore` serves unit tests.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from pystream.protocol.errors import ErrorCode

if TYPE_CHECKING:
    from pystream.server.broker import Broker
    from pystream.server.partition import Partition

log = logging.getLogger(__name__)

OFFSETS_TOPIC = "__consumer_offsets"
# Kafka's defaults for the offsets topic (offsets.topic.segment.bytes, compact).
OFFSETS_TOPIC_CONFIGS = {"cleanup.policy": "compact", "segment.bytes": str(100 * 1024 * 1024)}
READ_CHUNK_BYTES = 8 << 20

Record = tuple[bytes, bytes | None]


def java_string_hash(text: str) -> int:
    """Java's String.hashCode: over UTF-16 code units, wrapping at 32 bits."""
    h = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def partition_for(group_id: str, partitions: int) -> int:
    h = java_string_hash(group_id)
    return (0 if h == -(1 << 31) else abs(h)) % partitions


class StoreError(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class CoordinatorStore(Protocol):
    num_partitions: int

    def append(self, partition: int, records: list[Record]) -> None:
        """Appends records durably enough to be read back after a restart."""

    def read_latest(self, partition: int) -> dict[bytes, bytes | None]:
        """Key -> latest value (None for a tombstone), in first-write order."""
        ...

    def offsets(self, partition: int) -> tuple[int, int]:
        """(log start offset, log end offset) of the partition."""
        ...

    async def delete_before(self, partition: int, offset: int) -> None:
        """Moves the log start offset up to `offset` (used by compaction)."""


class MemoryStore:
    """An in-memory store (unit tests); `fail` makes appends raise."""

    def __init__(self, num_partitions: int = 50) -> None:
        self.num_partitions = num_partitions
        self.logs: dict[int, list[Record]] = {}
        self.base: dict[int, int] = {}  # offset of logs[p][0]
        self.fail: ErrorCode | None = None

    def append(self, partition: int, records: list[Record]) -> None:
        if self.fail is not None:
            raise StoreError(self.fail, "injected failure")
        self.logs.setdefault(partition, []).extend(records)

    def read_latest(self, partition: int) -> dict[bytes, bytes | None]:
        latest: dict[bytes, bytes | None] = {}
        for key, value in self.logs.get(partition, ()):
            latest[key] = value
        return latest

    def offsets(self, partition: int) -> tuple[int, int]:
        base = self.base.get(partition, 0)
        return base, base + len(self.logs.get(partition, ()))

    async def delete_before(self, partition: int, offset: int) -> None:
        base = self.base.get(partition, 0)
        drop = max(0, offset - base)
        self.logs[partition] = self.logs.get(partition, [])[drop:]
        self.base[partition] = base + drop


async def ensure_offsets_topic(broker: Broker, num_partitions: int) -> None:
    """Creates `__consumer_offsets` if missing, its files made off the event loop."""
    from pystream.server.topics import TopicError

    registry = broker.topics
    assert registry is not None
    if registry.get(OFFSETS_TOPIC) is not None:
        return
    try:
        await registry.create_async(
            OFFSETS_TOPIC, num_partitions, OFFSETS_TOPIC_CONFIGS, broker.run_blocking
        )
    except TopicError as e:
        if e.code == ErrorCode.TOPIC_ALREADY_EXISTS:
            return
        if e.code != ErrorCode.INVALID_CONFIG:
            raise
        log.warning("offsets topic configs refused (%s); creating without them", e)
        await registry.create_async(OFFSETS_TOPIC, num_partitions, None, broker.run_blocking)


class TopicStore:
    """The broker's `__consumer_offsets` topic, created on first use."""

    def __init__(self, broker: Broker, num_partitions: int) -> None:
        self.broker = broker
        self.num_partitions = num_partitions
        self._ensure_topic()

    def _ensure_topic(self) -> None:
        from pystream.server.topics import TopicError

        registry = self.broker.topics
        assert registry is not None
        topic = registry.get(OFFSETS_TOPIC)
        if topic is None:
            try:
                topic = registry.create(OFFSETS_TOPIC, self.num_partitions, OFFSETS_TOPIC_CONFIGS)
            except TopicError as e:
                if e.code != ErrorCode.INVALID_CONFIG:
                    raise
                log.warning("offsets topic configs refused (%s); creating without them", e)
                topic = registry.create(OFFSETS_TOPIC, self.num_partitions)
        # An existing topic's partition count wins over the config, as in Kafka.
        self.num_partitions = len(topic.partitions)

    def _partition(self, index: int) -> Partition:
        registry = self.broker.topics
        part = None if registry is None else registry.partition(OFFSETS_TOPIC, index)
        if part is None:
            raise StoreError(
                ErrorCode.COORDINATOR_NOT_AVAILABLE, f"{OFFSETS_TOPIC}-{index} is not available"
            )
        return part

    def append(self, partition: int, records: list[Record]) -> None:
        from pystream import _native

        now = int(time.time() * 1000)
        batch = _native.build_batch([(k, v, now, None) for k, v in records])
        result = self._partition(partition).append(batch)
        if result.error != ErrorCode.NONE:
            # Kafka maps storage failures of coordinator writes to these codes
            # so clients retry (or re-find the coordinator) rather than give up.
            code = (
                ErrorCode.INVALID_COMMIT_OFFSET_SIZE
                if result.error in (ErrorCode.MESSAGE_TOO_LARGE, ErrorCode.RECORD_LIST_TOO_LARGE)
                else ErrorCode.COORDINATOR_NOT_AVAILABLE
            )
            raise StoreError(code, f"append to {OFFSETS_TOPIC}-{partition}: {result.message}")

    def offsets(self, partition: int) -> tuple[int, int]:
        part = self._partition(partition)
        return part.log_start_offset, part.log_end_offset

    async def delete_before(self, partition: int, offset: int) -> None:
        part = self._partition(partition)
        await self.broker.run_blocking(part.log.delete_records, offset)

    def read_latest(self, partition: int) -> dict[bytes, bytes | None]:
        from pystream import _native

        part = self._partition(partition)
        latest: dict[bytes, bytes | None] = {}
        offset = part.log_start_offset
        end = part.log_end_offset
        while offset < end:
            data = part.log.read_bytes(offset, READ_CHUNK_BYTES)
            if not data:
                break
            infos = _native.read_batch_infos(data, allow_partial_tail=True)
            if not infos:
                break
            for rec_offset, _ts, key, value, _headers, batch in _native.iter_records(
                data, allow_partial_tail=True
            ):
                if key is not None and rec_offset >= offset and not batch.is_control:
                    latest[key] = value
            offset = max(offset, infos[-1].last_offset + 1)
        return latest


def load_records(store: CoordinatorStore) -> Iterable[tuple[int, dict[bytes, bytes | None]]]:
    for p in range(store.num_partitions):
        yield p, store.read_latest(p)
