"""Group keys to dense codes and reduce values per group, with whole-array numpy operations.

`factorize` turns one or more key columns into codes 0..G-1 (G = number of distinct keys,
codes ordered by key value) and the index of each group's first row, from which the
caller takes the key values. Nulls form their own group. Integer keys with a compact range
use a counting pass (O(n)); others sort (np.unique).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from pystream.streams.bytes_column import BytesColumn

_DENSE_RANGE_FACTOR = 4
_DENSE_RANGE_MAX = 1 << 24


class Groups(NamedTuple):
    codes: np.ndarray  # int64, one per row
    count: int  # type: ignore[assignment]  # number of groups (shadows tuple.count on purpose)
    first: np.ndarray  # int64, index of the first row of each group


def _factorize_one(values: np.ndarray) -> tuple[np.ndarray, int]:
    n = len(values)
    if n == 0:
        return np.empty(0, np.int64), 0
    if values.dtype.kind in "iub":
        ints = values.astype(np.int64, copy=False)
        lo, hi = int(ints.min()), int(ints.max())
        span = hi - lo + 1
        if span <= max(_DENSE_RANGE_FACTOR * n, 1024) and span <= _DENSE_RANGE_MAX:
            shifted = ints - lo
            present = np.bincount(shifted, minlength=span) > 0
            mapping = np.cumsum(present) - 1
            return mapping[shifted], int(present.sum())
    uniq, inverse = np.unique(values, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64, copy=False), len(uniq)


def _column_codes(
    column: np.ndarray | BytesColumn, valid: np.ndarray | None
) -> tuple[np.ndarray, int]:
    if isinstance(column, BytesColumn):
        codes, k = _factorize_one(column.to_fixed())
        # numpy's 'S' comparison ignores trailing NULs; the length tells those values apart
        lengths, k_len = _factorize_one(column.lengths())
        if k_len > 1:
            codes, k = _factorize_one(codes * k_len + lengths)
        valid = column.valid
    else:
        if column.ndim != 1:
            raise TypeError("group keys must be 1-d columns")
        codes, k = _factorize_one(column)
    if valid is not None and not valid.all():
        codes = np.where(valid, codes + 1, 0)  # nulls sort first, as one group
        codes, k = _factorize_one(codes)
    return codes, k


def factorize(
    columns: Sequence[np.ndarray | BytesColumn],
    valids: Sequence[np.ndarray | None] | None = None,
) -> Groups:
    if not columns:
        raise ValueError("factorize needs at least one key column")
    valids = valids or [None] * len(columns)
    codes, k = _column_codes(columns[0], valids[0])
    for col, valid in zip(columns[1:], valids[1:], strict=True):
        c2, k2 = _column_codes(col, valid)
        if k * k2 < (1 << 62):
            codes, k = _factorize_one(codes * k2 + c2)
        else:  # too many combinations for one int64: factorize the pair as a record
            pair = np.empty(len(codes), dtype=[("a", np.int64), ("b", np.int64)])
            pair["a"], pair["b"] = codes, c2
            codes, k = _factorize_one(pair)
    first = np.full(k, len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes), dtype=np.int64))
    return Groups(codes, k, first)


# ---- reductions by group code -------------------------------------------------------------


def group_count(codes: np.ndarray, n_groups: int, mask: np.ndarray | None = None) -> np.ndarray:
    if mask is not None:
        codes = codes[mask]
    return np.bincount(codes, minlength=n_groups).astype(np.int64)


def group_sum(codes: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    if values.dtype.kind == "f":
        return np.bincount(codes, weights=values, minlength=n_groups)
    out = np.zeros(n_groups, dtype=np.int64)
    np.add.at(out, codes, values.astype(np.int64, copy=False))
    return out


def _extreme(values: np.ndarray, largest: bool) -> np.generic:
    if values.dtype.kind == "f":
        return values.dtype.type(-np.inf if largest else np.inf)
    info = np.iinfo(values.dtype) if values.dtype.kind in "iu" else None
    if info is None:
        return values.dtype.type(not largest)
    return values.dtype.type(info.min if largest else info.max)


def group_min(codes: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    out = np.full(n_groups, _extreme(values, largest=False), dtype=values.dtype)
    np.minimum.at(out, codes, values)
    return out


def group_max(codes: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    out = np.full(n_groups, _extreme(values, largest=True), dtype=values.dtype)
    np.maximum.at(out, codes, values)
    return out


def group_argmax(codes: np.ndarray, n_groups: int, values: np.ndarray) -> np.ndarray:
    """Index of the row holding each group's largest value (the earliest row on ties)."""
    best = group_max(codes, n_groups, values)
    candidates = np.flatnonzero(values == best[codes])
    out = np.full(n_groups, len(codes), dtype=np.int64)
    np.minimum.at(out, codes[candidates], candidates)
    return out


def join_indices(
    left_codes: np.ndarray, right_codes: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every (left row, right row) pair with equal codes; negative codes never match.

    The right side is sorted by code once; each left row then repeats once per matching
    right row, so the work is O(n log n + output) with no per-row Python.
    """
    right_ok = right_codes >= 0
    right_rows = np.flatnonzero(right_ok)
    rc = right_codes[right_rows]
    order = right_rows[np.argsort(rc, kind="stable")]
    counts = np.bincount(rc, minlength=n_groups)
    starts = np.cumsum(counts) - counts
    lc = np.where(left_codes >= 0, left_codes, 0)
    per_left = np.where(left_codes >= 0, counts[lc], 0)
    left_idx = np.repeat(np.arange(len(left_codes), dtype=np.int64), per_left)
    run_start = np.repeat(np.cumsum(per_left) - per_left, per_left)
    within = np.arange(len(left_idx), dtype=np.int64) - run_start
    right_idx = order[starts[lc[left_idx]] + within]
    return left_idx, right_idx
