"""Consumer workers: group consumers for throughput, and the timestamp reader for end-to-end latency.

Records are taken with `consume(num_messages=...)` batches; the only
per-record Python work is counting bytes (and, for end-to-end latency,
reading the 8-byte send timestamp the producer wrote).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from pystream.bench.worker import READY_TIMEOUT_S, WorkerReport, abort_barrier
from pystream.bench.workload import ConsumeWorkload, EndToEndWorkload

BATCH = 10000
POLL_S = 0.2
JOIN_TIMEOUT_S = 60.0


def run_consumer(
    index: int,
    workload: ConsumeWorkload,
    group: str,
    progress: Any,
    consumed_total: Any,
    start_barrier: Any,
    results: Any,
) -> None:
    """Process entry point: consume in `group` until the group has `num_records` or goes idle."""
    try:
        report = _consume(index, workload, group, progress, consumed_total, start_barrier)
    except Exception as exc:
        report = WorkerReport(index=index, failure=f"{type(exc).__name__}: {exc}")
        abort_barrier(start_barrier)
    results.put(report)


def _consume(
    index: int,
    workload: ConsumeWorkload,
    group: str,
    progress: Any,
    consumed_total: Any,
    start_barrier: Any,
) -> WorkerReport:
    from confluent_kafka import Consumer, KafkaError

    assigned_at: list[float] = []

    def on_assign(consumer: Any, partitions: Any) -> None:
        if partitions and not assigned_at:
            assigned_at.append(time.monotonic())

    consumer = Consumer(workload.consumer_config(group))
    report = WorkerReport(index=index)
    try:
        start_barrier.wait(timeout=READY_TIMEOUT_S * 2)
        cpu0 = time.process_time()
        report.started = time.monotonic()
        if workload.offset_slices:
            ends = _assign_slice(consumer, workload.topic, index, workload.num_consumers)
            assigned_at.append(time.monotonic())
            last = index == workload.num_consumers - 1
            # The last slice is open-ended: a broker may report a high watermark short of the
            # log end (Tansu 0.6 reports the last batch's base offset), so it reads on until
            # the whole group has `num_records`.
            report.extra["slice_records"] = None if last else sum(e - s for s, e in ends.values())
        else:
            ends = {}
            consumer.subscribe([workload.topic], on_assign=on_assign)
        idle_limit = workload.timeout_ms / 1000.0
        last_record = time.monotonic()
        while consumed_total.value < workload.num_records:
            messages = consumer.consume(num_messages=BATCH, timeout=POLL_S)
            now = time.monotonic()
            if not assigned_at:
                # The idle timeout counts from assignment; joining has its own limit.
                if now - report.started > JOIN_TIMEOUT_S:
                    raise TimeoutError(f"no partition assigned after {JOIN_TIMEOUT_S:.0f}s")
                last_record = now
            good = nbytes = 0
            for msg in messages:
                err = msg.error()
                if err is None:
                    offset, partition = msg.offset(), msg.partition()
                    if (
                        ends
                        and offset is not None
                        and partition is not None
                        and offset >= ends[partition][1]
                    ):
                        continue  # past this worker's slice: another worker counts it
                    good += 1
                    nbytes += len(msg)
                elif err.code() != KafkaError._PARTITION_EOF:
                    report.errors += 1
                    report.first_error = report.first_error or str(err)
            if good:
                report.records += good
                report.bytes += nbytes
                report.finished = last_record = now
                progress[index] = report.records
                with consumed_total.get_lock():
                    consumed_total.value += good
            elif now - last_record > idle_limit:
                report.extra["timed_out"] = True
                break
            target = report.extra.get("slice_records")
            if target is not None and report.records >= target:
                break
        report.cpu_s = time.process_time() - cpu0
        report.extra["join_s"] = (assigned_at[0] - report.started) if assigned_at else None
        # Throughput counts from partition assignment, as Kafka's tool separates rebalance time.
        report.extra["assigned"] = assigned_at[0] if assigned_at else report.started
    finally:
        consumer.close()
    return report


def slice_bounds(low: int, high: int, index: int, count: int) -> tuple[int, int]:
    """The `index`-th of `count` nearly equal, contiguous slices of offsets [low, high)."""
    size = high - low
    return low + size * index // count, low + size * (index + 1) // count


def _assign_slice(consumer: Any, topic: str, index: int, count: int) -> dict[int, tuple[int, int]]:
    """Assign this worker's slice of every partition; return {partition: (start, end)}."""
    from confluent_kafka import TopicPartition

    metadata = consumer.list_topics(topic, timeout=READY_TIMEOUT_S)
    ends: dict[int, tuple[int, int]] = {}
    for partition in sorted(metadata.topics[topic].partitions):
        low, high = consumer.get_watermark_offsets(
            TopicPartition(topic, partition), timeout=READY_TIMEOUT_S
        )
        start, end = slice_bounds(low, high, index, count)
        if index == count - 1:
            end = sys.maxsize
        if end > start:
            ends[partition] = (start, end)
    consumer.assign([TopicPartition(topic, p, start) for p, (start, _) in ends.items()])
    return ends


def run_latency_consumer(
    workload: EndToEndWorkload, ready: Any, producer_done: Any, progress: Any, results: Any
) -> None:
    """Process entry point: read from the current end of every partition, time each record."""
    try:
        report = _latency_consume(workload, ready, producer_done, progress)
    except Exception as exc:
        report = WorkerReport(index=0, failure=f"{type(exc).__name__}: {exc}")
        ready.set()
    results.put(report)


def _latency_consume(
    workload: EndToEndWorkload, ready: Any, producer_done: Any, progress: Any
) -> WorkerReport:
    from confluent_kafka import Consumer, TopicPartition

    produce = workload.produce
    consumer = Consumer(workload.consumer_config())
    report = WorkerReport(index=0)
    try:
        metadata = consumer.list_topics(produce.topic, timeout=READY_TIMEOUT_S)
        partitions = sorted(metadata.topics[produce.topic].partitions)
        # Start at each partition's current end, fixed before the producer starts, so
        # no record of this run is missed and none from earlier runs is timed.
        starts = []
        for partition in partitions:
            _, high = consumer.get_watermark_offsets(
                TopicPartition(produce.topic, partition), timeout=READY_TIMEOUT_S
            )
            starts.append(TopicPartition(produce.topic, partition, high))
        consumer.assign(starts)
        consumer.consume(num_messages=1, timeout=0.5)  # open fetch sessions before the clock
        ready.set()
        idle_limit = workload.timeout_ms / 1000.0
        cpu0 = time.process_time()
        report.started = last_record = time.monotonic()
        while report.records < produce.num_records:
            # consume() waits for a full batch or its timeout, which would add up to the
            # timeout to every latency; poll() returns at the first record, then drain.
            first = consumer.poll(0.05)
            messages = [first, *consumer.consume(num_messages=1000, timeout=0)] if first else []
            now_ns = time.monotonic_ns()
            for msg in messages:
                if msg.error() is not None:
                    continue
                value = msg.value()
                if value is None:
                    continue
                report.latencies.append((now_ns - int.from_bytes(value[:8], "big")) / 1e9)
                report.records += 1
                report.bytes += len(value)
            if messages:
                last_record = time.monotonic()
                progress[0] = report.records
            elif producer_done.is_set() and time.monotonic() - last_record > idle_limit:
                report.extra["timed_out"] = True
                break
        report.finished = last_record
        report.cpu_s = time.process_time() - cpu0
    finally:
        consumer.close()
    return report
