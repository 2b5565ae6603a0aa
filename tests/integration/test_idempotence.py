"""Idempotent produce at the protocol level: retries are answered with their
original offsets, gaps are refused, and the state survives a restart."""

from __future__ import annotations

import socket
import struct

import pytest

from pystream.protocol.errors import ErrorCode
from pystream.protocol.frame import decode_response, encode_request
from pystream.protocol.headers import RequestHeader
from pystream.protocol.messages.init_producer_id import InitProducerIdRequest
from pystream.protocol.messages.list_offsets import ListOffsetsRequest
from pystream.protocol.messages.produce import ProduceRequest
from pystream.record import Record, build_batch
from pystream.testing import EmbeddedBroker

pytestmark = pytest.mark.integration


class Client:
    def __init__(self, b: EmbeddedBroker) -> None:
        self.s = socket.create_connection((b.host, b.port), timeout=10)
        self.cid = 0

    def call(self, req: object, api_key: int, version: int) -> object:
        self.cid += 1
        header = RequestHeader(
            request_api_key=api_key,
            request_api_version=version,
            correlation_id=self.cid,
            client_id="t",
        )
        self.s.sendall(encode_request(header, req))
        size = struct.unpack(">i", self._recv(4))[0]
        return decode_response(api_key, version, self._recv(size))[1]

    def _recv(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            assert chunk, "connection closed"
            buf += chunk
        return buf

    def produce(self, topic: str, batch: bytes) -> object:
        req = ProduceRequest(
            transactional_id=None,
            acks=-1,
            timeout_ms=1000,
            topic_data=[
                ProduceRequest.TopicProduceData(
                    name=topic,
                    partition_data=[
                        ProduceRequest.TopicProduceData.PartitionProduceData(index=0, records=batch)
                    ],
                )
            ],
        )
        resp = self.call(req, 0, 9)
        return resp.responses[0].partition_responses[0]  # type: ignore[attr-defined]

    def end_offset(self, topic: str) -> int:
        LT = ListOffsetsRequest.ListOffsetsTopic
        req = ListOffsetsRequest(
            replica_id=-1,
            topics=[
                LT(
                    name=topic,
                    partitions=[LT.ListOffsetsPartition(partition_index=0, timestamp=-1)],
                )
            ],
        )
        resp = self.call(req, 2, 7)
        return resp.topics[0].partitions[0].offset  # type: ignore[attr-defined]


def _batch(pid: int, epoch: int, seq: int, n: int) -> bytes:
    return build_batch(
        [Record(key=None, value=f"m{seq + i}".encode(), timestamp=1) for i in range(n)],
        producer_id=pid,
        producer_epoch=epoch,
        base_sequence=seq,
    )


def test_retries_gaps_fencing_and_restart() -> None:
    with EmbeddedBroker() as b:
        assert b.broker is not None and b.broker.topics is not None
        b.broker.topics.create("idem", 1)
        c = Client(b)
        init = c.call(
            InitProducerIdRequest(transactional_id=None, transaction_timeout_ms=1000), 22, 4
        )
        pid, epoch = init.producer_id, init.producer_epoch  # type: ignore[attr-defined]
        assert pid >= 0 and epoch == 0

        first = c.produce("idem", _batch(pid, epoch, 0, 3))
        assert (first.error_code, first.base_offset) == (0, 0)
        second = c.produce("idem", _batch(pid, epoch, 3, 2))
        assert (second.error_code, second.base_offset) == (0, 3)
        # A retry of the first batch: its original offset, nothing written.
        retry = c.produce("idem", _batch(pid, epoch, 0, 3))
        assert (retry.error_code, retry.base_offset) == (0, 0)
        assert c.end_offset("idem") == 5
        # A gap in the sequence is refused.
        gap = c.produce("idem", _batch(pid, epoch, 9, 1))
        assert gap.error_code == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
        assert c.end_offset("idem") == 5

        b.restart()
        c = Client(b)
        retry = c.produce("idem", _batch(pid, epoch, 3, 2))
        assert (retry.error_code, retry.base_offset) == (0, 3)
        nxt = c.produce("idem", _batch(pid, epoch, 5, 1))
        assert (nxt.error_code, nxt.base_offset) == (0, 5)
        # A bumped epoch starts again at 0; the old epoch is then fenced.
        bumped = c.produce("idem", _batch(pid, epoch + 1, 0, 1))
        assert (bumped.error_code, bumped.base_offset) == (0, 6)
        fenced = c.produce("idem", _batch(pid, epoch, 6, 1))
        assert fenced.error_code == ErrorCode.INVALID_PRODUCER_EPOCH
        # Producer ids stay unique across restarts.
        again = c.call(
            InitProducerIdRequest(transactional_id=None, transaction_timeout_ms=1000), 22, 4
        )
        assert again.producer_id != pid  # type: ignore[attr-defined]
