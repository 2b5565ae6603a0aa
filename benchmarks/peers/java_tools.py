"""Kafka's own Java perf tool as a second load generator, to check that ours is not the limit.

`org.apache.kafka.tools.ProducerPerformance` runs against any peer with the
same workload; if it reaches a clearly higher rate than `pystream bench
produce` on the same broker, the Python side was the bottleneck.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.peers.kafka import KafkaPeer

_FINAL = re.compile(
    r"(?P<records>\d+) records sent, (?P<rps>[\d.]+) records/sec \((?P<mbps>[\d.]+) MB/sec\), "
    r"(?P<avg>[\d.]+) ms avg latency, (?P<max>[\d.]+) ms max latency, (?P<p50>\d+) ms 50th, "
    r"(?P<p95>\d+) ms 95th, (?P<p99>\d+) ms 99th, (?P<p999>\d+) ms 99.9th"
)


@dataclass(frozen=True)
class JavaProducerResult:
    records: int
    records_per_s: float
    mb_per_s: float
    avg_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    p99_9_ms: float
    max_ms: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_producer_performance(output: str) -> JavaProducerResult:
    """The final summary line of ProducerPerformance's output."""
    matches = list(_FINAL.finditer(output))
    if not matches:
        raise ValueError(f"no ProducerPerformance summary in output: {output.strip()[-300:]}")
    m = matches[-1]
    return JavaProducerResult(
        records=int(m["records"]),
        records_per_s=float(m["rps"]),
        mb_per_s=float(m["mbps"]),
        avg_ms=float(m["avg"]),
        p50_ms=float(m["p50"]),
        p95_ms=float(m["p95"]),
        p99_ms=float(m["p99"]),
        p99_9_ms=float(m["p999"]),
        max_ms=float(m["max"]),
    )


def run_producer_performance(
    kafka: KafkaPeer,
    bootstrap: str,
    topic: str,
    num_records: int,
    record_size: int,
    props: dict[str, str],
    timeout_s: float = 600.0,
) -> JavaProducerResult:
    """Run Kafka's ProducerPerformance (the topic must exist) and parse its summary."""
    prop_args = [f"{k}={v}" for k, v in {"bootstrap.servers": bootstrap, **props}.items()]
    command = kafka.java_command(
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        str(num_records),
        "--record-size",
        str(record_size),
        "--throughput",
        "-1",
        "--producer-props",
        *prop_args,
    )
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s)
    if done.returncode != 0:
        raise RuntimeError(f"ProducerPerformance failed: {done.stderr.strip()[-300:]}")
    return parse_producer_performance(done.stdout)
