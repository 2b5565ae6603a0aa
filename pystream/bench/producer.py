"""The producer worker: one process driving one librdkafka producer as fast as allowed.

Each worker runs in its own process (several workers sidestep the GIL when
one Python loop calling produce() per record would limit the rate). It
reports acknowledged records through a shared counter for the progress bar
and returns counts, send-to-ack latencies and CPU time on a queue.
Cross-process times use `time.monotonic()`, which on Linux is one clock for
every process on the machine.
"""

from __future__ import annotations

import random
import string
import time
from array import array
from typing import Any

from pystream.bench.worker import READY_TIMEOUT_S, WorkerReport, abort_barrier
from pystream.bench.workload import ProduceWorkload

POLL_EVERY = 1024  # records between poll(0) calls that run delivery callbacks


def make_payload(size: int, seed: int) -> bytes:
    """A record value of random capital letters, like Kafka's perf tool (so compression is fair)."""
    rng = random.Random(seed)
    return "".join(rng.choices(string.ascii_uppercase, k=size)).encode("ascii")


class _Deliveries:
    """Delivery-report callback state; librdkafka calls it from poll()/flush()."""

    __slots__ = ("delivered", "errors", "first_error", "latencies")

    def __init__(self) -> None:
        self.latencies = array("d")
        self.delivered = 0
        self.errors = 0
        self.first_error = ""

    def __call__(self, err: Any, msg: Any) -> None:
        if err is not None:
            self.errors += 1
            if not self.first_error:
                self.first_error = str(err)
            return
        self.delivered += 1
        # librdkafka's own produce()-to-acknowledgement time, in seconds.
        latency = msg.latency()
        if latency is not None:
            self.latencies.append(latency)


def run_producer(
    index: int,
    workload: ProduceWorkload,
    progress: Any,
    start_barrier: Any,
    results: Any,
    timestamped: bool = False,
) -> None:
    """Process entry point: produce this worker's share and put a WorkerReport on `results`."""
    try:
        report = _produce(index, workload, progress, start_barrier, timestamped)
    except Exception as exc:  # reported to the parent, which prints it
        report = WorkerReport(index=index, failure=f"{type(exc).__name__}: {exc}")
        abort_barrier(start_barrier)
    results.put(report)


def _produce(
    index: int, workload: ProduceWorkload, progress: Any, start_barrier: Any, timestamped: bool
) -> WorkerReport:
    from confluent_kafka import Producer

    count, rate = workload.share(index)
    deliveries = _Deliveries()
    config: dict[str, Any] = dict(workload.producer_config())
    config["on_delivery"] = deliveries
    config.setdefault("client.id", f"pystream-bench-producer-{index}")
    producer = Producer(config)
    # Connect and fetch metadata before the clock starts.
    producer.list_topics(workload.topic, timeout=READY_TIMEOUT_S)
    start_barrier.wait(timeout=READY_TIMEOUT_S * 2)

    payload = make_payload(workload.record_size, seed=index)
    topic = workload.topic
    produce, poll = producer.produce, producer.poll
    cpu0 = time.process_time()
    started = time.monotonic()
    t0 = time.perf_counter()
    for i in range(count):
        if rate > 0:
            # Wait for this record's slot, serving delivery reports meanwhile.
            while (delay := t0 + i / rate - time.perf_counter()) > 0:
                poll(delay)
        value = payload
        if timestamped:
            value = time.monotonic_ns().to_bytes(8, "big") + payload[8:]
        while True:
            try:
                produce(topic, value)
                break
            except BufferError:  # local queue full: let librdkafka drain it
                poll(0.005)
        if i % POLL_EVERY == 0:
            poll(0)
            progress[index] = deliveries.delivered + deliveries.errors
    timeout_s = int(config.get("message.timeout.ms", "60000")) / 1000.0 + 10.0
    undelivered = producer.flush(timeout_s)
    finished = time.monotonic()
    cpu_s = time.process_time() - cpu0
    delivered = deliveries.delivered
    progress[index] = delivered + deliveries.errors
    errors = deliveries.errors + undelivered
    first_error = deliveries.first_error or (
        f"{undelivered} records not delivered after {timeout_s:.0f}s" if undelivered else ""
    )
    return WorkerReport(
        index=index,
        records=delivered,
        bytes=delivered * workload.record_size,
        errors=errors,
        first_error=first_error,
        started=started,
        finished=finished,
        cpu_s=cpu_s,
        latencies=deliveries.latencies,
    )
