"""Framing, header versions and the request/response entry points."""

from __future__ import annotations

import os
import struct
import tempfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pystream.protocol import (
    API_BY_KEY,
    ApiKey,
    EncodeError,
    FileSlice,
    FrameDecoder,
    FrameTooLargeError,
    InvalidRequestError,
    RequestHeader,
    UnknownApiKeyError,
    UnsupportedVersionError,
    decode_request,
    decode_request_header,
    decode_response,
    encode_request,
    encode_response,
    request_header_version,
    response_header_version,
)
from pystream.protocol.messages.api_versions import ApiVersionsRequest, ApiVersionsResponse
from pystream.protocol.messages.controlled_shutdown import ControlledShutdownRequest
from pystream.protocol.messages.fetch import FetchResponse
from pystream.protocol.messages.metadata import MetadataRequest, MetadataResponse
from pystream.protocol.messages.produce import ProduceRequest


def _frame(header: RequestHeader, body: object) -> bytes:
    data = encode_request(header, body)
    assert struct.unpack(">i", data[:4])[0] == len(data) - 4
    return data[4:]


def test_header_versions() -> None:
    assert request_header_version(ApiKey.PRODUCE, 8) == 1
    assert request_header_version(ApiKey.PRODUCE, 9) == 2
    assert request_header_version(ApiKey.CONTROLLED_SHUTDOWN, 0) == 0
    assert request_header_version(ApiKey.CONTROLLED_SHUTDOWN, 1) == 1
    assert response_header_version(ApiKey.METADATA, 9) == 1
    assert response_header_version(ApiKey.METADATA, 8) == 0
    assert response_header_version(ApiKey.API_VERSIONS, 3) == 0
    with pytest.raises(UnknownApiKeyError):
        request_header_version(999, 0)


def test_api_table() -> None:
    spec = API_BY_KEY[ApiKey.PRODUCE]
    assert spec.request_class is ProduceRequest
    assert (spec.min_version, spec.max_version, spec.flexible_min_version) == (0, 11, 9)
    assert ProduceRequest.API_KEY == 0 and ProduceRequest.DEPRECATED_VERSIONS == (0, 6)
    assert ApiKey.API_VERSIONS == 18 and ApiKey(3).name == "METADATA"


@pytest.mark.parametrize("version", range(0, 13))
def test_request_roundtrip_through_frames(version: int) -> None:
    header = RequestHeader(
        request_api_key=ApiKey.METADATA,
        request_api_version=version,
        correlation_id=42,
        client_id="cid",
    )
    body = MetadataRequest(topics=[MetadataRequest.MetadataRequestTopic(name="t")])
    frame = _frame(header, body)
    h2, off = decode_request_header(frame)
    assert h2 == header and 0 < off < len(frame)
    h3, body2 = decode_request(frame)
    assert h3 == header and body2 == body


def test_controlled_shutdown_v0_has_no_client_id() -> None:
    header = RequestHeader(request_api_key=7, request_api_version=0, correlation_id=1, client_id="")
    frame = _frame(header, ControlledShutdownRequest(broker_id=3))
    assert len(frame) == 8 + 4  # api key, version, correlation id + broker id
    h, body = decode_request(frame)
    assert body.broker_id == 3 and h.client_id == ""


def test_null_client_id_reads_as_empty() -> None:
    header = RequestHeader(
        request_api_key=18, request_api_version=0, correlation_id=1, client_id=None
    )
    h, _ = decode_request(_frame(header, ApiVersionsRequest()))
    assert h.client_id == ""


def test_unsupported_version_carries_header() -> None:
    frame = struct.pack(">hhih", 18, 99, 7, -1) + b"\x00"
    with pytest.raises(UnsupportedVersionError) as info:
        decode_request(frame)
    assert info.value.header is not None
    assert info.value.header.correlation_id == 7
    # Kafka answers with an ApiVersions v0 response.
    chunks = encode_response(info.value.header, ApiVersionsResponse(error_code=35), version=0)
    data = b"".join(bytes(c) for c in chunks)  # type: ignore[arg-type]
    assert data == struct.pack(">iihi", 10, 7, 35, 0)


def test_unknown_api_key() -> None:
    with pytest.raises(UnknownApiKeyError) as info:
        decode_request(struct.pack(">hhi", 500, 0, 9))
    assert (info.value.api_key, info.value.correlation_id) == (500, 9)


