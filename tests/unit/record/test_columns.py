"""decode_columns: one call from batches to numpy columns, without copies."""

from __future__ import annotations

import numpy as np
import pytest

from pystream import _native, errors, record


def test_columns_of_several_batches_and_codecs() -> None:
    buf = record.build_batch(
        [(b"a", b"1", 10, [("h", b"x")]), (None, b"22", 11), (b"ccc", None, 9)], base_offset=0
    ) + record.build_batch([(b"", b"", 20)], base_offset=3, compression="gzip")
    cols = record.decode_columns(buf)
    assert len(cols) == 4
    assert cols.offsets.dtype == np.int64 and cols.offsets.tolist() == [0, 1, 2, 3]
    assert cols.timestamps.tolist() == [10, 11, 9, 20]
    assert cols.header_counts.dtype == np.int32 and cols.header_counts.tolist() == [1, 0, 0, 0]
    assert cols.keys.offsets.tolist() == [0, 1, 1, 4, 4]
    assert cols.keys.data.tobytes() == b"accc"
    assert cols.keys.valid.tolist() == [True, False, True, True]
    assert cols.keys.to_pylist() == [b"a", None, b"ccc", b""]
    assert cols.values.to_pylist() == [b"1", b"22", None, b""]


def test_arrays_are_read_only_views_of_native_memory() -> None:
    raw = _native.decode_columns(record.build_batch([(b"k", b"v", 1)]))
    buf = raw["offsets"]
    assert isinstance(buf, _native.NativeBuffer) and buf.dtype == "int64" and len(buf) == 8
    arr = np.frombuffer(memoryview(buf), dtype=buf.dtype)
    assert not arr.flags.writeable
    assert arr.base is not None  # a view, kept alive by the buffer
    del raw, buf
    assert arr.tolist() == [0]
    key_data = _native.decode_columns(record.build_batch([(b"k", b"v", 1)]))["key_data"]
    assert isinstance(key_data, _native.NativeBuffer)
    assert memoryview(key_data).readonly
    with pytest.raises((TypeError, BufferError)):
        _writable(key_data)


def _writable(b: object) -> None:
    import ctypes

    ctypes.c_char.from_buffer(b)  # type: ignore[arg-type]  # asks for a writable buffer


def test_control_batches_are_skipped_unless_asked() -> None:
    data = record.build_batch([(b"k", b"v", 1)])
    marker = record.build_batch(
        [(b"\x00\x00\x00\x01", b"\x00\x00\x00\x00\x00\x00", 2)],
        base_offset=1,
        is_control=True,
        producer_id=3,
        producer_epoch=0,
        is_transactional=True,
    )
    assert record.decode_columns(data + marker).offsets.tolist() == [0]
    assert record.decode_columns(data + marker, skip_control=False).offsets.tolist() == [0, 1]


def test_empty_input_gives_empty_columns() -> None:
    cols = record.decode_columns(b"")
    assert len(cols) == 0 and cols.keys.offsets.tolist() == [0]


def test_errors_name_the_batch() -> None:
    one = record.build_batch([(b"k", b"v", 1)])
    bad = bytearray(one)
    bad[-1] ^= 1
    with pytest.raises(errors.CorruptRecordError, match=f"batch 1 at byte {len(one)}"):
        record.decode_columns(one + bytes(bad))


def test_large_compressed_input_matches_iter_records() -> None:
    rows = [(b"k%d" % i, b"v" * (i % 300), i) for i in range(3000)]
    buf = record.build_batch(rows, compression="lz4")
    cols = record.decode_columns(buf)
    assert cols.values.to_pylist() == [r.value for r in record.iter_records(buf)]
