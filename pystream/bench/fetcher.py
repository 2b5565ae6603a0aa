"""A wire-level fetch reader: the consumer load generator that stays out of the broker's way.

A librdkafka consumer decodes every record into a Python message object, so
one process tops out well below what a broker can serve over loopback. This
reader sends plain Fetch requests (v11, one in flight per connection) with
pystream's own protocol codec, receives each response into one reusable
buffer and walks record batch headers only: per-batch work, never per-record.
It reads a slice of every partition's offsets (as `offset_slices` consumers
do) from a single-node broker at the bootstrap address, and counts the
records and batch bytes inside its slice.
"""

from __future__ import annotations

import socket
import struct
import sys
import time
from typing import Any

from pystream.bench.consumer import slice_bounds
from pystream.bench.worker import READY_TIMEOUT_S, WorkerReport, abort_barrier
from pystream.bench.workload import ConsumeWorkload

FETCH_VERSION = 11  # topic names, not ids; served by Kafka 4, Tansu and pystream
FETCH_API_KEY = 1
MAX_WAIT_MS = 500
PARTITION_MAX_BYTES = 32 * 1024 * 1024
MAX_BYTES = 64 * 1024 * 1024
MAX_FRAME = MAX_BYTES + 1024 * 1024  # a response above this is refused, not allocated
_BATCH_HEAD = struct.Struct(">qi")  # base offset, batch length (bytes after this field)
_LAST_DELTA = struct.Struct(">i")  # last offset delta, at byte 23 of a batch
_SIZE = struct.Struct(">i")


class FetchError(RuntimeError):
    """The broker answered with an error or a malformed response."""


def batch_spans(records: memoryview) -> list[tuple[int, int, int]]:
    """(base offset, last offset, size in bytes) of each whole record batch in `records`.

    A partial batch at the end (the broker cut the response at a size limit)
    is left out, as clients do; the next fetch starts at it again.
    """
    spans = []
    pos, end = 0, len(records)
    while end - pos >= 27:
        base, length = _BATCH_HEAD.unpack_from(records, pos)
        size = 12 + length
        if length < 15 or pos + size > end:
            break
        spans.append((base, base + _LAST_DELTA.unpack_from(records, pos + 23)[0], size))
        pos += size
    return spans


def counted(spans: list[tuple[int, int, int]], start: int, end: int) -> tuple[int, int, int]:
    """(records, bytes, next offset) of `spans` inside [start, end); bytes pro rata per batch."""
    records = nbytes = 0
    next_offset = start
    for base, last, size in spans:
        inside = min(last + 1, end) - max(base, start)
        if inside > 0:
            records += inside
            nbytes += size * inside // (last - base + 1)
        next_offset = max(next_offset, last + 1)
    return records, nbytes, next_offset


class _Connection:
    """One blocking socket with a reusable receive buffer."""

    def __init__(self, bootstrap: str) -> None:
        host, _, port = bootstrap.rpartition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=READY_TIMEOUT_S)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray(1024 * 1024)
        self.correlation_id = 0

    def request(self, body: Any) -> Any:
        from pystream.protocol.frame import decode_response, encode_request
        from pystream.protocol.messages.request_header import RequestHeader

        self.correlation_id += 1
        header = RequestHeader(
            request_api_key=FETCH_API_KEY,
            request_api_version=FETCH_VERSION,
            correlation_id=self.correlation_id,
            client_id="pystream-bench-fetcher",
        )
        self.sock.sendall(encode_request(header, body))
        frame = self._read_frame()
        correlation_id, response = decode_response(FETCH_API_KEY, FETCH_VERSION, frame)
        if correlation_id != self.correlation_id:
            raise FetchError(f"correlation id {correlation_id}, expected {self.correlation_id}")
        return response

    def _read_frame(self) -> memoryview:
        size = _SIZE.unpack(self._read_exact(4))[0]
        if size < 0 or size > MAX_FRAME:
            raise FetchError(f"response frame of {size} bytes")
        return self._read_exact(size)

    def _read_exact(self, n: int) -> memoryview:
        if len(self.buffer) < n:
            self.buffer = bytearray(n)
        view = memoryview(self.buffer)[:n]
        got = 0
        while got < n:
            read = self.sock.recv_into(view[got:], n - got)
            if read == 0:
                raise FetchError("the broker closed the connection")
            got += read
        return view

    def close(self) -> None:
        self.sock.close()


