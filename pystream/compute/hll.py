"""HyperLogLog sketches per group, as a (groups x 2**p) uint8 register matrix.

Each value is hashed with XXH64; the top p bits choose a register and the register keeps the
largest "position of the first 1 bit" seen in the remaining bits. Sketches merge by an
element-wise maximum, so partial sketches from batches and from state combine exactly.
The estimate uses the standard bias constant and linear counting for small cardinalities
(64-bit hashes need no large-range correction). Relative error is about 1.04 / sqrt(2**p).
"""

from __future__ import annotations

import math

import numpy as np

from pystream.compute.hashing import hash_column
from pystream.streams.bytes_column import BytesColumn


def precision_for(rsd: float) -> int:
    """Smallest p whose expected relative standard deviation is at most `rsd` (Spark's knob)."""
    if not 0 < rsd < 1:
        raise ValueError("rsd must be between 0 and 1")
    return min(max(math.ceil(2 * math.log2(1.04 / rsd)), 4), 16)


def _leading_zeros(w: np.ndarray) -> np.ndarray:
    n = np.zeros(len(w), dtype=np.uint8)
    x = w.copy()
    for shift in (32, 16, 8, 4, 2, 1):
        top_empty = (x >> np.uint64(64 - shift)) == 0
        n[top_empty] += shift
        x[top_empty] <<= np.uint64(shift)
    return n


def registers(
    codes: np.ndarray, n_groups: int, values: np.ndarray | BytesColumn, p: int
) -> np.ndarray:
    m = 1 << p
    out = np.zeros((n_groups, m), dtype=np.uint8)
    if len(codes) == 0:
        return out
    h = hash_column(values)
    index = (h >> np.uint64(64 - p)).astype(np.int64)
    # a sentinel bit below the p used bits caps rho at 64 - p + 1
    w = (h << np.uint64(p)) | (np.uint64(1) << np.uint64(p - 1))
    rho = _leading_zeros(w) + np.uint8(1)
    np.maximum.at(out.reshape(-1), codes * m + index, rho)
    return out


def merge(codes: np.ndarray, n_groups: int, sketches: np.ndarray) -> np.ndarray:
    out = np.zeros((n_groups, sketches.shape[1]), dtype=np.uint8)
    np.maximum.at(out, codes, sketches)
    return out


def estimate(sketches: np.ndarray) -> np.ndarray:
    m = sketches.shape[1]
    alpha = {16: 0.673, 32: 0.697, 64: 0.709}.get(m, 0.7213 / (1 + 1.079 / m))
    raw = alpha * m * m / np.sum(np.exp2(-sketches.astype(np.float64)), axis=1)
    zeros = np.count_nonzero(sketches == 0, axis=1)
    with np.errstate(divide="ignore"):
        linear = m * np.log(m / np.maximum(zeros, 1))
    small = (raw <= 2.5 * m) & (zeros > 0)
    return np.rint(np.where(small, linear, raw)).astype(np.int64)
