from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pystream.streams import MemorySource, rate_source
from pystream.streams.sources.base import cap_offsets


@given(
    st.dictionaries(
        st.integers(0, 5), st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1
    ),
    st.one_of(st.none(), st.integers(1, 120)),
)
def test_cap_offsets_never_exceeds_the_cap_or_goes_backwards(parts: dict, cap: int | None) -> None:
    start = {p: a for p, (a, _) in parts.items()}
    latest = {p: a + b for p, (a, b) in parts.items()}
    end = cap_offsets(start, latest, cap)
    assert all(start[p] <= end[p] <= latest[p] for p in parts)
    taken = sum(end[p] - start[p] for p in parts)
    available = sum(latest[p] - start[p] for p in parts)
    assert taken == (available if cap is None else min(cap, available))


def test_rate_source_is_deterministic_and_round_robin() -> None:
    src = rate_source(total=10, partitions=3, rows_per_second=None)
    assert src.bounded
    latest = src.latest_offsets()
    assert latest == {0: 4, 1: 3, 2: 3}
    batch = src.read({0: 0, 1: 0, 2: 0}, latest)
    assert sorted(np.asarray(batch["value"]).tolist()) == list(range(10))
    again = src.read({0: 1, 1: 0, 2: 0}, {0: 2, 1: 0, 2: 0})
    assert np.asarray(again["value"]).tolist() == [3]


def test_memory_source_checks_columns() -> None:
    src = MemorySource({"a": "int64"})
    with pytest.raises(ValueError, match="columns"):
        src.add_data([{"b": 1}])


def test_unknown_partitions_in_starting_offsets() -> None:
    src = MemorySource({"a": "int64"})
    with pytest.raises(ValueError, match="unknown partitions"):
        src.resolve_starting_offsets({5: 0})
