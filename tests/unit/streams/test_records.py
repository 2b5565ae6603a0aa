from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pystream._native import CorruptRecordError
from pystream.record import build_batch
from pystream.streams.sources.records import decode_range, scan_batches, topic_column

Rec = tuple[bytes | None, bytes | None, int]


def log_bytes(batch_sizes: list[int], start: int = 0) -> tuple[bytes, list[tuple[int, Rec]]]:
    """Concatenated batches with consecutive offsets from `start`, and the expected rows."""
    out, rows, offset = [], [], start
    for size in batch_sizes:
        recs: list[Rec] = [
            (
                None if i % 5 == 0 else f"k{offset + i}".encode(),
                f"v{offset + i}".encode() * (i % 3),
                1_000 + offset + i,
            )
            for i in range(size)
        ]
        out.append(build_batch(recs, base_offset=offset))
        rows.extend((offset + i, r) for i, r in enumerate(recs))
        offset += size
    return b"".join(out), rows


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 20), min_size=1, max_size=8),
    start=st.integers(0, 1000),
    data=st.data(),
)
def test_decode_range_returns_exactly_the_range(
    sizes: list[int], start: int, data: st.DataObject
) -> None:
    buf, rows = log_bytes(sizes, start)
    end = start + sum(sizes)
    lo = data.draw(st.integers(start, end))
    hi = data.draw(st.integers(lo, end))
    chunk = scan_batches(buf, lo, hi)
    batch = decode_range(memoryview(buf)[chunk.start : chunk.stop], "clicks", 3, lo, hi)
    want = [r for r in rows if lo <= r[0] < hi]
    assert batch["offset"].tolist() == [o for o, _ in want]
    assert batch["key"].to_pylist() == [r[0] for _, r in want]
    assert batch["value"].to_pylist() == [r[1] for _, r in want]
    assert batch["timestamp"].tolist() == [r[2] for _, r in want]
    assert batch["partition"].tolist() == [3] * len(want)
    assert batch["topic"].to_pylist() == ["clicks"] * len(want)
    assert chunk.next_offset >= hi
    if hi == end:
        assert chunk.next_offset == end


def test_scan_ignores_a_torn_last_batch() -> None:
    buf, _ = log_bytes([4, 4])
    whole = len(buf)
    torn = buf + build_batch([(b"k", b"v", 1)], base_offset=8)[:30]
    chunk = scan_batches(torn, 0, 100)
    assert chunk.complete_bytes == whole
    assert chunk.next_offset == 8


def test_scan_skips_batches_outside_the_range() -> None:
    buf, _ = log_bytes([5, 5, 5])
    chunk = scan_batches(buf, 6, 9)
    first = len(build_batch([(b"k", b"v", 1)] * 5))
    assert chunk.start > 0 and chunk.stop < len(buf)
    assert chunk.start == pytest.approx(first, abs=first)  # starts at the second batch
    assert decode_range(memoryview(buf)[chunk.start : chunk.stop], "t", 0, 6, 9)[
        "offset"
    ].tolist() == [6, 7, 8]


def test_corrupt_batch_is_an_error_not_garbage() -> None:
    buf = bytearray(log_bytes([3])[0])
    buf[-1] ^= 0xFF  # flips a record byte: the CRC no longer matches
    with pytest.raises(CorruptRecordError):
        decode_range(buf, "t", 0, 0, 3)


def test_topic_column_repeats_the_name() -> None:
    assert topic_column("abc", 3).to_pylist() == ["abc"] * 3
    assert topic_column("abc", 0).to_pylist() == []


def test_timestamp_type_column_follows_each_batch_and_skips_control_batches() -> None:
    create = build_batch([(b"a", b"1", 10), (b"b", b"2", 11)], base_offset=0)
    control = build_batch(
        [(b"\x00\x00\x00\x00", b"\x00\x00\x00\x00\x00\x00", 12)],
        base_offset=2,
        producer_id=7,
        producer_epoch=0,
        is_transactional=True,
        is_control=True,
    )
    appended = build_batch([(b"c", b"3", 13)], base_offset=3, log_append_time=True)
    buf = create + control + appended
    batch = decode_range(buf, "t", 0, 0, 4)
    assert batch["offset"].tolist() == [0, 1, 3]
    assert batch["timestampType"].tolist() == [0, 0, 1]
    assert batch["timestampType"].dtype.name == "int32"
    part = decode_range(buf, "t", 0, 1, 4)
    assert part["timestampType"].tolist() == [0, 1]
