"""decode_columns' headers output: flat header arrays in the same call as the other columns,
checked against `iter_records` (the per-record reader) on every codec."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pystream import _native, record
from pystream.record import CompressionType, Record

Headers = list[tuple[str, bytes | None]]


def native_headers(buf: bytes) -> tuple[int, list[Headers]]:
    """Per record (key, value) pairs rebuilt from the flat native buffers."""
    raw = _native.decode_columns(buf)
    n = int(raw["count"])  # type: ignore[arg-type]
    if "header_offsets" not in raw:
        return n, [[] for _ in range(n)]

    def arr(name: str) -> np.ndarray:
        b = raw[name]
        assert isinstance(b, _native.NativeBuffer)
        return np.frombuffer(memoryview(b), dtype=b.dtype)

    offsets = arr("header_offsets").tolist()
    koff, kdata = arr("header_key_offsets").tolist(), arr("header_key_data").tobytes()
    voff, vdata = arr("header_value_offsets").tolist(), arr("header_value_data").tobytes()
    vvalid = arr("header_value_valid").tolist()
    assert len(offsets) == n + 1 and offsets[0] == 0
    assert len(koff) == len(voff) == len(vvalid) + 1 == offsets[-1] + 1
    out = []
    for i in range(n):
        out.append(
            [
                (
                    kdata[koff[j] : koff[j + 1]].decode(),
                    vdata[voff[j] : voff[j + 1]] if vvalid[j] else None,
                )
                for j in range(offsets[i], offsets[i + 1])
            ]
        )
    return n, out


header_st = st.tuples(st.text(max_size=10), st.one_of(st.none(), st.binary(max_size=20)))
records_st = st.lists(
    st.builds(
        Record,
        key=st.one_of(st.none(), st.binary(max_size=8)),
        value=st.one_of(st.none(), st.binary(max_size=30)),
        timestamp=st.integers(0, 2**40),
        headers=st.one_of(
            st.just(()),
            st.lists(header_st, max_size=4).map(tuple),
            st.lists(header_st, min_size=30, max_size=60).map(tuple),
        ),
    ),
    min_size=1,
    max_size=20,
)


@pytest.mark.parametrize("codec", list(CompressionType))
@settings(max_examples=30, deadline=None)
@given(batches=st.lists(records_st, min_size=1, max_size=3))
def test_headers_match_iter_records(codec: CompressionType, batches: list[list[Record]]) -> None:
    buf = b"".join(
        record.build_batch(rs, base_offset=sum(map(len, batches[:i])), compression=codec)
        for i, rs in enumerate(batches)
    )
    n, got = native_headers(buf)
    want = [list(r.headers) for r in record.iter_records(buf)]
    assert n == len(want)
    assert got == want
    assert record.decode_columns(buf).header_counts.tolist() == [len(h) for h in want]


def test_zero_headers_leave_the_header_buffers_out() -> None:
    raw = _native.decode_columns(record.build_batch([(b"k", b"v", 1), (None, None, 2)]))
    assert not any(k.startswith("header_") and k != "header_counts" for k in raw)


def test_null_empty_and_many_headers_in_a_compressed_batch() -> None:
    many = tuple((f"h{i}", bytes([i % 256]) * (i % 5)) for i in range(300))
    rs = [
        Record(b"a", b"1", 1, (("trace-id", None), ("", b""))),
        Record(b"b", b"2", 2, ()),
        Record(b"c", b"3", 3, many),
    ]
    buf = record.build_batch(rs, compression="zstd")
    _, got = native_headers(buf)
    assert got == [[("trace-id", None), ("", b"")], [], list(many)]


def test_header_buffers_are_released_with_their_arrays() -> None:
    buf = record.build_batch([(b"k", b"v", 1, [("x", b"y" * 1000)])] * 10)
    raw: dict[str, Any] = _native.decode_columns(buf)
    data = np.frombuffer(memoryview(raw.pop("header_value_data")), np.uint8)
    del raw
    assert data.tobytes() == b"y" * 10_000  # the array keeps the Rust buffer alive
