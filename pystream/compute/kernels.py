"""numba kernels: the per-value loops numpy cannot express as whole-array operations.

This is the only module that imports numba at import time; every other module imports it
lazily inside the function that needs a kernel, so `import pystream.streams` stays cheap.
Kernels are compiled with `cache=True` (the on-disk cache survives across processes) and
`nogil=True` so a worker thread can run them while another holds the GIL.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

u64 = np.uint64
_P1 = u64(0x9E3779B185EBCA87)
_P2 = u64(0xC2B2AE3D27D4EB4F)
_P3 = u64(0x165667B19E3779F9)
_P4 = u64(0x85EBCA77C2B2AE63)
_P5 = u64(0x27D4EB2F165667C5)


@numba.njit(cache=True, nogil=True, inline="always")
def _rotl(x: Any, r: Any) -> Any:
    return (x << u64(r)) | (x >> u64(64 - r))


@numba.njit(cache=True, nogil=True, inline="always")
def _read64(data: Any, i: Any) -> Any:
    v = u64(0)
    for b in range(8):
        v |= u64(data[i + b]) << u64(8 * b)
    return v


@numba.njit(cache=True, nogil=True, inline="always")
def _round(acc: Any, lane: Any) -> Any:
    acc = acc + lane * _P2
    return _rotl(acc, 31) * _P1


@numba.njit(cache=True, nogil=True, inline="always")
def _merge_round(h: Any, v: Any) -> Any:
    h ^= _round(u64(0), v)
    return h * _P1 + _P4


@numba.njit(cache=True, nogil=True)
def xxh64_bytes(offsets: Any, data: Any, seed: Any, out: Any) -> None:
    """XXH64 of each value data[offsets[r]:offsets[r + 1]] into out[r]."""
    for row in range(len(offsets) - 1):
        i = offsets[row]
        end = offsets[row + 1]
        n = end - i
        if n >= 32:
            v1 = seed + _P1 + _P2
            v2 = seed + _P2
            v3 = seed
            v4 = seed - _P1
            while i + 32 <= end:
                v1 = _round(v1, _read64(data, i))
                v2 = _round(v2, _read64(data, i + 8))
                v3 = _round(v3, _read64(data, i + 16))
                v4 = _round(v4, _read64(data, i + 24))
                i += 32
            h = _rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)
            h = _merge_round(h, v1)
            h = _merge_round(h, v2)
            h = _merge_round(h, v3)
            h = _merge_round(h, v4)
        else:
            h = seed + _P5
        h += u64(n)
        while i + 8 <= end:
            h ^= _round(u64(0), _read64(data, i))
            h = _rotl(h, 27) * _P1 + _P4
            i += 8
        if i + 4 <= end:
            k = u64(0)
            for b in range(4):
                k |= u64(data[i + b]) << u64(8 * b)
            h ^= k * _P1
            h = _rotl(h, 23) * _P2 + _P3
            i += 4
        while i < end:
            h ^= u64(data[i]) * _P5
            h = _rotl(h, 11) * _P1
            i += 1
        h ^= h >> u64(33)
        h *= _P2
        h ^= h >> u64(29)
        h *= _P3
        h ^= h >> u64(32)
        out[row] = h


@numba.njit(cache=True, nogil=True)
def session_ids(keys: Any, starts: Any, ends: Any, out: Any) -> int:
    """Session number of each interval; input sorted by (key, start).

    An interval joins the open session of its key when it starts strictly before that
    session's end (end = last event + gap), so events exactly `gap` apart are separate
    sessions. Returns the number of sessions.
    """
    sid = -1
    cur_end = 0
    for i in range(len(keys)):
        if i == 0 or keys[i] != keys[i - 1] or starts[i] >= cur_end:
            sid += 1
            cur_end = ends[i]
        elif ends[i] > cur_end:
            cur_end = ends[i]
        out[i] = sid
    return sid + 1


@numba.njit(nogil=True)
def fold_groups(update: Any, codes: Any, values: Any, acc: Any) -> None:
    """acc[g] = update(acc[g], x) over rows in order (numba UDAF accumulation)."""
    for i in range(len(codes)):
        g = codes[i]
        acc[g] = update(acc[g], values[i])


@numba.njit(nogil=True)
def merge_groups(merge: Any, codes: Any, partial: Any, acc: Any, seen: Any) -> None:
    """acc[g] = merge(acc[g], partial) over rows; the first partial of a group is copied."""
    for i in range(len(codes)):
        g = codes[i]
        if seen[g]:
            acc[g] = merge(acc[g], partial[i])
        else:
            acc[g] = partial[i]
            seen[g] = True


@numba.njit(cache=True, nogil=True)
def take_bytes(offsets: Any, data: Any, indices: Any, out_offsets: Any) -> Any:
    """Gather values `indices` of an offsets+data column; fills out_offsets, returns data."""
    total = 0
    out_offsets[0] = 0
    for j in range(len(indices)):
        i = indices[j]
        total += offsets[i + 1] - offsets[i]
        out_offsets[j + 1] = total
    out = np.empty(total, dtype=np.uint8)
    for j in range(len(indices)):
        i = indices[j]
        start = offsets[i]
        pos = out_offsets[j]
        for b in range(offsets[i + 1] - start):
            out[pos + b] = data[start + b]
    return out


_M32 = u64(0xFFFFFFFF)
_MURMUR_M = u64(0x5BD1E995)


@numba.njit(cache=True, nogil=True)
def murmur2_positive(offsets: Any, data: Any, out: Any) -> None:
    """Kafka's murmur2 (seed 0x9747b28c) of each value, masked to 31 bits as the Java
    partitioner does (`toPositive`)."""
    for r in range(len(out)):
        a = offsets[r]
        length = offsets[r + 1] - a
        h = (u64(0x9747B28C) ^ u64(length)) & _M32
        end = length - (length & 3)
        for i in range(0, end, 4):
            k = (
                u64(data[a + i])
                | (u64(data[a + i + 1]) << u64(8))
                | (u64(data[a + i + 2]) << u64(16))
                | (u64(data[a + i + 3]) << u64(24))
            )
            k = (k * _MURMUR_M) & _M32
            k ^= k >> u64(24)
            k = (k * _MURMUR_M) & _M32
            h = (h * _MURMUR_M) & _M32
            h ^= k
        rest = length & 3
        if rest == 3:
            h ^= u64(data[a + end + 2]) << u64(16)
        if rest >= 2:
            h ^= u64(data[a + end + 1]) << u64(8)
        if rest >= 1:
            h ^= u64(data[a + end])
            h = (h * _MURMUR_M) & _M32
        h ^= h >> u64(13)
        h = (h * _MURMUR_M) & _M32
        h ^= h >> u64(15)
        out[r] = np.int64(h & u64(0x7FFFFFFF))
