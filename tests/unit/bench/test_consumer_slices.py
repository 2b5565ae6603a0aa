"""Offset slices that let several consumer processes share one partition."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from pystream.bench.consumer import slice_bounds


@given(
    low=st.integers(0, 10**12),
    size=st.integers(0, 10**7),
    count=st.integers(1, 64),
)
def test_slices_cover_the_range_exactly_once_and_nearly_evenly(
    low: int, size: int, count: int
) -> None:
    slices = [slice_bounds(low, low + size, i, count) for i in range(count)]
    assert slices[0][0] == low and slices[-1][1] == low + size
    assert all(a[1] == b[0] for a, b in itertools.pairwise(slices))
    lengths = [end - start for start, end in slices]
    assert sum(lengths) == size and max(lengths) - min(lengths) <= 1
