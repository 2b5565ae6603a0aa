"""Run a workload: create the topic, start worker processes at one start line, show progress.

Workers are separate processes started with `spawn` (librdkafka threads do not
survive `fork`). The runner only sums shared counters for the progress bar, so
it takes no measurable CPU from the load generator or the broker.
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from pystream.bench import cclient
from pystream.bench.consumer import run_consumer, run_latency_consumer
from pystream.bench.fetcher import run_fetcher
from pystream.bench.producer import run_producer
from pystream.bench.result import BenchResult
from pystream.bench.topics import ensure_topic
from pystream.bench.worker import READY_TIMEOUT_S, WorkerReport
from pystream.bench.workload import ConsumeWorkload, EndToEndWorkload, ProduceWorkload

REFRESH_S = 0.1
EXIT_GRACE_S = 10.0


class BenchError(RuntimeError):
    """A run that could not produce a result (a worker failed to start, the broker vanished)."""


def run_produce(workload: ProduceWorkload, console: Console | None = None) -> BenchResult:
    """Producer throughput and send-to-ack latency, like Kafka's ProducerPerformance."""
    partitions = ensure_topic(
        workload.bootstrap_server, workload.topic, workload.partitions, workload.replication_factor
    )
    if workload.client == "c":
        reports = _run_c_producers(workload, console)
    else:
        ctx = mp.get_context("spawn")
        n = workload.num_producers
        progress, results = ctx.Array("q", n, lock=False), ctx.Queue()
        barrier = ctx.Barrier(n)
        procs = [
            ctx.Process(
                target=run_producer,
                args=(i, workload, progress, barrier, results),
                name=f"bench-producer-{i}",
            )
            for i in range(n)
        ]
        reports = _collect(
            procs, results, lambda: sum(progress), workload.num_records, console, "produce"
        )
    result = BenchResult.from_reports("produce", workload.to_dict(), reports, workload.num_records)
    result.extra["partitions_actual"] = partitions
    result.extra["producer_config"] = _shown(workload.producer_config())
    if workload.client == "c":
        result.extra["librdkafka"] = reports[0].extra.get("librdkafka")
    return result


def run_consume(workload: ConsumeWorkload, console: Console | None = None) -> BenchResult:
    """Consumer throughput, like Kafka's ConsumerPerformance (rebalance time reported apart)."""
    n = workload.num_consumers
    group = workload.group or f"pystream-bench-{uuid.uuid4().hex[:12]}"
    if workload.reader == "rdkafka-c":
        reports = _run_c_consumers(workload, group, console)
        result = BenchResult.from_reports(
            "consume", workload.to_dict(), reports, workload.num_records
        )
        result.extra["consumer_config"] = _shown(workload.consumer_config(group))
        result.extra["librdkafka"] = reports[0].extra.get("librdkafka")
        return result
    ctx = mp.get_context("spawn")
    progress, results = ctx.Array("q", n, lock=False), ctx.Queue()
    consumed_total = ctx.Value("q", 0)
    barrier = ctx.Barrier(n)
    if workload.reader == "fetch":
        procs = [
            ctx.Process(
                target=run_fetcher,
                args=(i, workload, progress, barrier, results),
                name=f"bench-fetcher-{i}",
            )
            for i in range(n)
        ]
    else:
        procs = [
            ctx.Process(
                target=run_consumer,
                args=(i, workload, group, progress, consumed_total, barrier, results),
                name=f"bench-consumer-{i}",
            )
            for i in range(n)
        ]
    reports = _collect(
        procs, results, lambda: sum(progress), workload.num_records, console, "consume"
    )
    assigned = [r.extra["assigned"] for r in reports if r.records]
    result = BenchResult.from_reports(
        "consume", workload.to_dict(), reports, workload.num_records, starts=assigned or None
    )
    joins: list[float] = [r.extra["join_s"] for r in reports if r.extra.get("join_s") is not None]
    result.extra["group"] = group
    result.extra["consumer_config"] = _shown(workload.consumer_config(group))
    result.extra["rebalance_s"] = max(joins) if joins else None
    result.extra["timed_out"] = any(r.extra.get("timed_out") for r in reports)
    return result


