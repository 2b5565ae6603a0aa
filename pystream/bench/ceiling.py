"""The load generator's own ceiling: how fast one producer process can hand records to librdkafka.

The producer points at a port where nothing listens, so every record stays
queued and nothing is sent: the rate is the Python produce() loop plus
librdkafka's enqueue, with no broker and no network. A broker result near
this ceiling (or a client using a whole core) is client-bound, and the
comparison says so instead of blaming the broker.
"""

from __future__ import annotations

import socket
import time

from pystream.bench.producer import make_payload
from pystream.bench.stats import Throughput


def unused_port() -> int:
    """A loopback port nothing listens on (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def measure_enqueue_ceiling(num_records: int = 300000, record_size: int = 1024) -> Throughput:
    """Records/s one Python process can pass to produce() when the broker costs nothing."""
    from confluent_kafka import Producer

    if num_records < 1:
        raise ValueError("num_records must be at least 1")
    queued_kib = num_records * (record_size + 128) // 1024 + 1024
    producer = Producer(
        {
            "bootstrap.servers": f"127.0.0.1:{unused_port()}",
            "queue.buffering.max.messages": str(num_records + 1),
            "queue.buffering.max.kbytes": str(min(queued_kib, 2097151)),
            "linger.ms": "5",
            "batch.size": "1048576",
            "log_level": "0",
        }
    )
    payload = make_payload(record_size, seed=0)
    produce = producer.produce
    start = time.perf_counter()
    for _ in range(num_records):
        produce("pystream-bench-ceiling", payload)
    elapsed = time.perf_counter() - start
    producer.purge()
    producer.flush(0)
    return Throughput(records=num_records, bytes=num_records * record_size, seconds=elapsed)
