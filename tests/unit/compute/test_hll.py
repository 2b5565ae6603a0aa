import numpy as np
import pytest

from pystream.compute import hll
from pystream.streams.bytes_column import BytesColumn


@pytest.mark.parametrize("n", [0, 1, 7, 100, 5_000, 200_000])
def test_estimate_within_four_standard_errors(n: int) -> None:
    p = 10
    values = np.arange(n, dtype=np.int64) * 2_654_435_761
    est = hll.estimate(hll.registers(np.zeros(n, np.int64), 1, values, p))[0]
    assert abs(est - n) <= max(4 * 1.04 / np.sqrt(1 << p) * n, 1)


def test_duplicates_do_not_count_and_sketches_merge_exactly() -> None:
    values = np.tile(np.arange(1000, dtype=np.int64), 5)
    codes = np.zeros(len(values), np.int64)
    whole = hll.registers(codes, 1, values, 9)
    halves = np.concatenate(
        [
            hll.registers(codes[:2500], 1, values[:2500], 9),
            hll.registers(codes[2500:], 1, values[2500:], 9),
        ]
    )
    merged = hll.merge(np.zeros(2, np.int64), 1, halves)
    assert np.array_equal(whole, merged)
    assert abs(int(hll.estimate(whole)[0]) - 1000) < 120


def test_groups_are_independent_and_bytes_hash() -> None:
    col = BytesColumn.from_pylist([b"x", b"y", b"x", b"z"])
    est = hll.estimate(hll.registers(np.array([0, 0, 0, 1]), 2, col, 8))
    assert est.tolist() == [2, 1]


def test_precision_for_rsd() -> None:
    assert hll.precision_for(0.05) == 9
    with pytest.raises(ValueError):
        hll.precision_for(0)
