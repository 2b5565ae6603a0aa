"""`KafkaSink`: write each batch's rows as records to a topic (at-least-once).

Record values come from a `value` column (bytes or text, Spark's Kafka sink contract) or
from a `ValueFormat` that encodes the row (`value_format=JsonFormat(...)`, or "json" for
every column as one JSON object). The key is a column (bytes or text as is, other types as
their text) or several columns as a JSON object; keyed records are placed on partitions
with Kafka's murmur2 partitioner (a numba kernel over the whole key column), so they land
where the Java client would put them. `timestamp_column` sets record timestamps (int64 ms);
otherwise the producer stamps them. A `headers` column (a `HeadersColumn`, as the Kafka
sources produce; Spark's contract) becomes the records' headers.

Delivery is at-least-once: `write` returns only after every record of the batch is
acknowledged (acks=all, idempotent producer), so a committed batch is in the topic; a batch
that crashed before its commit runs again and may write some records twice. Keyed output
of an upserting query (update mode, a compacted topic) absorbs such duplicates.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pystream.client.cluster import Cluster
from pystream.client.producer import Producer
from pystream.record import Header, Record
from pystream.streams.aio import EventLoopThread
from pystream.streams.batch import MicroBatch
from pystream.streams.bytes_column import BytesColumn, HeadersColumn
from pystream.streams.formats import ValueFormat
from pystream.streams.sinks.base import Sink


def _as_bytes(batch: MicroBatch, name: str) -> list[bytes | None]:
    col = batch[name]
    if isinstance(col, BytesColumn):
        values = col.to_pylist()
        return [v.encode() if isinstance(v, str) else v for v in values]
    if isinstance(col, HeadersColumn):
        raise TypeError(f"the headers column {name!r} cannot be a record key or value")
    mask = batch.validity(name).tolist()
    return [str(v).encode() if ok else None for v, ok in zip(col.tolist(), mask, strict=True)]


def _headers(batch: MicroBatch) -> list[tuple[Header, ...]] | None:
    col = batch.columns.get("headers")
    if not isinstance(col, HeadersColumn) or not int(col.offsets[-1]):
        return None
    return [tuple(h) for h in col.to_pylist()]


def _json_rows(batch: MicroBatch) -> list[bytes | None]:
    def plain(v: Any) -> Any:
        return v.decode("utf-8", "backslashreplace") if isinstance(v, bytes) else v

    return [
        json.dumps({k: plain(v) for k, v in row.items()}, separators=(",", ":")).encode()
        for row in batch.to_pylist()
    ]


class KafkaSink(Sink):
    def __init__(
        self,
        bootstrap: str | list[str],
        topic: str,
        *,
        key: str | Sequence[str] | None = None,
        value_format: ValueFormat | str | None = None,
        timestamp_column: str | None = None,
        acks: int = -1,
        compression: str = "none",
        linger_ms: float = 5.0,
        batch_size: int = 1 << 20,
        client_id: str = "pystream-streams-sink",
        timeout_s: float = 120.0,
    ) -> None:
        if isinstance(value_format, str) and value_format != "json":
            raise ValueError('value_format must be a ValueFormat, "json" or None')
        self.bootstrap, self.topic = bootstrap, topic
        self.key = [key] if isinstance(key, str) else list(key or [])
        self.value_format, self.timestamp_column = value_format, timestamp_column
        self.acks, self.compression = acks, compression
        self.linger_ms, self.batch_size = linger_ms, batch_size
        self.client_id, self.timeout_s = client_id, timeout_s
        self._io = EventLoopThread(f"kafka-sink-{topic}")
        self._cluster: Cluster | None = None
        self._producer: Producer | None = None

    def open(self, checkpoint: Path) -> None:
        async def start() -> None:
            self._cluster = Cluster(self.bootstrap, self.client_id)
            self._producer = Producer(
                self._cluster,
                acks=self.acks,
                compression=self.compression,
                linger_ms=self.linger_ms,
                batch_size=self.batch_size,
            )
            await self._cluster.topic(self.topic, auto_create=True)

        self._io.run(start(), self.timeout_s)

    # ---- encoding -----------------------------------------------------------------------
    def _values(self, batch: MicroBatch) -> list[bytes | None]:
        if self.value_format is None:
            if "value" not in batch:
                raise ValueError(
                    "KafkaSink needs a 'value' column (bytes or text) or a value_format; "
                    f"the batch has {batch.names}"
                )
            return _as_bytes(batch, "value")
        if self.value_format == "json":  # headers travel as record headers, not in the value
            plain = [n for n in batch.names if not isinstance(batch[n], HeadersColumn)]
            return _json_rows(batch.select(plain))
        assert isinstance(self.value_format, ValueFormat)
        encoded: BytesColumn = self.value_format.encode(batch)
        return list(encoded.to_pylist())

    def _keys(self, batch: MicroBatch) -> BytesColumn | None:
        if not self.key:
            return None
        if len(self.key) == 1:
            col = batch[self.key[0]]
            if isinstance(col, BytesColumn):
                return col
            return BytesColumn.from_pylist(_as_bytes(batch, self.key[0]))
        return BytesColumn.from_pylist(_json_rows(batch.select(self.key)))

    # ---- writing ------------------------------------------------------------------------
    def write(self, batch: MicroBatch, batch_id: int, mode: str) -> None:
        if batch.num_rows == 0:
            return
        values = self._values(batch)
        keys = self._keys(batch)
        timestamps = (
            np.asarray(batch[self.timestamp_column]).tolist() if self.timestamp_column else None
        )
        headers = _headers(batch)
        self._io.run(self._send(keys, values, timestamps, headers), self.timeout_s)

    async def _send(
        self,
        keys: BytesColumn | None,
        values: list[bytes | None],
        timestamps: list[int] | None,
        headers: list[tuple[Header, ...]] | None = None,
    ) -> None:
        from pystream.compute.hashing import kafka_partition_for

        producer, cluster = self._producer, self._cluster
        assert producer is not None and cluster is not None, "sink used before open()"
        count = len((await cluster.topic(self.topic, auto_create=True)).partitions)
        n = len(values)
        sticky = random.randrange(count)  # keyless rows of one batch go to one partition
        if keys is None:
            key_list: list[Any] = [None] * n
            parts = np.full(n, sticky, dtype=np.int64)
        else:
            parts = kafka_partition_for(keys, count)
            parts[parts < 0] = sticky
            key_list = [k.encode() if isinstance(k, str) else k for k in keys.to_pylist()]
        stamps = [int(time.time() * 1000)] * n if timestamps is None else timestamps
        # Rows grouped by partition, batch order kept within each (stable sort), then one
        # send_batch per partition, all partitions at once.
        order = np.argsort(parts, kind="stable")
        present, starts = np.unique(parts[order], return_index=True)
        bounds = [*starts.tolist(), n]
        sends = []
        for j, partition in enumerate(present.tolist()):
            rows = order[bounds[j] : bounds[j + 1]].tolist()
            if headers is None:
                records = [Record(key_list[i], values[i], stamps[i]) for i in rows]
            else:
                records = [Record(key_list[i], values[i], stamps[i], headers[i]) for i in rows]
            sends.append(producer.send_batch(self.topic, partition, records))
        await asyncio.gather(*sends)  # raises the first failed partition's error

    def close(self) -> None:
        async def stop() -> None:
            if self._producer is not None:
                await self._producer.close()
            if self._cluster is not None:
                await self._cluster.close()

        try:
            self._io.run(stop(), self.timeout_s)
        finally:
            self._producer = self._cluster = None
            self._io.close()
