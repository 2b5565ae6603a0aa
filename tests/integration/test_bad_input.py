"""Hostile and malformed input over real sockets: the broker answers with
Kafka's error codes or closes that one connection, and stays up."""

from __future__ import annotations

import os
import socket
import struct

import pytest

from pystream.protocol.errors import ErrorCode
from pystream.protocol.frame import decode_response, encode_request
from pystream.protocol.headers import RequestHeader
from pystream.protocol.messages.api_versions import ApiVersionsRequest
from pystream.protocol.messages.produce import ProduceRequest
from pystream.record import Record, build_batch
from pystream.testing import EmbeddedBroker

pytestmark = pytest.mark.integration


def _connect(b: EmbeddedBroker) -> socket.socket:
    s = socket.create_connection((b.host, b.port), timeout=10)
    return s


def _recv_frame(s: socket.socket) -> bytes:
    size = struct.unpack(">i", _recv_exact(s, 4))[0]
    return _recv_exact(s, size)


def _recv_exact(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def _closed(s: socket.socket) -> bool:
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, TimeoutError):
        return True


def _request(s: socket.socket, req: object, api_key: int, version: int, cid: int = 1) -> object:
    header = RequestHeader(
        request_api_key=api_key, request_api_version=version, correlation_id=cid, client_id="t"
    )
    s.sendall(encode_request(header, req))
    frame = _recv_frame(s)
    got_cid, resp = decode_response(api_key, version, frame)
    assert got_cid == cid
    return resp


def _api_versions_ok(b: EmbeddedBroker) -> None:
    with _connect(b) as s:
        resp = _request(s, ApiVersionsRequest(), 18, 3)
        assert resp.error_code == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "payload",
    [
        struct.pack(">i", 200 << 20),  # above socket.request.max.bytes
        struct.pack(">i", -5),  # negative size
        struct.pack(">i", 8) + struct.pack(">hhi", 9999, 0, 1),  # unknown API key
        struct.pack(">i", 12) + os.urandom(12),  # random bytes
        struct.pack(">i", 10) + struct.pack(">hhi", 3, 0, 1) + b"\xff\xff",  # truncated body
    ],
    ids=["too-large", "negative", "unknown-api", "random", "truncated"],
)
def test_bad_frames_close_only_that_connection(
    pystream_broker: EmbeddedBroker, payload: bytes
) -> None:
    with _connect(pystream_broker) as s:
        s.sendall(payload)
        assert _closed(s)
    _api_versions_ok(pystream_broker)


def test_unsupported_api_versions_version_is_answered_with_v0(
    pystream_broker: EmbeddedBroker,
) -> None:
    with _connect(pystream_broker) as s:
        # A client from the future: flexible header v2 (empty tagged fields), unknown body.
        header = (
            struct.pack(">hhi", 18, 99, 7) + struct.pack(">h", 1) + b"x" + b"\x00" + b"\x01\x02"
        )
        s.sendall(struct.pack(">i", len(header)) + header)
        frame = _recv_frame(s)
        cid, resp = decode_response(18, 0, frame)
        assert cid == 7
        assert resp.error_code == ErrorCode.UNSUPPORTED_VERSION
        assert any(k.api_key == 0 for k in resp.api_keys)


def _produce(s: socket.socket, topic: str, records: bytes, cid: int = 2) -> object:
    req = ProduceRequest(
        transactional_id=None,
        acks=1,
        timeout_ms=1000,
        topic_data=[
            ProduceRequest.TopicProduceData(
                name=topic,
                partition_data=[ProduceRequest.PartitionProduceData(index=0, records=records)],
            )
        ],
    )
    resp = _request(s, req, 0, 9, cid)
    return resp.responses[0].partition_responses[0]  # type: ignore[attr-defined]


def test_bad_crc_and_oversized_records_get_error_codes(pystream_broker: EmbeddedBroker) -> None:
    registry = pystream_broker.broker.topics  # type: ignore[union-attr]
    assert registry is not None
    with _connect(pystream_broker) as s:
        # Create the topic through metadata auto-creation path of the broker API.
        good = build_batch([Record(key=b"k", value=b"v", headers=[], timestamp=1)])
        pystream_broker.broker.topics.create("bad", 1)  # type: ignore[union-attr]
        first = _produce(s, "bad", good)
        assert first.error_code == 0 and first.base_offset == 0

        corrupt = bytearray(good)
        corrupt[-1] ^= 0xFF
        r = _produce(s, "bad", bytes(corrupt), 3)
        assert r.error_code == ErrorCode.CORRUPT_MESSAGE

        big = build_batch([Record(key=None, value=os.urandom(2 << 20), headers=[], timestamp=1)])
        r = _produce(s, "bad", big, 4)
        assert r.error_code == ErrorCode.MESSAGE_TOO_LARGE

        r = _produce(s, "no-such-topic", good, 5)
        assert r.error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION

        # Nothing was lost: the good batch is still the only one.
        after = _produce(s, "bad", good, 6)
        assert after.error_code == 0 and after.base_offset == 1


def test_connection_cap(tmp_path: object) -> None:
    with EmbeddedBroker(config={"max.connections": 2}) as b:
        s1, s2 = _connect(b), _connect(b)
        _request(s1, ApiVersionsRequest(), 18, 3)
        _request(s2, ApiVersionsRequest(), 18, 3)
        s3 = _connect(b)
        assert _closed(s3)
        s1.close()
        s2.close()
        s3.close()


def test_idle_connections_are_closed() -> None:
    with EmbeddedBroker(config={"connections.max.idle.ms": 300}) as b:
        s = _connect(b)
        _request(s, ApiVersionsRequest(), 18, 3)
        s.settimeout(10)
        assert _closed(s)
        s.close()
        _api_versions_ok(b)


def test_two_batches_in_one_partition_are_refused(pystream_broker: EmbeddedBroker) -> None:
    assert pystream_broker.broker is not None and pystream_broker.broker.topics is not None
    pystream_broker.broker.topics.create("two", 1)
    one = build_batch([Record(key=b"k", value=b"v", headers=[], timestamp=1)])
    with _connect(pystream_broker) as s:
        r = _produce(s, "two", one + one)
        assert r.error_code == ErrorCode.INVALID_RECORD
        r = _produce(s, "two", one, 3)
        assert (r.error_code, r.base_offset) == (0, 0)
