"""Window assignment kernels over int64 millisecond timestamps.

Windows are half-open [start, end). Tumbling and hopping windows are aligned to the epoch
plus `offset` (as in Spark's `window()` start time). A hopping window assignment repeats
each row once per window that contains it and returns the row index of each copy.
"""

from __future__ import annotations

import numpy as np


def tumbling_start(ts: np.ndarray, size: int, offset: int = 0) -> np.ndarray:
    ts = ts.astype(np.int64, copy=False)
    return ts - np.mod(ts - offset, size)


def hopping(
    ts: np.ndarray, size: int, slide: int, offset: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """(row index, window start) for every (row, window) pair with start <= ts < start + size."""
    if slide <= 0 or size <= 0:
        raise ValueError("window size and slide must be positive")
    ts = ts.astype(np.int64, copy=False)
    last = ts - np.mod(ts - offset, slide)  # latest window start at or before ts
    copies = -(-size // slide)  # ceil: the most windows a row can fall in
    rows = np.repeat(np.arange(len(ts), dtype=np.int64), copies)
    k = np.tile(np.arange(copies, dtype=np.int64), len(ts))
    starts = last[rows] - k * slide
    keep = starts + size > ts[rows]
    if keep.all():
        return rows, starts
    return rows[keep], starts[keep]


def sessions(
    key_codes: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Merge [start, end) intervals of equal key that overlap into sessions.

    Returns (order, session id per position of `order`, number of sessions), where `order`
    sorts the intervals by (key, start).
    """
    from pystream.compute import kernels

    order = np.lexsort((starts, key_codes))
    out = np.empty(len(order), dtype=np.int64)
    n = kernels.session_ids(
        key_codes[order].astype(np.int64),
        starts[order].astype(np.int64),
        ends[order].astype(np.int64),
        out,
    )
    return order, out, int(n)
