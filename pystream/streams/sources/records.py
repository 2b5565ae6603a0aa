"""Kafka record batches (RecordBatch v2 bytes) -> a `MicroBatch` of record columns.

Shared by the Kafka topic source (bytes from Fetch responses) and the embedded-log source
(bytes mapped from segment files). One native call (`_native.decode_columns`) decodes a
partition's chunk into columns, headers included; numpy wraps the Rust-owned buffers without
copying, and the offset range is cut with a slice (offsets grow within a partition).

Columns (Spark's Kafka source): `key`, `value` (bytes, nullable), `topic` (str), `partition`
(int32), `offset`, `timestamp` (int64 ms), `timestampType` (int32: 0 CreateTime, 1
LogAppendTime; a batch attribute, spread over its records from the batch headers, so no
per-record work) and `headers` (a `HeadersColumn`: per record a list of (key, value) pairs,
values nullable; an empty list, at no cost, when the records have none).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pystream import _native, record
from pystream._native import CorruptRecordError, NativeBuffer
from pystream.streams.batch import MicroBatch
from pystream.streams.bytes_column import BytesColumn, HeadersColumn

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
    "headers": "headers",
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


@dataclass(frozen=True)
class DecodedRecords:
    """The columns of one native `decode_columns` call, as numpy views of Rust memory."""

    offsets: np.ndarray  # int64
    timestamps: np.ndarray  # int64
    keys: BytesColumn
    values: BytesColumn
    headers: HeadersColumn


def decode_records(buf: Buffer) -> DecodedRecords:
    """Every record of the batches in `buf` (CRC checked), headers included, in one call."""
    raw = _native.decode_columns(buf)
    n = int(raw["count"])

    def arr(name: str) -> np.ndarray:
        b = raw[name]
        assert isinstance(b, NativeBuffer)
        return np.frombuffer(memoryview(b), dtype=b.dtype)

    def binary(prefix: str, text: bool = False) -> BytesColumn:
        valid = arr(f"{prefix}_valid").view(np.bool_) if f"{prefix}_valid" in raw else None
        return BytesColumn(arr(f"{prefix}_offsets"), arr(f"{prefix}_data"), valid, text)

    if "header_offsets" in raw:  # left out by the native call when no record has headers
        headers = HeadersColumn(
            arr("header_offsets"), binary("header_key", text=True), binary("header_value")
        )
    else:
        headers = HeadersColumn.empty(n)
    return DecodedRecords(
        arr("offsets"), arr("timestamps"), binary("key"), binary("value"), headers
    )


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
    cols = decode_records(buf)
    types = timestamp_types(buf, len(cols.offsets))
    a = int(np.searchsorted(cols.offsets, lo, side="left"))
    b = int(np.searchsorted(cols.offsets, hi, side="left"))
    keys, values, headers = cols.keys, cols.values, cols.headers
    if b - a != len(cols.offsets):
        keys, values, headers = keys.slice(a, b), values.slice(a, b), headers.slice(a, b)
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
            "headers": headers,
        },
        num_rows=n,
    )


def empty_records() -> MicroBatch:
    return MicroBatch.empty(RECORD_SCHEMA)