def run_fetcher(
    index: int,
    workload: ConsumeWorkload,
    progress: Any,
    start_barrier: Any,
    results: Any,
) -> None:
    """Process entry point: read this worker's offset slice and put a WorkerReport on `results`."""
    try:
        report = _fetch(index, workload, progress, start_barrier)
    except Exception as exc:
        report = WorkerReport(index=index, failure=f"{type(exc).__name__}: {exc}")
        abort_barrier(start_barrier)
    results.put(report)


def _slices(workload: ConsumeWorkload, index: int) -> dict[int, tuple[int, int]]:
    """{partition: [start, end)} for this worker, from the broker's watermarks."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": workload.bootstrap_server, "group.id": "pystream-bench-fetcher"}
    )
    try:
        metadata = consumer.list_topics(workload.topic, timeout=READY_TIMEOUT_S)
        slices = {}
        for partition in sorted(metadata.topics[workload.topic].partitions):
            low, high = consumer.get_watermark_offsets(
                TopicPartition(workload.topic, partition), timeout=READY_TIMEOUT_S
            )
            start, end = slice_bounds(low, high, index, workload.num_consumers)
            if index == workload.num_consumers - 1:
                end = sys.maxsize  # open-ended: some brokers report a short high watermark
            if end > start:
                slices[partition] = (start, end)
        return slices
    finally:
        consumer.close()


def _fetch(
    index: int, workload: ConsumeWorkload, progress: Any, start_barrier: Any
) -> WorkerReport:
    from pystream.protocol.messages.fetch import FetchRequest

    slices = _slices(workload, index)
    positions = {p: start for p, (start, _) in slices.items()}
    last = index == workload.num_consumers - 1
    want = None if last else sum(end - start for start, end in slices.values())
    connection = _Connection(workload.bootstrap_server)
    report = WorkerReport(index=index)
    topic = FetchRequest.FetchTopic
    try:
        start_barrier.wait(timeout=READY_TIMEOUT_S * 2)
        cpu0 = time.process_time()
        report.started = last_record = time.monotonic()
        report.extra["assigned"] = report.started
        idle_limit = workload.timeout_ms / 1000.0
        while positions and (want is None or report.records < want):
            request = FetchRequest(
                max_wait_ms=MAX_WAIT_MS,
                min_bytes=1,
                max_bytes=MAX_BYTES,
                topics=[
                    topic(
                        topic=workload.topic,
                        partitions=[
                            topic.FetchPartition(
                                partition=p,
                                fetch_offset=offset,
                                partition_max_bytes=PARTITION_MAX_BYTES,
                            )
                            for p, offset in positions.items()
                        ],
                    )
                ],
            )
            response = connection.request(request)
            if response.error_code:
                raise FetchError(f"fetch error code {response.error_code}")
            got = 0
            for topic_response in response.responses:
                for data in topic_response.partitions:
                    if data.error_code:
                        raise FetchError(
                            f"partition {data.partition_index}: error code {data.error_code}"
                        )
                    if data.partition_index not in positions or data.records is None:
                        continue
                    end = slices[data.partition_index][1]
                    records, nbytes, next_offset = counted(
                        batch_spans(data.records), positions[data.partition_index], end
                    )
                    report.records += records
                    report.bytes += nbytes
                    got += records
                    positions[data.partition_index] = next_offset
                    if next_offset >= end:
                        del positions[data.partition_index]
            now = time.monotonic()
            if got:
                report.finished = last_record = now
                progress[index] = report.records
            elif now - last_record > idle_limit:
                report.extra["timed_out"] = True
                break
            if last and sum(progress) >= workload.num_records:
                break
        report.cpu_s = time.process_time() - cpu0
    finally:
        connection.close()
    return report
