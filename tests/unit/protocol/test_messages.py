"""Every generated class at every valid version: round trips, Kafka's rules for
fields a version lacks, tagged fields."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pystream.protocol import (
    API_BY_KEY,
    Field,
    RawTaggedField,
    Reader,
    Struct,
    UnsupportedVersionError,
    Writer,
)
from pystream.protocol.messages.fetch import FetchResponse
from pystream.protocol.messages.metadata import MetadataRequest
from pystream.protocol.messages.produce import ProduceRequest
from pystream.protocol.testing import class_versions, in_range, messages

CASES = list(class_versions())
IDS = [f"{c.__name__}-v{v}" for c, v in CASES]
_SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck), database=None)


def roundtrip(msg: Any, version: int) -> Any:
    w = Writer()
    msg.encode(w, version)
    data = w.getvalue()
    r = Reader(data)
    out = type(msg).decode(r, version)
    assert r.remaining() == 0
    return out


def test_every_api_has_classes() -> None:
    assert len(API_BY_KEY) >= 85
    assert len(CASES) > 600


@pytest.mark.parametrize(("cls", "version"), CASES, ids=IDS)
@settings(max_examples=4, **_SETTINGS)  # type: ignore[arg-type]
@given(data=st.data())
def test_roundtrip(cls: type[Struct], version: int, data: st.DataObject) -> None:
    msg = data.draw(messages(cls, version))
    assert roundtrip(msg, version) == msg


@pytest.mark.slow
@pytest.mark.parametrize(("cls", "version"), CASES, ids=IDS)
@settings(max_examples=25, **_SETTINGS)  # type: ignore[arg-type]
@given(data=st.data())
def test_roundtrip_deep(cls: type[Struct], version: int, data: st.DataObject) -> None:
    msg = data.draw(messages(cls, version))
    assert roundtrip(msg, version) == msg


def _non_default(f: Field) -> Any:
    """A value different from the field's default, or None if not simple to make."""
    t = f.type
    if t in ("int8", "int16", "int32", "int64", "uint16", "uint32"):
        return 1 if f.default != 1 else 2
    if t == "bool":
        return not f.default
    if t == "string":
        return "x"
    if t == "bytes":
        return b"x"
    if t == "uuid":
        return UUID(int=7)
    if t == "float64":
        return 1.5
    if t in ("[]int32", "[]int64", "[]int8"):
        return [5]
    if t == "[]string":
        return ["x"]
    return None


ABSENT = [
    (cls, v, f)
    for cls, v in CASES
    for f in cls.FIELDS
    if not in_range(v, f.versions) and _non_default(f) is not None
]


@pytest.mark.parametrize(
    ("cls", "version", "field"),
    ABSENT,
    ids=[f"{c.__name__}-v{v}-{f.name}" for c, v, f in ABSENT],
)
def test_field_absent_in_version(cls: type[Struct], version: int, field: Field) -> None:
    msg = cls(**{field.name: _non_default(field)})
    if field.ignorable:
        # Kafka drops ignorable fields the version lacks; they decode to defaults.
        out = roundtrip(msg, version)
        assert getattr(out, field.name) == getattr(cls(), field.name)
    else:
        with pytest.raises(UnsupportedVersionError, match=field.name):
            msg.encode(Writer(), version)


def test_constructor_defaults_follow_schema() -> None:
    part = FetchResponse.PartitionData()
    assert part.last_stable_offset == -1 and part.log_start_offset == -1
    assert part.preferred_read_replica == -1
    assert part.aborted_transactions == []  # nullable, but the default is empty
    assert part.diverging_epoch == FetchResponse.EpochEndOffset(epoch=-1, end_offset=-1)
    # each instance gets its own lists
    a, b = ProduceRequest(), ProduceRequest()
    a.topic_data.append(ProduceRequest.TopicProduceData(name="t"))
    assert b.topic_data == []


def test_nested_and_flat_struct_names_are_the_same_class() -> None:
    assert ProduceRequest.PartitionProduceData is (
        ProduceRequest.TopicProduceData.PartitionProduceData
    )
    assert FetchResponse.AbortedTransaction is (
        FetchResponse.FetchableTopicResponse.PartitionData.AbortedTransaction
    )


def test_null_array_distinct_from_empty() -> None:
    # MetadataRequest topics: null means "all topics", empty means "none".
    assert roundtrip(MetadataRequest(topics=None), 12).topics is None
    assert roundtrip(MetadataRequest(topics=[]), 12).topics == []
    with pytest.raises(Exception, match="non-nullable array"):
        MetadataRequest(topics=None).encode(Writer(), 0)


def test_known_tagged_field_written_only_when_not_default() -> None:
    part = FetchResponse.PartitionData(partition_index=3)
    w = Writer()
    part.encode(w, 12)
    plain = w.getvalue()
    part.diverging_epoch = FetchResponse.EpochEndOffset(epoch=4, end_offset=99)
    w = Writer()
    part.encode(w, 12)
    tagged = w.getvalue()
    assert len(tagged) > len(plain)
    out = FetchResponse.PartitionData.decode(Reader(tagged), 12)
    assert out.diverging_epoch.epoch == 4 and out.diverging_epoch.end_offset == 99


def test_unknown_tagged_fields_survive_and_sort_with_known() -> None:
    part = FetchResponse.PartitionData(
        snapshot_id=FetchResponse.SnapshotId(end_offset=5, epoch=1),
        unknown_tagged_fields=[RawTaggedField(9, b"\x01\x02"), RawTaggedField(1000, b"")],
    )
    out = roundtrip(part, 16)
    assert out.unknown_tagged_fields == [RawTaggedField(9, b"\x01\x02"), RawTaggedField(1000, b"")]
    assert out == part


def test_unknown_tagged_fields_refused_in_non_flexible_version() -> None:
    msg = MetadataRequest(unknown_tagged_fields=[RawTaggedField(5, b"")])
    with pytest.raises(UnsupportedVersionError):
        msg.encode(Writer(), 8)


def test_repr_and_eq() -> None:
    a = ProduceRequest(acks=1)
    assert "acks=1" in repr(a)
    assert a == ProduceRequest(acks=1)
    assert a != ProduceRequest(acks=-1)
    assert a != object()
    assert a.to_dict()["acks"] == 1
