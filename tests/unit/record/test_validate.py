"""validate_and_assign: the broker's append-path validation and offset assignment."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pystream import errors, record
from pystream.record import validate_and_assign


def batch(n: int = 2, **kw: object) -> bytes:
    rows = [(f"k{i}".encode(), b"v" * 50, 1000 + i) for i in range(n)]
    return record.build_batch(rows, **kw)  # type: ignore[arg-type]


def test_assigns_offsets_epoch_and_reports_producer_fields() -> None:
    idem = batch(3, producer_id=11, producer_epoch=2, base_sequence=7)
    txn = batch(2, producer_id=12, producer_epoch=0, base_sequence=0, is_transactional=True)
    buf = bytearray(idem + txn)
    info = validate_and_assign(buf, 500, partition_leader_epoch=4)
    assert (info.first_offset, info.last_offset, info.record_count) == (500, 504, 5)
    assert (info.batch_count, info.valid_bytes) == (2, len(buf))
    assert info.is_transactional and info.log_append_time == -1
    b0, b1 = info.batches
    assert (b0.base_offset, b0.last_offset, b0.base_sequence, b0.last_sequence) == (500, 502, 7, 9)
    assert (b1.base_offset, b1.producer_id, b1.is_transactional) == (503, 12, True)
    # Shallow validation: max timestamp from the headers, offset = that batch's last.
    assert (info.max_timestamp, info.offset_of_max_timestamp) == (1002, 502)
    infos = record.read_batch_infos(buf)
    assert [i.base_offset for i in infos] == [500, 503]
    assert {i.partition_leader_epoch for i in infos} == {4}
    assert [r.offset for r in record.iter_records(buf)] == list(range(500, 505))


def test_full_validation_reports_the_exact_offset_of_max_timestamp() -> None:
    rows = [(None, b"a", 5), (None, b"b", 9), (None, b"c", 9), (None, b"d", 1)]
    info = validate_and_assign(bytearray(record.build_batch(rows)), 0, full=True)
    assert (info.max_timestamp, info.offset_of_max_timestamp) == (9, 1)


@pytest.mark.parametrize("codec", list(record.CompressionType))
def test_log_append_time_is_stamped_with_a_valid_crc(codec: record.CompressionType) -> None:
    buf = bytearray(batch(3, compression=codec) + batch(1))
    info = validate_and_assign(buf, 0, log_append_time_ms=1_700_000_000_123, full=True)
    assert info.log_append_time == 1_700_000_000_123
    assert (info.max_timestamp, info.offset_of_max_timestamp) == (1_700_000_000_123, 0)
    assert all(b.max_timestamp == 1_700_000_000_123 for b in info.batches)
    rs = list(record.iter_records(buf))  # checks every CRC
    assert {r.timestamp for r in rs} == {1_700_000_000_123}
    assert {r.timestamp_type for r in rs} == {record.TimestampType.LOG_APPEND_TIME}


def test_create_time_topic_clears_a_client_log_append_time_flag() -> None:
    buf = bytearray(batch(2, log_append_time=True))
    validate_and_assign(buf, 0)
    (info,) = record.read_batch_infos(buf)
    assert info.timestamp_type == record.TimestampType.CREATE_TIME


def _assert_untouched(buf: bytes, exc: type[Exception], match: str, **kw: object) -> None:
    mutable = bytearray(buf)
    with pytest.raises(exc, match=match):
        validate_and_assign(mutable, 77, **kw)  # type: ignore[arg-type]
    assert mutable == buf


def test_all_or_nothing_and_the_error_names_the_batch() -> None:
    good = batch(2)
    bad = bytearray(batch(2))
    bad[-1] ^= 0xFF
    payload = good + good + bytes(bad)
    _assert_untouched(payload, errors.CorruptRecordError, rf"batch 2 at byte {2 * len(good)}: CRC")


def test_header_rules() -> None:
    _assert_untouched(b"", errors.InvalidRecordError, "no record batch")
    big = batch(30)
    _assert_untouched(big, errors.RecordTooLargeError, "exceeds the maximum", max_batch_bytes=500)
    validate_and_assign(bytearray(big), 0, max_batch_bytes=len(big))
    control = batch(1, is_control=True)
    _assert_untouched(control, errors.InvalidRecordError, "control")
    validate_and_assign(bytearray(control), 0, allow_control=True)
    txn = batch(1, is_transactional=True, producer_id=-1)
    _assert_untouched(txn, errors.InvalidRecordError, "without a producer id")
    _assert_untouched(batch(1, producer_id=5), errors.InvalidRecordError, "invalid sequence")
    keyless = record.build_batch([(None, b"v", 0)])
    _assert_untouched(keyless, errors.InvalidRecordError, "no key", require_key=True)


@pytest.mark.parametrize(("count", "lod"), [(2, 5), (0, -1), (3, 1), (-1, -2)])
def test_count_must_match_last_offset_delta(
    count: int, lod: int, recrc: Callable[[bytearray], None]
) -> None:
    b = bytearray(batch(2))
    struct.pack_into(">i", b, 23, lod)
    struct.pack_into(">i", b, 57, count)
    recrc(b)
    _assert_untouched(bytes(b), errors.InvalidRecordError, "record count")


def test_full_validation_checks_offset_deltas(
    craft: Callable[..., bytes], record_bytes: Callable[..., bytes]
) -> None:
    section = record_bytes(b"k", b"a", offset_delta=0) + record_bytes(b"k", b"b", offset_delta=2)
    gappy = craft(section, 2)
    validate_and_assign(bytearray(gappy), 0)  # the header alone looks fine
    _assert_untouched(gappy, errors.InvalidRecordError, "offset delta 2", full=True)


def test_negative_next_offset_and_read_only_buffers() -> None:
    with pytest.raises(errors.InvalidRecordError):
        validate_and_assign(bytearray(batch(1)), -1)
    with pytest.raises(TypeError, match="writable"):
        validate_and_assign(batch(1), 0)  # type: ignore[arg-type]
    # A writable memoryview into a larger buffer works in place.
    whole = bytearray(b"xx" + batch(1))
    validate_and_assign(memoryview(whole)[2:], 9)
    assert record.read_batch_infos(bytes(whole[2:]))[0].base_offset == 9


@given(sizes=st.lists(st.integers(1, 20), min_size=1, max_size=6), start=st.integers(0, 2**50))
@settings(max_examples=50, deadline=None)
def test_offsets_are_contiguous(sizes: list[int], start: int) -> None:
    buf = bytearray(b"".join(batch(n) for n in sizes))
    info = validate_and_assign(buf, start)
    assert info.record_count == sum(sizes)
    assert [r.offset for r in record.iter_records(buf)] == list(range(start, start + sum(sizes)))
    assert [b.base_offset for b in info.batches] == [
        start + sum(sizes[:i]) for i in range(len(sizes))
    ]
