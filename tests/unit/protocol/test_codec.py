"""Primitive wire types of Reader and Writer."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pystream.protocol import EncodeError, FileSlice, InvalidRequestError, Reader, Writer
from pystream.protocol.types import ZERO_UUID, uuid_from_kafka_str, uuid_to_kafka_str


@given(st.integers(0, 2**32 - 1))
def test_uvarint_roundtrip(v: int) -> None:
    w = Writer()
    w.uvarint(v)
    data = w.getvalue()
    assert len(data) <= 5
    r = Reader(data)
    assert r.uvarint() == v and r.remaining() == 0


def test_uvarint_known_encodings() -> None:
    for value, encoded in [(0, b"\x00"), (127, b"\x7f"), (128, b"\x80\x01"), (300, b"\xac\x02")]:
        w = Writer()
        w.uvarint(value)
        assert w.getvalue() == encoded


def test_uvarint_too_long_or_too_big() -> None:
    with pytest.raises(InvalidRequestError, match="longer than 5"):
        Reader(b"\xff\xff\xff\xff\xff\x01").uvarint()
    with pytest.raises(InvalidRequestError, match="32-bit"):
        Reader(b"\xff\xff\xff\xff\x7f").uvarint()
    with pytest.raises(EncodeError):
        Writer().uvarint(-1)


@pytest.mark.parametrize("flex", [False, True])
@given(s=st.none() | st.text(st.characters(exclude_categories=["Cs"]), max_size=50))
def test_nullable_string_roundtrip(flex: bool, s: str | None) -> None:
    w = Writer()
    w.nullable_string(s, flex)
    r = Reader(w.getvalue())
    assert r.nullable_string(flex) == s and r.remaining() == 0


def test_string_wire_forms() -> None:
    w = Writer()
    w.string("ab", False)
    w.string("ab", True)
    w.nullable_string(None, False)
    w.nullable_string(None, True)
    assert w.getvalue() == b"\x00\x02ab" + b"\x03ab" + b"\xff\xff" + b"\x00"


def test_string_errors() -> None:
    with pytest.raises(EncodeError, match="non-nullable"):
        Writer().string(None, False)
    with pytest.raises(EncodeError, match="longer than 32767"):
        Writer().string("x" * 40000, True)
    with pytest.raises(InvalidRequestError, match="not UTF-8"):
        Reader(b"\x00\x02\xff\xfe").string(False)
    with pytest.raises(InvalidRequestError, match="non-nullable string"):
        Reader(b"\xff\xff").string(False)


@given(st.binary(max_size=100), st.booleans())
def test_bytes_and_records_roundtrip(data: bytes, flex: bool) -> None:
    w = Writer()
    w.bytes_(data, flex)
    w.records(data, flex)
    w.records(None, flex)
    r = Reader(w.getvalue())
    assert r.bytes_(flex) == data
    rec = r.records(flex)
    assert isinstance(rec, memoryview) and rec == data
    assert r.records(flex) is None


@pytest.mark.parametrize(
    ("method", "value"),
    [("int8", 128), ("int16", -32769), ("int32", 2**31), ("int64", 2**63), ("uint16", -1)],
)
def test_integer_out_of_range(method: str, value: int) -> None:
    with pytest.raises(EncodeError):
        getattr(Writer(), method)(value)


@given(st.lists(st.integers(-(2**31), 2**31 - 1), max_size=20))
def test_int32_array(values: list[int]) -> None:
    w = Writer()
    w.int32_array(values)
    r = Reader(w.getvalue())
    assert r.int32_array(len(values)) == values


def test_fixed_types_big_endian() -> None:
    w = Writer()
    w.int16(1)
    w.int32(-2)
    w.int64(3)
    w.boolean(True)
    w.float64(1.5)
    w.uuid(ZERO_UUID)
    r = Reader(w.getvalue())
    assert (r.int16(), r.int32(), r.int64(), r.boolean(), r.float64()) == (1, -2, 3, True, 1.5)
    assert r.uuid() == ZERO_UUID
    assert w.getvalue()[:2] == b"\x00\x01"


def test_writer_chunks_file_slices() -> None:
    w = Writer()
    w.int32(7)
    fs = FileSlice(3, 10, 100)
    w.records(fs, False)
    w.int16(1)
    chunks = w.chunks()
    assert [bytes(c) if not isinstance(c, FileSlice) else c for c in chunks] == [
        b"\x00\x00\x00\x07\x00\x00\x00\x64",
        fs,
        b"\x00\x01",
    ]
    assert w.size() == 8 + 100 + 2
    with pytest.raises(EncodeError):
        w.getvalue()


def test_file_slice() -> None:
    assert len(FileSlice(1, 0, 42)) == 42
    with pytest.raises(ValueError):
        FileSlice(1, -1, 5)


def test_kafka_uuid_strings() -> None:
    assert uuid_to_kafka_str(ZERO_UUID) == "AAAAAAAAAAAAAAAAAAAAAA"
    u = uuid_from_kafka_str("MTIzNDU2Nzg5MDEyMzQ1Ng")
    assert u.bytes == b"1234567890123456"
    assert uuid_to_kafka_str(u) == "MTIzNDU2Nzg5MDEyMzQ1Ng"


def test_error_codes() -> None:
    from pystream.protocol import ErrorCode

    assert ErrorCode.NONE == 0 and ErrorCode.OFFSET_OUT_OF_RANGE == 1
    assert ErrorCode.UNKNOWN_TOPIC_OR_PARTITION == 3 and ErrorCode.UNSUPPORTED_VERSION == 35
    assert ErrorCode.for_code(32000) is ErrorCode.UNKNOWN_SERVER_ERROR
    assert ErrorCode.NOT_LEADER_OR_FOLLOWER.retriable
    assert not ErrorCode.TOPIC_AUTHORIZATION_FAILED.retriable
