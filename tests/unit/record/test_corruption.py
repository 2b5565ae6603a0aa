"""Bad input gets a clear error and loses nothing: flipped bytes, truncation,
bad varints and lengths, decompression bombs."""

from __future__ import annotations

import gzip
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pystream import _native, errors, record

# Bytes of the header the CRC does not cover: baseOffset and partitionLeaderEpoch.
UNCOVERED = set(range(0, 8)) | set(range(12, 16))


def small_batch(codec: str = "none") -> bytes:
    return record.build_batch(
        [(b"key", b"value-1", 100, [("h", b"1")]), (None, b"value-2", 101)],
        compression=codec,
    )


def readers(buf: bytes) -> list[Callable[[], object]]:
    return [
        lambda: _native.validate_and_assign(bytearray(buf), 0),
        lambda: _native.validate_and_assign(bytearray(buf), 0, full=True),
        lambda: _native.iter_records(buf),
        lambda: _native.decode_columns(buf),
    ]


@pytest.mark.parametrize("codec", ["none", "zstd"])
def test_every_flipped_byte_is_detected(codec: str) -> None:
    good = small_batch(codec)
    for pos in range(len(good)):
        bad = bytearray(good)
        bad[pos] ^= 0x01
        if pos in UNCOVERED:
            continue  # rewritten by the broker, not protected by the CRC
        for read in readers(bytes(bad)):
            with pytest.raises(errors.NativeError):
                read()


def test_flips_outside_the_crc_change_only_those_fields() -> None:
    good = small_batch()
    bad = bytearray(good)
    bad[7] ^= 0x01  # baseOffset 0 -> 1
    assert [r.offset for r in record.iter_records(bytes(bad))] == [1, 2]


def test_every_truncation_is_detected() -> None:
    good = small_batch()
    two = good + good
    for cut in range(1, len(two)):
        if cut == len(good):
            continue  # a whole first batch is a valid payload
        for read in readers(two[:cut]):
            with pytest.raises(errors.CorruptRecordError):
                read()


def test_partial_tail_is_skipped_only_when_allowed() -> None:
    good = small_batch()
    cut = good + good[:30]
    assert len(record.read_batch_infos(cut, allow_partial_tail=True)) == 1
    assert len(list(record.iter_records(cut, allow_partial_tail=True))) == 2
    assert len(record.decode_columns(cut, allow_partial_tail=True)) == 2
    with pytest.raises(errors.CorruptRecordError, match="batch 1 at byte"):
        record.read_batch_infos(cut)


@given(data=st.data())
@settings(max_examples=300, deadline=None)
def test_random_damage_never_crashes(data: st.DataObject) -> None:
    """Without the CRC to catch it, garbage in records still only raises."""
    good = bytearray(small_batch(data.draw(st.sampled_from(["none", "gzip", "lz4"]))))
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(21, len(good) - 1))
        good[pos] = data.draw(st.integers(0, 255))
    buf = bytes(good)
    for call in (
        lambda: _native.iter_records(buf, verify_crc=False),
        lambda: _native.decode_columns(buf, verify_crc=False),
    ):
        try:
            call()
        except errors.NativeError:
            pass


def test_bad_varints(craft: Callable[..., bytes], varint: Callable[[int], bytes]) -> None:
    cases = {
        "varint too long": b"\x80\x80\x80\x80\x80\x01" + b"\x00" * 10,
        "varint overflow": b"\xff\xff\xff\xff\x7f" + b"\x00" * 10,
        "truncated varint": b"\x80",
        "negative length": varint(-5) + b"\x00" * 10,
        "length past end": varint(1000) + b"\x00" * 10,
    }
    for section in cases.values():
        batch = craft(section, 1)
        with pytest.raises(errors.CorruptRecordError):
            _native.iter_records(batch)
        with pytest.raises(errors.CorruptRecordError):
            _native.validate_and_assign(bytearray(batch), 0, full=True)


def test_record_level_lengths(
    craft: Callable[..., bytes],
    record_bytes: Callable[..., bytes],
    varint: Callable[[int], bytes],
) -> None:
    ok = record_bytes(b"k", b"v")
    craft(ok, 1)
    bad_sections = {
        "key of 50 bytes": varint(6) + b"\x00\x00\x00" + varint(50) + b"kv",
        "null header key": record_bytes(b"k", b"v", headers=[(None, b"x")]),
        "but its fields use": varint(len(ok)) + ok[1:] + b"\x00",
        "header count -2": varint(6) + b"\x00\x00\x00" + varint(-1) + varint(-1) + varint(-2),
    }
    for why, section in bad_sections.items():
        with pytest.raises(errors.CorruptRecordError, match=why):
            _native.iter_records(craft(section, 1))
    with pytest.raises(errors.CorruptRecordError, match=r"truncated|bytes"):
        _native.iter_records(craft(ok, 2, last_offset_delta=1))
    with pytest.raises(errors.CorruptRecordError, match="after the last record"):
        _native.iter_records(craft(ok + ok, 1))
    with pytest.raises(errors.CorruptRecordError, match="record count"):
        _native.iter_records(craft(ok, 10**9))


def _bomb(codec: str, size: int) -> bytes:
    zeros = b"\x00" * size
    if codec == "gzip":
        return gzip.compress(zeros)
    if codec == "zstd":
        zstandard = pytest.importorskip("zstandard")
        return bytes(zstandard.ZstdCompressor().compress(zeros))
    if codec == "lz4":
        lz4frame = pytest.importorskip("lz4.frame")
        return bytes(lz4frame.compress(zeros))
    snappy = pytest.importorskip("snappy")
    return bytes(snappy.compress(zeros))


@pytest.mark.parametrize("codec", ["gzip", "snappy", "lz4", "zstd"])
def test_decompression_bombs_stop_at_the_cap(codec: str, craft: Callable[..., bytes]) -> None:
    attributes = int(record.CompressionType.of(codec))
    batch = craft(_bomb(codec, 8 << 20), 1, attributes=attributes)
    assert len(batch) < 1 << 20
    cap = 1 << 20
    with pytest.raises(errors.CorruptRecordError, match="exceeds the limit"):
        _native.iter_records(batch, max_decompressed_bytes=cap)
    with pytest.raises(errors.CorruptRecordError, match="exceeds the limit"):
        _native.decode_columns(batch, max_decompressed_bytes=cap)
    with pytest.raises(errors.CorruptRecordError, match="exceeds the limit"):
        _native.validate_and_assign(bytearray(batch), 0, full=True, max_decompressed_bytes=cap)
    # Shallow validation does not decompress, so it accepts the header.
    _native.validate_and_assign(bytearray(batch), 0)


def test_default_cap_stops_a_large_bomb(craft: Callable[..., bytes]) -> None:
    zstandard = pytest.importorskip("zstandard")
    blob = zstandard.ZstdCompressor().compress(
        b"\x00" * (_native.DEFAULT_MAX_DECOMPRESSED_BYTES + 1)
    )
    with pytest.raises(errors.CorruptRecordError, match="exceeds the limit"):
        _native.iter_records(craft(blob, 1, attributes=4))


def test_unknown_codec_and_magic(craft: Callable[..., bytes]) -> None:
    with pytest.raises(errors.UnsupportedCompressionError):
        _native.iter_records(craft(b"\x00" * 7, 1, attributes=6))
    bad = bytearray(small_batch())
    bad[16] = 1
    with pytest.raises(errors.CorruptRecordError, match="magic"):
        _native.iter_records(bytes(bad))
