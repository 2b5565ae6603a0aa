"""Build -> read round trips over every codec (builder, records, compression)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pystream import errors, record
from pystream.record import CompressionType, Record

header_st = st.tuples(
    st.text(max_size=8),
    st.one_of(st.none(), st.binary(max_size=16)),
)
record_st = st.builds(
    Record,
    key=st.one_of(st.none(), st.binary(max_size=40)),
    value=st.one_of(st.none(), st.binary(max_size=300)),
    timestamp=st.integers(min_value=-1, max_value=2**42),
    headers=st.lists(header_st, max_size=3).map(tuple),
)
records_st = st.lists(record_st, min_size=1, max_size=30)


def _sent(rs: list[Record]) -> list[tuple[object, ...]]:
    return [(r.key, r.value, r.timestamp, r.headers) for r in rs]


@pytest.mark.parametrize("codec", list(CompressionType))
@settings(max_examples=40, deadline=None)
@given(rs=records_st, base_offset=st.integers(0, 2**40))
def test_round_trip(codec: CompressionType, rs: list[Record], base_offset: int) -> None:
    batch = record.build_batch(rs, base_offset=base_offset, compression=codec)
    got = list(record.iter_records(batch))
    assert _sent(got) == _sent(rs)
    assert [r.offset for r in got] == list(range(base_offset, base_offset + len(rs)))
    info = got[0].batch
    assert info is not None
    assert info.compression == codec
    assert info.record_count == len(rs)
    assert info.base_timestamp == rs[0].timestamp
    assert info.max_timestamp == max(r.timestamp for r in rs)
    assert info.size == len(batch)

    cols = record.decode_columns(batch)
    assert cols.offsets.tolist() == [r.offset for r in got]
    assert cols.timestamps.tolist() == [r.timestamp for r in rs]
    assert cols.keys.to_pylist() == [r.key for r in rs]
    assert cols.values.to_pylist() == [r.value for r in rs]
    assert cols.header_counts.tolist() == [len(r.headers) for r in rs]


@pytest.mark.parametrize("codec", list(CompressionType))
def test_batch_fields_survive(codec: CompressionType) -> None:
    batch = record.build_batch(
        [(b"k", b"v" * 100, 10), (b"k", b"w" * 100, 12)],
        base_offset=5,
        compression=codec.name.lower(),
        producer_id=42,
        producer_epoch=3,
        base_sequence=2**31 - 2,
        partition_leader_epoch=9,
        is_transactional=True,
    )
    (info,) = record.read_batch_infos(batch)
    assert (info.base_offset, info.last_offset) == (5, 6)
    assert (info.producer_id, info.producer_epoch) == (42, 3)
    assert (info.base_sequence, info.last_sequence) == (2**31 - 2, 2**31 - 1)
    assert info.partition_leader_epoch == 9
    assert info.is_transactional and not info.is_control
    assert info.timestamp_type == record.TimestampType.CREATE_TIME


def test_builder_object_matches_one_shot() -> None:
    b = record.RecordBatchBuilder(7, compression=CompressionType.GZIP, compression_level=1)
    b.add(b"a", bytearray(b"x"), 1, [("h", None), (b"raw", b"1")])
    b.add(None, b"y", 2)
    with pytest.raises(TypeError):
        b.add(None, "text is not bytes", 3)  # type: ignore[arg-type]
    assert len(b) == 2 and b.uncompressed_size > 61
    built = b.build()
    rs = list(record.iter_records(built))
    assert [r.headers for r in rs] == [(("h", None), ("raw", b"1")), ()]
    assert [r.value for r in rs] == [b"x", b"y"]
    with pytest.raises(ValueError):
        b.build()
    with pytest.raises(ValueError):
        b.add(None, None, 0)


def test_log_append_time_batches_read_max_timestamp() -> None:
    batch = record.build_batch([(None, b"a", 1), (None, b"b", 5)], log_append_time=True)
    rs = list(record.iter_records(batch))
    assert [r.timestamp for r in rs] == [5, 5]
    assert rs[0].timestamp_type is record.TimestampType.LOG_APPEND_TIME


def test_bad_builder_arguments() -> None:
    with pytest.raises(errors.UnsupportedCompressionError):
        record.RecordBatchBuilder(compression=5)
    with pytest.raises(ValueError):
        record.CompressionType.of("brotli")
    with pytest.raises(errors.InvalidRecordError):
        record.build_batch([])
    with pytest.raises(errors.InvalidRecordError):
        record.build_batch([(None, b"x", 0)], compression="zstd", compression_level=99)
