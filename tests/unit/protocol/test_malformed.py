"""Bad input: every failure is a ProtocolError, and no size field makes the
decoder allocate more than the bytes it was given."""

from __future__ import annotations

import struct
import tracemalloc
from pathlib import Path

import pytest

from pystream.protocol import (
    InvalidRequestError,
    ProtocolError,
    RequestHeader,
    decode_request,
    encode_request,
)
from pystream.protocol.messages.fetch import FetchRequest
from pystream.protocol.messages.metadata import MetadataRequest
from pystream.protocol.messages.produce import ProduceRequest

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.bin"))


def _frames() -> list[tuple[str, bytes]]:
    out = [(p.stem, p.read_bytes()) for p in FIXTURES]
    fetch = FetchRequest(
        max_wait_ms=500,
        topics=[
            FetchRequest.FetchTopic(
                topic="t", partitions=[FetchRequest.FetchPartition(partition=1, fetch_offset=9)]
            )
        ],
    )
    for v in (4, 12, 16):
        h = RequestHeader(request_api_key=1, request_api_version=v, correlation_id=3, client_id="c")
        out.append((f"fetch-v{v}", encode_request(h, fetch)[4:]))
    return out


FRAMES = _frames()


@pytest.mark.parametrize(("name", "frame"), FRAMES, ids=[n for n, _ in FRAMES])
def test_truncated_at_every_byte(name: str, frame: bytes) -> None:
    decode_request(frame)
    for cut in range(len(frame)):
        with pytest.raises(ProtocolError):
            decode_request(frame[:cut])


def _metadata_v4_with_topic_count(count: int) -> bytes:
    header = struct.pack(">hhih", 3, 4, 1, -1)  # key, version, correlation id, null client id
    return header + struct.pack(">i", count)


def test_huge_array_count_refused_without_allocating() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(InvalidRequestError, match="array of 2147483647"):
            decode_request(_metadata_v4_with_topic_count(0x7FFFFFFF))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024


def test_huge_compact_array_count_refused() -> None:
    # MetadataRequest v12 (flexible): topics count as an unsigned varint.
    header = struct.pack(">hhih", 3, 12, 1, -1) + b"\x00"
    with pytest.raises(InvalidRequestError, match="array of"):
        decode_request(header + b"\xff\xff\xff\xff\x0f")


def test_negative_lengths() -> None:
    # A null (-1) array where the schema forbids it (MetadataRequest v0 topics).
    frame = struct.pack(">hhih", 3, 0, 1, -1) + struct.pack(">i", -1)
    with pytest.raises(InvalidRequestError, match="non-nullable array"):
        decode_request(frame)
    # Other negative array lengths count as null, as in Kafka.
    frame = struct.pack(">hhih", 3, 0, 1, -1) + struct.pack(">i", -7)
    with pytest.raises(InvalidRequestError):
        decode_request(frame)
    # A negative string length in a non-nullable string (topic name).
    frame = struct.pack(">hhih", 3, 0, 1, -1) + struct.pack(">ih", 1, -3)
    with pytest.raises(InvalidRequestError, match="non-nullable string"):
        decode_request(frame)


def test_string_length_larger_than_remaining() -> None:
    frame = struct.pack(">hhih", 3, 0, 1, -1) + struct.pack(">ih", 1, 30000) + b"abc"
    with pytest.raises(InvalidRequestError, match="truncated"):
        decode_request(frame)


def test_records_length_larger_than_remaining_allocates_nothing() -> None:
    h = RequestHeader(request_api_key=0, request_api_version=3, correlation_id=1, client_id="c")
    req = ProduceRequest(
        acks=1,
        topic_data=[
            ProduceRequest.TopicProduceData(
                name="t", partition_data=[ProduceRequest.PartitionProduceData(records=b"xyz")]
            )
        ],
    )
    frame = bytearray(encode_request(h, req)[4:])
    frame[-7:-3] = struct.pack(">i", 0x7FFFFFF0)  # the records size
    tracemalloc.start()
    try:
        with pytest.raises(InvalidRequestError, match="truncated"):
            decode_request(bytes(frame))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024


def test_known_tag_with_wrong_size() -> None:
    # FetchRequest v12's tagged ClusterId (tag 0) with a size that disagrees with
    # the compact string it holds.
    h = RequestHeader(request_api_key=1, request_api_version=12, correlation_id=1, client_id="c")
    frame = bytearray(encode_request(h, FetchRequest(cluster_id="abc"))[4:])
    idx = frame.rindex(b"\x00\x04\x04abc")  # tag 0, size 4, compact string "abc"
    frame[idx + 1] = 2
    with pytest.raises(ProtocolError):
        decode_request(bytes(frame))


def test_bad_utf8_in_topic_name() -> None:
    frame = struct.pack(">hhih", 3, 1, 1, -1) + struct.pack(">ih", 1, 2) + b"\xc3\x28"
    with pytest.raises(InvalidRequestError, match="UTF-8"):
        decode_request(frame)


def test_metadata_v0_empty_is_valid() -> None:
    _, body = decode_request(_metadata_v4_with_topic_count(0) + b"\x01")
    assert isinstance(body, MetadataRequest) and body.topics == []
