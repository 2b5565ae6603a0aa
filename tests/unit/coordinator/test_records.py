"""__consumer_offsets record formats and the group -> partition mapping."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pystream.coordinator.records import (
    GroupMetadataKey,
    GroupMetadataValue,
    OffsetAndMetadata,
    OffsetCommitKey,
    OffsetCommitValue,
    RecordFormatError,
    decode_key,
    decode_value,
    group_record,
    offset_from_value,
    offset_record,
)
from pystream.coordinator.store import java_string_hash, partition_for

text = st.text(max_size=40)


def test_offset_key_layout_matches_kafka() -> None:
    key, _ = offset_record("g", "t", 3, None)
    # int16 key version 1, then group, topic as int16-length strings, int32 partition.
    assert key == b"\x00\x01" + b"\x00\x01g" + b"\x00\x01t" + b"\x00\x00\x00\x03"


def test_group_key_layout_matches_kafka() -> None:
    key, value = group_record("grp", None)
    assert key == b"\x00\x02\x00\x03grp"
    assert value is None


def test_offset_value_versions() -> None:
    _, v3 = offset_record("g", "t", 0, OffsetAndMetadata(5, 2, "m", 1000))
    assert v3 is not None and v3[:2] == b"\x00\x03"
    # An explicit expiry needs value version 1 (the only one with the field).
    _, v1 = offset_record("g", "t", 0, OffsetAndMetadata(5, -1, "m", 1000, 2000))
    assert v1 is not None and v1[:2] == b"\x00\x01"
    key = OffsetCommitKey(group="g", topic="t", partition=0)
    back = decode_value(key, v1)
    assert isinstance(back, OffsetCommitValue) and back.expire_timestamp == 2000


@given(text, text, st.integers(0, 2**31 - 1), st.integers(-1, 2**62), text)
def test_offset_record_round_trip(
    group: str, topic: str, partition: int, offset: int, metadata: str
) -> None:
    committed = OffsetAndMetadata(offset, 7, metadata, 123456)
    raw_key, raw_value = offset_record(group, topic, partition, committed)
    key = decode_key(raw_key)
    assert key == OffsetCommitKey(group=group, topic=topic, partition=partition)
    assert raw_value is not None
    value = decode_value(key, raw_value)
    assert isinstance(value, OffsetCommitValue)
    assert offset_from_value(value) == committed


def test_group_value_round_trip_all_versions() -> None:
    from pystream.protocol.codec import Writer

    value = GroupMetadataValue(
        protocol_type="consumer",
        generation=4,
        protocol="range",
        leader="m1",
        current_state_timestamp=99,
        members=[
            GroupMetadataValue.MemberMetadata(
                member_id="m1",
                group_instance_id=None,
                client_id="c",
                client_host="/127.0.0.1",
                rebalance_timeout=300000,
                session_timeout=10000,
                subscription=b"sub",
                assignment=b"asg",
            )
        ],
    )
    key = GroupMetadataKey(group="g")
    for version in range(5):
        w = Writer()
        w.int16(version)
        value.encode(w, version)
        back = decode_value(key, w.getvalue())
        assert isinstance(back, GroupMetadataValue)
        assert back.members[0].subscription == b"sub"
        assert back.generation == 4


@pytest.mark.parametrize(
    "raw",
    [b"", b"\x00", b"\x00\x07abc", b"\x00\x01\x00\x05ab", b"\x00\x02\x00\x01gX"],
)
def test_bad_keys_are_refused(raw: bytes) -> None:
    with pytest.raises(RecordFormatError):
        decode_key(raw)


def test_bad_values_are_refused() -> None:
    key = OffsetCommitKey(group="g", topic="t", partition=0)
    for raw in (b"", b"\x00\x09" + b"\x00" * 30, b"\x00\x03\x00"):
        with pytest.raises(RecordFormatError):
            decode_value(key, raw)


def test_java_string_hash() -> None:
    assert java_string_hash("") == 0
    assert java_string_hash("hello") == 99162322
    assert java_string_hash("polygenelubricants") == -(2**31)
    # Non-BMP characters hash as two UTF-16 code units, like Java.
    assert java_string_hash("\U0001f600") == 1772899


def test_partition_for_matches_kafka_utils_abs() -> None:
    # hashCode MIN_VALUE maps to partition 0 (Utils.abs), not a negative index.
    assert partition_for("polygenelubricants", 50) == 0
    assert partition_for("hello", 50) == 99162322 % 50


@given(st.text(), st.integers(1, 200))
def test_partition_in_range(group: str, n: int) -> None:
    assert 0 <= partition_for(group, n) < n