def run_e2e(workload: EndToEndWorkload, console: Console | None = None) -> BenchResult:
    """End-to-end latency at a fixed rate: producer send to consumer receipt, per record."""
    produce = workload.produce
    partitions = ensure_topic(
        produce.bootstrap_server, produce.topic, produce.partitions, produce.replication_factor
    )
    ctx = mp.get_context("spawn")
    ready, producer_done = ctx.Event(), ctx.Event()
    consumer_progress, consumer_results = ctx.Array("q", 1, lock=False), ctx.Queue()
    consumer = ctx.Process(
        target=run_latency_consumer,
        args=(workload, ready, producer_done, consumer_progress, consumer_results),
        name="bench-e2e-consumer",
    )
    consumer.start()
    try:
        if not ready.wait(READY_TIMEOUT_S * 2):
            raise BenchError("the end-to-end consumer did not get ready")
        producer_progress, producer_results = ctx.Array("q", 1, lock=False), ctx.Queue()
        # Held here: Process.start() drops its args, and a synchronisation object
        # collected before the child unpickles it is gone (FileNotFoundError).
        start_line = ctx.Barrier(1)
        producer = ctx.Process(
            target=run_producer,
            args=(0, produce, producer_progress, start_line, producer_results, True),
            name="bench-e2e-producer",
        )
        [produced] = _collect(
            [producer],
            producer_results,
            lambda: consumer_progress[0],
            produce.num_records,
            console,
            "e2e",
        )
        producer_done.set()
        [received] = _collect([consumer], consumer_results, lambda: 0, 0, None, "", started=True)
    finally:
        _stop([consumer])
    if produced.failure or received.failure:
        raise BenchError(produced.failure or received.failure)
    result = BenchResult.from_reports(
        "e2e", workload.to_dict(), [received], produce.num_records, starts=[produced.started]
    )
    result.errors += produced.errors
    result.first_error = result.first_error or produced.first_error
    result.client_cpu_s += produced.cpu_s
    result.processes = 2
    ack = BenchResult.from_reports("produce", {}, [produced], produce.num_records)
    result.extra["partitions_actual"] = partitions
    result.extra["producer_config"] = _shown(produce.producer_config())
    result.extra["consumer_config"] = _shown(workload.consumer_config())
    result.extra["produce_latency_ms"] = ack.latency.to_dict() if ack.latency else None
    result.extra["produced_records"] = produced.records
    result.extra["timed_out"] = bool(received.extra.get("timed_out"))
    return result


def _run_c_producers(workload: ProduceWorkload, console: Console | None) -> list[WorkerReport]:
    with tempfile.TemporaryDirectory(prefix="pystream-bench-") as tmp:
        argvs, files = [], []
        for i in range(workload.num_producers):
            count, rate = workload.share(i)
            latency_file = Path(tmp) / f"latencies-{i}.f64"
            files.append(latency_file)
            argvs.append(
                [
                    "produce",
                    "--topic",
                    workload.topic,
                    "--num-records",
                    str(count),
                    "--record-size",
                    str(workload.record_size),
                    "--throughput",
                    str(rate),
                    "--seed",
                    str(i),
                    "--latency-file",
                    str(latency_file),
                    *cclient.props_args(
                        {"client.id": f"pystream-bench-producer-{i}", **workload.producer_config()}
                    ),
                ]
            )
        return _run_c(argvs, "produce", workload.num_records, console, files)


def _run_c_consumers(
    workload: ConsumeWorkload, group: str, console: Console | None
) -> list[WorkerReport]:
    n = workload.num_consumers
    argvs = []
    for i in range(n):
        argvs.append(
            [
                "consume",
                "--topic",
                workload.topic,
                "--num-records",
                str(workload.num_records),
                "--slice",
                f"{i}/{n}",
                "--timeout-ms",
                str(workload.timeout_ms),
                *cclient.props_args(workload.consumer_config(group)),
            ]
        )
    return _run_c(argvs, "consume", workload.num_records, console)


def _run_c(
    argvs: list[list[str]],
    label: str,
    total: int,
    console: Console | None,
    latency_files: Sequence[Path | None] | None = None,
) -> list[WorkerReport]:
    """rdkperf workers with the same progress bar as the Python ones."""
    with _progress(console) as bar:
        task = bar.add_task(label, total=total) if console else None
        return cclient.run_workers(
            argvs, lambda done: task is not None and bar.update(task, completed=done), latency_files
        )


def _shown(config: dict[str, str]) -> dict[str, str]:
    """The effective client settings, for the record (the address is in the workload)."""
    return {k: v for k, v in config.items() if k != "bootstrap.servers"}


def _collect(
    procs: Sequence[Any],
    results: Any,
    done: Callable[[], int],
    total: int,
    console: Console | None,
    label: str,
    started: bool = False,
) -> list[WorkerReport]:
    """Start `procs`, show progress until each has reported, and return their reports."""
    if not started:
        for proc in procs:
            proc.start()
    reports: dict[int, WorkerReport] = {}
    try:
        with _progress(console) as bar:
            task = bar.add_task(label, total=total or None) if console else None
            while len(reports) < len(procs):
                try:
                    report = results.get(timeout=REFRESH_S)
                    reports[report.index] = report
                except queue.Empty:
                    dead = [p for p in procs if not p.is_alive() and p.exitcode not in (0, None)]
                    if dead and results.empty():
                        raise BenchError(
                            f"worker {dead[0].name} exited with code {dead[0].exitcode}"
                        ) from None
                if task is not None:
                    bar.update(task, completed=min(done(), total))
            if task is not None:
                bar.update(task, completed=min(done(), total))
    finally:
        _stop(procs)
    failures = [r.failure for r in reports.values() if r.failure]
    if failures:
        raise BenchError(failures[0])
    return [reports[i] for i in sorted(reports)]


def _stop(procs: Sequence[Any]) -> None:
    """Join workers; terminate any that hang (e.g. after Ctrl-C) so none outlives the run."""
    deadline = time.monotonic() + EXIT_GRACE_S
    for proc in procs:
        if proc.pid is None:
            continue
        proc.join(max(deadline - time.monotonic(), 0.0))
        if proc.is_alive():
            proc.terminate()
            proc.join(5.0)


class _NoProgress:
    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, *args: Any, **kwargs: Any) -> None:
        return None

    def update(self, *args: Any, **kwargs: Any) -> None:
        return None


def _progress(console: Console | None) -> Any:
    if console is None:
        return _NoProgress()
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )
