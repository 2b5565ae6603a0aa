"""xxHash64 over columns, and the shuffle partitioner built on it.

Fixed-width values (integers, floats, booleans) hash as their 8 little-endian bytes with a
vectorized numpy implementation of XXH64; variable-length values hash with a numba kernel
over the Arrow layout (offsets + data), compiled on first use. Both agree bit for bit with
the reference `xxhash` package, which the tests check. The hash of a multi-column key
folds column hashes with `combine`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pystream.streams.bytes_column import BytesColumn

P1 = np.uint64(0x9E3779B185EBCA87)
P2 = np.uint64(0xC2B2AE3D27D4EB4F)
P3 = np.uint64(0x165667B19E3779F9)
P4 = np.uint64(0x85EBCA77C2B2AE63)
P5 = np.uint64(0x27D4EB2F165667C5)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def _avalanche(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(33))
    h = h * P2
    h = h ^ (h >> np.uint64(29))
    h = h * P3
    return h ^ (h >> np.uint64(32))


def xxh64_u64(values: np.ndarray, seed: int = 0) -> np.ndarray:
    """XXH64 of each value's 8 little-endian bytes (ints, floats by bit pattern)."""
    v = np.ascontiguousarray(values)
    if v.dtype.itemsize != 8:
        v = v.astype(np.int64)
    lanes = v.view(np.uint64)
    if v.dtype.byteorder == ">":
        lanes = lanes.byteswap()
    with np.errstate(over="ignore"):
        k1 = _rotl(lanes * P2, 31) * P1
        h = np.full(len(lanes), np.uint64(seed) + P5 + np.uint64(8), dtype=np.uint64)
        h = h ^ k1
        h = _rotl(h, 27) * P1 + P4
        return _avalanche(h)


def xxh64_bytes(column: BytesColumn, seed: int = 0) -> np.ndarray:
    """XXH64 of each value of a bytes column (numba kernel, one call per batch)."""
    from pystream.compute import kernels

    out = np.empty(len(column), dtype=np.uint64)
    data = column.data if len(column.data) else np.zeros(1, np.uint8)
    kernels.xxh64_bytes(column.offsets, data, np.uint64(seed), out)
    return out


def hash_column(column: np.ndarray | BytesColumn, seed: int = 0) -> np.ndarray:
    from pystream.streams.bytes_column import BytesColumn

    if isinstance(column, BytesColumn):
        h = xxh64_bytes(column, seed)
        if column.valid is not None:
            h[~column.valid] = np.uint64(seed)
        return h
    if column.ndim != 1:
        raise TypeError("only 1-d columns can be hashed")
    if column.dtype.kind == "f":
        column = np.where(column == 0, 0.0, column)  # -0.0 and 0.0 are the same key
    return xxh64_u64(column.astype(np.float64) if column.dtype.kind == "f" else column, seed)


def combine(h: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Fold a further column's hash into a key hash (order-sensitive, like boost's hash_combine)."""
    with np.errstate(over="ignore"):
        return _avalanche(h ^ (other + P1 + (h << np.uint64(6)) + (h >> np.uint64(2))))


def hash_key(columns: Sequence[np.ndarray | BytesColumn], seed: int = 0) -> np.ndarray:
    if not columns:
        raise ValueError("a key needs at least one column")
    h = hash_column(columns[0], seed)
    for col in columns[1:]:
        h = combine(h, hash_column(col, seed))
    return h


def partition_for(columns: Sequence[np.ndarray | BytesColumn], num_partitions: int) -> np.ndarray:
    """The shuffle partition (0..num_partitions-1) that owns each row's key."""
    if num_partitions < 1:
        raise ValueError("num_partitions must be >= 1")
    return (hash_key(columns) % np.uint64(num_partitions)).astype(np.int64)


def kafka_partition_for(keys: BytesColumn, num_partitions: int) -> np.ndarray:
    """Kafka's default partition of each key (murmur2, as the Java client and
    `pystream.client.partitioner` compute it); -1 for null keys, which the caller places."""
    from pystream.compute import kernels

    if num_partitions < 1:
        raise ValueError("num_partitions must be >= 1")
    out = np.empty(len(keys), dtype=np.int64)
    data = keys.data if len(keys.data) else np.zeros(1, np.uint8)
    kernels.murmur2_positive(keys.offsets, data, out)
    out %= num_partitions
    if keys.valid is not None:
        out[~keys.valid] = -1
    return out
