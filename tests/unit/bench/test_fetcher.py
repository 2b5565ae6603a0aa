"""The wire-level fetch reader's per-batch accounting (no broker needed)."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from pystream.bench.fetcher import batch_spans, counted


def batch(base: int, count: int, body: int = 40) -> bytes:
    """A record batch as far as the reader looks: the v2 header fields up to lastOffsetDelta.

    baseOffset(8) batchLength(4) partitionLeaderEpoch(4) magic(1) crc(4) attributes(2)
    lastOffsetDelta(4), then filler standing in for the rest of the header and the records.
    """
    rest = struct.pack(">iBIhi", 0, 2, 0, 0, count - 1) + b"\0" * body
    return struct.pack(">qi", base, len(rest)) + rest


def test_spans_of_whole_batches_and_a_cut_off_tail_is_left_out() -> None:
    data = batch(0, 10) + batch(10, 5) + batch(15, 3)[:-7]
    spans = batch_spans(memoryview(data))
    assert spans == [(0, 9, len(batch(0, 10))), (10, 14, len(batch(10, 5)))]


def test_counted_keeps_only_the_slice_and_advances_past_whole_batches() -> None:
    size = len(batch(0, 10))
    spans = batch_spans(memoryview(batch(0, 10) + batch(10, 10)))
    # Slice [5, 12): 5 records of the first batch and 2 of the second.
    records, nbytes, next_offset = counted(spans, 5, 12)
    assert records == 7
    assert nbytes == size * 5 // 10 + size * 2 // 10
    assert next_offset == 20
    # A fetch that starts mid-batch (the broker returns the whole batch) counts from start.
    assert counted(spans, 15, 2**62)[:1] == (5,)
    assert counted([], 7, 9) == (0, 0, 7)


@given(st.binary(max_size=400))
def test_garbage_never_yields_spans_beyond_the_data(data: bytes) -> None:
    spans = batch_spans(memoryview(data))
    assert sum(size for _, _, size in spans) <= len(data)
    assert all(size >= 27 for _, _, size in spans)


@given(
    counts=st.lists(st.integers(1, 50), min_size=1, max_size=8),
    start=st.integers(0, 400),
    length=st.integers(0, 400),
)
def test_counted_records_are_the_overlap_of_slice_and_batches(
    counts: list[int], start: int, length: int
) -> None:
    data, base = b"", 0
    for n in counts:
        data += batch(base, n)
        base += n
    records, _, next_offset = counted(batch_spans(memoryview(data)), start, start + length)
    assert records == max(0, min(base, start + length) - min(start, base))
    assert next_offset == max(start, base)
