"""A batching producer: records accumulate per partition, then one native call
builds each RecordBatch (compression, CRC) and one Produce request carries
the ready batches of a broker.

Idempotent by default (acks=all): a producer id from InitProducerId and a
sequence per partition; one request in flight per partition keeps order.
Keys are placed with Kafka's Java partitioner (murmur2), so keyed records
land on the same partition as with the Java client.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

from pystream.client.cluster import Cluster, KafkaError
from pystream.client.partitioner import murmur2_partition
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.init_producer_id import InitProducerIdRequest
from pystream.protocol.messages.produce import ProduceRequest
from pystream.record import Record, build_batch

COMPRESSION = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
RETRIABLE = {
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
    ErrorCode.LEADER_NOT_AVAILABLE,
    ErrorCode.REQUEST_TIMED_OUT,
    ErrorCode.NETWORK_EXCEPTION,
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
}


@dataclass
class RecordMetadata:
    topic: str
    partition: int
    offset: int
    timestamp: int


@dataclass
class _Pending:
    records: list[Record] = field(default_factory=list)
    futures: list[asyncio.Future[RecordMetadata]] = field(default_factory=list)
    size: int = 0
    first_at: float = 0.0


class Producer:
    def __init__(
        self,
        cluster: Cluster,
        acks: int = -1,
        compression: str = "none",
        batch_size: int = 1 << 20,
        linger_ms: float = 5.0,
        idempotent: bool | None = None,
        retries: int = 5,
    ) -> None:
        if compression not in COMPRESSION:
            raise ValueError(f"compression must be one of {', '.join(COMPRESSION)}")
        self.cluster = cluster
        self.acks = acks
        self.compression = COMPRESSION[compression]
        self.batch_size = batch_size
        self.linger_s = linger_ms / 1000
        self.idempotent = (acks == -1) if idempotent is None else idempotent
        self.retries = retries
        self.producer_id = -1
        self.producer_epoch = -1
        self._sequences: dict[tuple[str, int], int] = {}
        self._pending: dict[tuple[str, int], _Pending] = {}
        self._locks: dict[tuple[str, int], asyncio.Lock] = {}
        self._inflight: set[asyncio.Task[None]] = set()
        self._linger_task: asyncio.Task[None] | None = None

    async def _init_producer_id(self) -> None:
        conn = await self.cluster.any_connection()
        resp = await conn.request(
            InitProducerIdRequest(transactional_id=None, transaction_timeout_ms=60000)
        )
        if resp.error_code:
            raise KafkaError(resp.error_code, context="InitProducerId")
        self.producer_id, self.producer_epoch = resp.producer_id, resp.producer_epoch

    async def send(
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        headers: list[tuple[str, bytes | None]] | None = None,
        partition: int | None = None,
        timestamp: int | None = None,
    ) -> asyncio.Future[RecordMetadata]:
        """Queues one record; the returned future resolves once it is written."""
        if self.idempotent and self.producer_id < 0:
            await self._init_producer_id()
        info = await self.cluster.topic(topic, auto_create=True)
        count = len(info.partitions)
        if partition is None:
            partition = (
                murmur2_partition(key, count) if key is not None else random.randrange(count)
            )
        elif not 0 <= partition < count:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, context=f"{topic}-{partition}")
        ts = int(time.time() * 1000) if timestamp is None else timestamp
        tp = (topic, partition)
        pending = self._pending.get(tp)
        if pending is None:
            pending = self._pending[tp] = _Pending(first_at=time.monotonic())
        fut: asyncio.Future[RecordMetadata] = asyncio.get_running_loop().create_future()
        pending.records.append(
            Record(key=key, value=value, headers=tuple(headers or ()), timestamp=ts)
        )
        pending.futures.append(fut)
        pending.size += len(value or b"") + len(key or b"") + 16
        if pending.size >= self.batch_size:
            self._drain(tp)
        elif self._linger_task is None or self._linger_task.done():
            self._linger_task = asyncio.get_running_loop().create_task(self._linger())
        return fut

    async def send_batch(
        self, topic: str, partition: int, records: list[Record]
    ) -> list[RecordMetadata]:
        """Writes many records to one partition with one native batch build
        per `batch_size` of data and no per-record futures; returns when all
        are acknowledged. For callers that already hold rows in bulk (the
        stream processor's sink)."""
        if self.idempotent and self.producer_id < 0:
            await self._init_producer_id()
        info = await self.cluster.topic(topic, auto_create=True)
        if partition not in info.partitions:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, context=f"{topic}-{partition}")
        loop = asyncio.get_running_loop()
        chunks: list[_Pending] = []
        current = _Pending()
        for rec in records:
            size = len(rec.value or b"") + len(rec.key or b"") + 16
            if rec.headers:
                size += sum(len(k) + len(v or b"") + 2 for k, v in rec.headers)
            if current.records and current.size + size > self.batch_size:
                chunks.append(current)
                current = _Pending()
            current.records.append(rec)
            current.size += size
        if current.records:
            chunks.append(current)
        tp = (topic, partition)
        out: list[RecordMetadata] = []
        for chunk in chunks:
            # One future stands for the chunk; offsets follow the base offset.
            done: asyncio.Future[RecordMetadata] = loop.create_future()
            chunk.futures = [done]
            await self._send_batch(tp, chunk)
            first = await done
            out.extend(
                RecordMetadata(
                    topic, partition, first.offset + i if first.offset >= 0 else -1, r.timestamp
                )
                for i, r in enumerate(chunk.records)
            )
        return out

    async def _linger(self) -> None:
        await asyncio.sleep(self.linger_s)
        for tp in list(self._pending):
            self._drain(tp)

    def _drain(self, tp: tuple[str, int]) -> None:
        pending = self._pending.pop(tp, None)
        if pending is None or not pending.records:
            return
        task = asyncio.get_running_loop().create_task(self._send_batch(tp, pending))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _send_batch(self, tp: tuple[str, int], pending: _Pending) -> None:
        lock = self._locks.setdefault(tp, asyncio.Lock())
        async with lock:  # one request in flight per partition keeps order
            try:
                await self._send_locked(tp, pending)
            except Exception as e:
                for fut in pending.futures:
                    if not fut.done():
                        fut.set_exception(e)

    async def _send_locked(self, tp: tuple[str, int], pending: _Pending) -> None:
        topic, partition = tp
        seq = self._sequences.get(tp, 0) if self.idempotent else -1
        batch = build_batch(
            pending.records,
            compression=self.compression,
            producer_id=self.producer_id if self.idempotent else -1,
            producer_epoch=self.producer_epoch if self.idempotent else -1,
            base_sequence=seq,
        )
        request = ProduceRequest(
            transactional_id=None,
            acks=self.acks,
            timeout_ms=30000,
            topic_data=[
                ProduceRequest.TopicProduceData(
                    name=topic,
                    partition_data=[
                        ProduceRequest.TopicProduceData.PartitionProduceData(
                            index=partition, records=batch
                        )
                    ],
                )
            ],
        )
        for attempt in range(self.retries + 1):
            conn = await self.cluster.leader(topic, partition)
            resp: Any = await conn.request(request, expect_response=self.acks != 0)
            if resp is None:
                base_offset = -1
                break
            part = resp.responses[0].partition_responses[0]
            if part.error_code == 0:
                base_offset = part.base_offset
                break
            if part.error_code in RETRIABLE and attempt < self.retries:
                await asyncio.sleep(0.1 * (attempt + 1))
                await self.cluster.refresh([topic])
                continue
            raise KafkaError(
                part.error_code, part.error_message, context=f"produce {topic}-{partition}"
            )
        if self.idempotent:
            self._sequences[tp] = (seq + len(pending.records)) & 0x7FFFFFFF
        if len(pending.futures) != len(pending.records):  # send_batch: one future
            for fut in pending.futures:
                if not fut.done():
                    fut.set_result(RecordMetadata(topic, partition, base_offset, -1))
            return
        for i, (rec, fut) in enumerate(zip(pending.records, pending.futures, strict=True)):
            if not fut.done():
                offset = base_offset + i if base_offset >= 0 else -1
                fut.set_result(RecordMetadata(topic, partition, offset, rec.timestamp))

    async def flush(self) -> None:
        for tp in list(self._pending):
            self._drain(tp)
        while self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    async def close(self) -> None:
        await self.flush()
        if self._linger_task is not None:
            self._linger_task.cancel()
