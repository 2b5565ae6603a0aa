import numpy as np
import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from pystream.compute.hashing import hash_key, partition_for, xxh64_bytes, xxh64_u64
from pystream.streams.bytes_column import BytesColumn


@given(
    st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=50),
    st.integers(0, 2**32),
)
def test_fixed_width_hash_matches_reference(values: list[int], seed: int) -> None:
    got = xxh64_u64(np.array(values, dtype=np.int64), seed)
    want = [xxhash.xxh64_intdigest(v.to_bytes(8, "little", signed=True), seed=seed) for v in values]
    assert got.tolist() == want


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(max_size=100), max_size=30), st.integers(0, 2**32))
def test_bytes_hash_matches_reference_at_every_length(values: list[bytes], seed: int) -> None:
    got = xxh64_bytes(BytesColumn.from_pylist(values), seed)
    assert got.tolist() == [xxhash.xxh64_intdigest(v, seed=seed) for v in values]


def test_bytes_hash_of_taken_rows_uses_the_rows_own_bytes() -> None:
    col = BytesColumn.from_pylist([b"a" * 40, b"bb", b"ccc"]).take(np.array([2, 0]))
    assert xxh64_bytes(col).tolist() == [
        xxhash.xxh64_intdigest(b"ccc"),
        xxhash.xxh64_intdigest(b"a" * 40),
    ]


def test_partitions_are_stable_and_in_range() -> None:
    keys = np.arange(10_000, dtype=np.int64)
    parts = partition_for([keys], 7)
    assert parts.min() >= 0 and parts.max() < 7
    assert np.array_equal(parts, partition_for([keys], 7))
    counts = np.bincount(parts, minlength=7)
    assert counts.min() > 10_000 / 7 * 0.8  # xxhash spreads sequential keys evenly


def test_multi_column_key_depends_on_every_column_and_order() -> None:
    a = np.array([1, 1, 2], dtype=np.int64)
    b = np.array([2, 3, 1], dtype=np.int64)
    h = hash_key([a, b])
    assert len(set(h.tolist())) == 3
    assert h[0] != hash_key([b, a])[0]


def test_zero_partitions_is_an_error() -> None:
    with pytest.raises(ValueError):
        partition_for([np.arange(3)], 0)


@settings(max_examples=50, deadline=None)
@given(
    keys=st.lists(st.one_of(st.none(), st.binary(max_size=40)), max_size=60),
    partitions=st.integers(1, 64),
)
def test_kafka_partition_for_matches_the_client_partitioner(
    keys: list[bytes | None], partitions: int
) -> None:
    from pystream.client.partitioner import murmur2_partition
    from pystream.compute.hashing import kafka_partition_for
    from pystream.streams.bytes_column import BytesColumn

    got = kafka_partition_for(BytesColumn.from_pylist(keys), partitions).tolist()
    assert got == [-1 if k is None else murmur2_partition(k, partitions) for k in keys]