def test_response_roundtrip_and_header_version() -> None:
    header = RequestHeader(request_api_key=3, request_api_version=12, correlation_id=5)
    resp = MetadataResponse(
        cluster_id="c",
        brokers=[MetadataResponse.MetadataResponseBroker(node_id=1, host="h", port=9092)],
    )
    chunks = encode_response(header, resp)
    data = b"".join(bytes(c) for c in chunks)  # type: ignore[arg-type]
    assert struct.unpack(">i", data[:4])[0] == len(data) - 4
    assert data[8] == 0  # response header v1: empty tagged fields
    corr, out = decode_response(3, 12, data[4:])
    assert corr == 5 and out == resp


def test_encode_response_checks_type_and_version() -> None:
    header = RequestHeader(request_api_key=3, request_api_version=12, correlation_id=5)
    with pytest.raises(EncodeError):
        encode_response(header, ApiVersionsResponse())
    bad = RequestHeader(request_api_key=3, request_api_version=99, correlation_id=5)
    with pytest.raises(UnsupportedVersionError):
        encode_response(bad, MetadataResponse())


def test_fetch_response_with_file_slice_is_chunked() -> None:
    with tempfile.TemporaryFile() as f:
        f.write(b"R" * 1000)
        f.flush()
        fs = FileSlice(f.fileno(), 100, 500)
        part = FetchResponse.PartitionData(partition_index=0, high_watermark=10, records=fs)
        resp = FetchResponse(
            responses=[FetchResponse.FetchableTopicResponse(topic="t", partitions=[part])]
        )
        header = RequestHeader(request_api_key=1, request_api_version=11, correlation_id=1)
        chunks = encode_response(header, resp)
        assert fs in chunks
        total = sum(len(c) if isinstance(c, FileSlice) else memoryview(c).nbytes for c in chunks)
        assert struct.unpack(">i", bytes(chunks[0][:4]))[0] == total - 4  # type: ignore[index]
        # Resolve the slice as sendfile would and decode the result.
        wire = b"".join(
            os.pread(c.fd, c.length, c.position) if isinstance(c, FileSlice) else bytes(c)
            for c in chunks
        )
        _, out = decode_response(1, 11, wire[4:])
        assert bytes(out.responses[0].partitions[0].records) == b"R" * 500


def test_large_records_are_not_copied() -> None:
    blob = memoryview(bytearray(1 << 20))
    req = ProduceRequest(
        acks=1,
        topic_data=[
            ProduceRequest.TopicProduceData(
                name="t", partition_data=[ProduceRequest.PartitionProduceData(records=blob)]
            )
        ],
    )
    header = RequestHeader(request_api_key=0, request_api_version=9, correlation_id=1)
    frame = encode_request(header, req)[4:]
    _, out = decode_request(frame)
    rec = out.topic_data[0].partition_data[0].records
    assert isinstance(rec, memoryview) and rec.nbytes == 1 << 20
    assert rec.obj is frame  # a view into the frame, not a copy


def test_frame_decoder_splits_and_joins() -> None:
    frames = [b"a" * 10, b"", b"bc" * 300]
    stream = b"".join(struct.pack(">i", len(f)) + f for f in frames)
    for step in (1, 3, 7, len(stream)):
        dec = FrameDecoder()
        got: list[bytes] = []
        for i in range(0, len(stream), step):
            got.extend(bytes(f) for f in dec.feed(stream[i : i + step]))
        assert got == frames
        assert dec.pending() == 0


@given(st.lists(st.binary(max_size=40), max_size=6), st.integers(1, 50))
def test_frame_decoder_any_split(frames: list[bytes], step: int) -> None:
    stream = b"".join(struct.pack(">i", len(f)) + f for f in frames)
    dec = FrameDecoder()
    got = []
    for i in range(0, len(stream), step):
        got.extend(bytes(f) for f in dec.feed(stream[i : i + step]))
    assert got == frames


def test_frame_decoder_rejects_bad_sizes_before_buffering() -> None:
    dec = FrameDecoder(max_frame_size=1000)
    with pytest.raises(FrameTooLargeError):
        dec.feed(struct.pack(">i", 1001))
    with pytest.raises(InvalidRequestError):
        FrameDecoder().feed(struct.pack(">i", -5))
    assert issubclass(FrameTooLargeError, InvalidRequestError)
