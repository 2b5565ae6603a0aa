"""Kafka record batches (RecordBatch v2 bytes) -> a `MicroBatch` of record columns.

Shared by the Kafka topic source (bytes from Fetch responses) and the embedded-log source
(bytes mapped from segment files). One native call (`pystream.record.decode_columns`)
decodes a partition's chunk into columns; numpy wraps the Rust-owned buffers without
copying, and the offset range is cut with a slice (offsets grow within a partition).

Columns (Spark's Kafka source, minus `headers`): `key`, `value` (bytes, nullable), `topic`
(str), `partition` (int32), `offset`, `timestamp` (int64 ms), `timestampType` (int32: 0
CreateTime, 1 LogAppendTime; a batch attribute, spread over its records from the batch
headers, so no per-record work).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pystream import record
from pystream._native import CorruptRecordError
from pystream.streams.batch import MicroBatch
from pystream.streams.bytes_column import BytesColumn

if TYPE_CHECKING:
    from typing_extensions import Buffer

RECORD_SCHEMA = {
    "key": "bytes",
    "value": "bytes",
    "topic": "str",
    "partition": "int32",
    "offset": "int64",
    "timestamp": "int64",
    "timestampType": "int32",
}


class DataLossError(RuntimeError):
    """Records the batch needs are gone from the log (retention, truncation)."""


@dataclass(frozen=True)
class Chunk:
    """The complete batches of one fetched buffer that overlap the wanted offset range."""

    start: int  # byte position of the first overlapping batch
    stop: int  # byte position after the last overlapping batch
    next_offset: int  # where to read next: after the last complete batch scanned (control
    # batches included), or the base of the first batch at or past `hi`
    complete_bytes: int  # bytes of complete batches in the buffer


def scan_batches(buf: Buffer, lo: int, hi: int) -> Chunk:
    """Batch boundaries of `buf` (headers only, no CRC check, a torn tail is ignored)."""
    infos = record.read_batch_infos(buf, verify_crc=False, allow_partial_tail=True)
    start = stop = -1
    next_offset = lo
    for info in infos:
        if info.base_offset >= hi:
            next_offset = max(next_offset, info.base_offset)
            break
        next_offset = info.last_offset + 1
        if info.last_offset < lo:
            continue
        if start < 0:
            start = info.position
        stop = info.position + info.size
    complete = infos[-1].position + infos[-1].size if infos else 0
    if start < 0:
        start = stop = 0
    return Chunk(start, stop, next_offset, complete)


def _binary(col: record.BinaryColumn) -> BytesColumn:
    return BytesColumn(col.offsets, col.data, col.valid)


def topic_column(topic: str, n: int) -> BytesColumn:
    name = np.frombuffer(topic.encode(), dtype=np.uint8)
    offsets = np.arange(n + 1, dtype=np.int64) * len(name)
    return BytesColumn(offsets, np.tile(name, n), None, text=True)


def timestamp_types(buf: Buffer, count: int) -> np.ndarray:
    """Each decoded record's timestamp type (decode_columns skips control batches)."""
    infos = [i for i in record.read_batch_infos(buf, verify_crc=False) if not i.is_control]
    types = np.array([i.timestamp_type for i in infos], dtype=np.int32)
    counts = np.array([i.record_count for i in infos], dtype=np.int64)
    if int(counts.sum()) != count:
        raise CorruptRecordError(
            f"batch headers count {int(counts.sum())} records, the batches hold {count}"
        )
    return np.repeat(types, counts)


def decode_range(buf: Buffer, topic: str, partition: int, lo: int, hi: int) -> MicroBatch:
    """Records with lo <= offset < hi from whole batches in `buf` (CRC checked)."""
    cols = record.decode_columns(buf)
    types = timestamp_types(buf, len(cols.offsets))
    a = int(np.searchsorted(cols.offsets, lo, side="left"))
    b = int(np.searchsorted(cols.offsets, hi, side="left"))
    keys, values = _binary(cols.keys), _binary(cols.values)
    if b - a != len(cols.offsets):
        keys, values = keys.slice(a, b), values.slice(a, b)
    n = b - a
    return MicroBatch(
        {
            "key": keys,
            "value": values,
            "topic": topic_column(topic, n),
            "partition": np.full(n, partition, dtype=np.int32),
            "offset": cols.offsets[a:b],
            "timestamp": cols.timestamps[a:b],
            "timestampType": types[a:b],
        },
        num_rows=n,
    )


def empty_records() -> MicroBatch:
    return MicroBatch.empty(RECORD_SCHEMA)
