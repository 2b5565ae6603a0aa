"""Record batches (Kafka RecordBatch v2) from Python: a small facade over the
native record layer (`pystream._native`, Rust `native/src/record/`).

Owns the friendly names only: `Record`, `CompressionType`, `TimestampType`,
`build_batch`, `iter_records`, `decode_columns` (numpy columns, imported
lazily) and re-exports of the native calls the broker uses directly
(`validate_and_assign`, `crc32c`, `read_batch_infos`). Every per-record
loop runs in Rust; `iter_records` builds Python objects and is meant for
tools and tests, not for the broker's hot path.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pystream import _native
from pystream._native import (
    DEFAULT_MAX_BATCH_BYTES,
    DEFAULT_MAX_DECOMPRESSED_BYTES,
    AppendInfo,
    BatchAppendInfo,
    NativeBuffer,
    RecordBatchBuilder,
    RecordBatchInfo,
    crc32c,
    read_batch_infos,
    validate_and_assign,
)

if TYPE_CHECKING:
    import numpy as np
    from typing_extensions import Buffer

__all__ = [
    "DEFAULT_MAX_BATCH_BYTES",
    "DEFAULT_MAX_DECOMPRESSED_BYTES",
    "AppendInfo",
    "BatchAppendInfo",
    "BinaryColumn",
    "CompressionType",
    "Record",
    "RecordBatchBuilder",
    "RecordBatchInfo",
    "RecordColumns",
    "TimestampType",
    "build_batch",
    "crc32c",
    "decode_columns",
    "iter_records",
    "read_batch_infos",
    "validate_and_assign",
]

Header = tuple[str, bytes | None]


class CompressionType(enum.IntEnum):
    """Batch codec ids (attributes bits 0..2), named as Kafka's `compression.type`."""

    NONE = 0
    GZIP = 1
    SNAPPY = 2
    LZ4 = 3
    ZSTD = 4

    @classmethod
    def of(cls, codec: CompressionType | str | int) -> CompressionType:
        """Accepts an id, a member or a Kafka name ("gzip", "zstd", ...)."""
        if isinstance(codec, str):
            try:
                return cls[codec.upper()]
            except KeyError:
                raise ValueError(f"unknown compression type {codec!r}") from None
        return cls(codec)


class TimestampType(enum.IntEnum):
    """Kafka's TimestampType ids."""

    NO_TIMESTAMP_TYPE = -1
    CREATE_TIME = 0
    LOG_APPEND_TIME = 1


@dataclass(frozen=True, slots=True)
class Record:
    """One record. `offset` is ignored by `build_batch` (offsets follow order);
    `batch` describes the batch it was read from (None for records to send)."""

    key: bytes | None
    value: bytes | None
    timestamp: int = -1
    headers: tuple[Header, ...] = ()
    offset: int = -1
    batch: RecordBatchInfo | None = None

    @property
    def timestamp_type(self) -> TimestampType:
        if self.batch is None:
            return TimestampType.CREATE_TIME
        return TimestampType(self.batch.timestamp_type)


RecordLike = Record | tuple[bytes | None, bytes | None, int] | tuple[Any, ...]


def _as_tuple(r: RecordLike) -> tuple[bytes | None, bytes | None, int, list[Header] | None]:
    if isinstance(r, Record):
        return (r.key, r.value, r.timestamp, list(r.headers) or None)
    if len(r) == 3:
        return (r[0], r[1], r[2], None)
    key, value, timestamp, headers = r
    return (key, value, timestamp, list(headers) if headers else None)


def build_batch(
    records: Iterable[RecordLike],
    *,
    base_offset: int = 0,
    compression: CompressionType | str | int = CompressionType.NONE,
    compression_level: int | None = None,
    producer_id: int = -1,
    producer_epoch: int = -1,
    base_sequence: int = -1,
    partition_leader_epoch: int = -1,
    is_transactional: bool = False,
    is_control: bool = False,
    log_append_time: bool = False,
) -> bytes:
    """Builds one batch (one native call) from `Record`s or
    `(key, value, timestamp[, headers])` tuples."""
    return _native.build_batch(
        [_as_tuple(r) for r in records],
        base_offset=base_offset,
        compression=int(CompressionType.of(compression)),
        compression_level=compression_level,
        producer_id=producer_id,
        producer_epoch=producer_epoch,
        base_sequence=base_sequence,
        partition_leader_epoch=partition_leader_epoch,
        is_transactional=is_transactional,
        is_control=is_control,
        log_append_time=log_append_time,
    )


def iter_records(
    buf: Buffer,
    *,
    verify_crc: bool = True,
    allow_partial_tail: bool = False,
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
) -> Iterator[Record]:
    """Every record of every batch in `buf` (decoded in one native call)."""
    rows = _native.iter_records(
        buf,
        verify_crc=verify_crc,
        allow_partial_tail=allow_partial_tail,
        max_decompressed_bytes=max_decompressed_bytes,
    )
    for offset, timestamp, key, value, headers, batch in rows:
        yield Record(key, value, timestamp, tuple(headers), offset, batch)


@dataclass(frozen=True, slots=True)
class BinaryColumn:
    """Nullable binary column, Arrow large-binary layout: item i is
    `data[offsets[i]:offsets[i+1]]` where `valid[i]`."""

    offsets: np.ndarray  # int64, n + 1
    data: np.ndarray  # uint8
    valid: np.ndarray  # bool, n

    def __len__(self) -> int:
        return len(self.valid)

    def __getitem__(self, i: int) -> bytes | None:
        if not self.valid[i]:
            return None
        return self.data[self.offsets[i] : self.offsets[i + 1]].tobytes()

    def to_pylist(self) -> list[bytes | None]:
        return [self[i] for i in range(len(self))]


@dataclass(frozen=True, slots=True)
class RecordColumns:
    """The records of a run of batches as numpy arrays (views on Rust memory)."""

    offsets: np.ndarray  # int64
    timestamps: np.ndarray  # int64
    header_counts: np.ndarray  # int32
    keys: BinaryColumn
    values: BinaryColumn

    def __len__(self) -> int:
        return len(self.offsets)


def decode_columns(
    buf: Buffer,
    *,
    verify_crc: bool = True,
    allow_partial_tail: bool = False,
    skip_control: bool = True,
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
) -> RecordColumns:
    """Decodes every record into columns in one native call (GIL released for
    big buffers); the arrays wrap Rust-owned memory without copying."""
    import numpy as np

    raw = _native.decode_columns(
        buf,
        verify_crc=verify_crc,
        allow_partial_tail=allow_partial_tail,
        skip_control=skip_control,
        max_decompressed_bytes=max_decompressed_bytes,
    )

    def arr(name: str) -> np.ndarray:
        b = raw[name]
        assert isinstance(b, NativeBuffer)
        return np.frombuffer(memoryview(b), dtype=b.dtype)

    def binary(prefix: str) -> BinaryColumn:
        valid = arr(f"{prefix}_valid").view(np.bool_)
        return BinaryColumn(arr(f"{prefix}_offsets"), arr(f"{prefix}_data"), valid)

    return RecordColumns(
        offsets=arr("offsets"),
        timestamps=arr("timestamps"),
        header_counts=arr("header_counts"),
        keys=binary("key"),
        values=binary("value"),
    )
