"""Fetch responses sent with zero copy over a real socket: from the sendfile
worker threads while a reader keeps pace, from the event loop once it stalls.
Every response must arrive whole and in order, whichever path sent its bytes."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from typing import Any

import pytest
from confluent_kafka import Producer

from pystream.bench.fetcher import FetchError, _Connection, batch_spans
from pystream.protocol.messages.fetch import FetchRequest
from pystream.server import sendfile
from pystream.testing import EmbeddedBroker

pytestmark = pytest.mark.integration

RECORDS = 6000
VALUE = b"v" * 1000


def _produce(bootstrap: str, topic: str) -> None:
    producer = Producer(
        {"bootstrap.servers": bootstrap, "linger.ms": 5, "batch.size": 262144, "acks": "all"}
    )
    for i in range(RECORDS):
        producer.produce(topic, VALUE, key=str(i).encode())
        if i % 1000 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0


def _read_everything(bootstrap: str, topic: str, slow: bool) -> int:
    """Reads the partition from offset 0 with 2 MiB fetches; returns the records seen,
    checking that the batches come back contiguous."""
    connection = _Connection(bootstrap)
    if slow:
        # A small window agreed at connect time, and a pause before every read:
        # the broker's send buffer fills and stays full.
        host, _, port = bootstrap.rpartition(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        sock.connect((host, int(port)))
        connection.sock.close()
        connection.sock = _SlowSocket(sock)  # type: ignore[assignment]
    topic_t = FetchRequest.FetchTopic
    offset = 0
    try:
        while offset < RECORDS:
            response = connection.request(
                FetchRequest(
                    max_wait_ms=500,
                    min_bytes=1,
                    max_bytes=4 << 20,
                    topics=[
                        topic_t(
                            topic=topic,
                            partitions=[
                                topic_t.FetchPartition(
                                    partition=0, fetch_offset=offset, partition_max_bytes=2 << 20
                                )
                            ],
                        )
                    ],
                )
            )
            data = response.responses[0].partitions[0]
            if data.error_code:
                raise FetchError(f"error code {data.error_code}")
            spans = batch_spans(data.records)
            assert spans, "an empty fetch while records remain"
            assert spans[0][0] <= offset <= spans[0][1]
            for (_, last, _), (base, _, _) in itertools.pairwise(spans):
                assert base == last + 1
            offset = spans[-1][1] + 1
    finally:
        connection.close()
    return offset


class _SlowSocket:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def recv_into(self, view: memoryview, n: int = 0) -> int:
        time.sleep(0.001)
        return self._sock.recv_into(view, min(n or len(view), 8192))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def test_fast_and_slow_readers_side_by_side_get_every_batch(
    pystream_broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    _produce(pystream_broker.bootstrap, "zc")
    pumped: list[tuple[int, int]] = []  # (sent by a worker thread, slice length)

    def recording_pump(sock_fd: int, file_fd: int, offset: int, count: int, stall_s: float) -> int:
        sent = real_pump(sock_fd, file_fd, offset, count, stall_s)
        pumped.append((sent, count))
        return sent

    real_pump = sendfile.pump
    monkeypatch.setattr(sendfile, "pump", recording_pump)
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def reader(name: str, slow: bool) -> None:
        try:
            results[name] = _read_everything(pystream_broker.bootstrap, "zc", slow)
        except BaseException as e:
            errors.append(e)

    threads = [
        threading.Thread(target=reader, args=("fast1", False)),
        threading.Thread(target=reader, args=("fast2", False)),
        threading.Thread(target=reader, args=("slow", True)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert results == {"fast1": RECORDS, "fast2": RECORDS, "slow": RECORDS}
    # Both paths ran: slices sent whole by a worker thread, and slices whose
    # reader stalled, finished by the event loop.
    assert any(sent == count for sent, count in pumped)
    assert any(sent < count for sent, count in pumped)
