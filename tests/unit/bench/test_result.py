"""Aggregating worker reports into a result, and writing it as JSON and markdown."""

from __future__ import annotations

import json
from array import array
from pathlib import Path

from pystream.bench.result import MARKDOWN_HEADER, BenchResult, markdown_row
from pystream.bench.stats import MB
from pystream.bench.worker import WorkerReport


def reports() -> list[WorkerReport]:
    return [
        WorkerReport(
            index=0,
            records=600,
            bytes=600 * 1024,
            started=10.0,
            finished=12.0,
            cpu_s=1.0,
            latencies=array("d", [0.001] * 600),
        ),
        WorkerReport(
            index=1,
            records=400,
            bytes=400 * 1024,
            started=10.5,
            finished=14.0,
            cpu_s=1.0,
            errors=2,
            first_error="timed out",
            latencies=array("d", [0.003] * 400),
        ),
    ]


def test_from_reports_sums_and_spans_first_start_to_last_finish() -> None:
    result = BenchResult.from_reports("produce", {"topic": "t"}, reports(), 1000)
    assert result.throughput.records == 1000
    assert result.throughput.bytes == 1000 * 1024
    assert result.throughput.seconds == 4.0
    assert result.errors == 2
    assert result.first_error == "timed out"
    assert result.processes == 2
    assert result.client_cpu_util == 0.5
    assert result.latency is not None
    assert result.latency.p50 == 1.0 and result.latency.max == 3.0
    assert not result.complete  # errors


def test_explicit_starts_replace_worker_starts() -> None:
    result = BenchResult.from_reports("consume", {}, reports(), 1000, starts=[13.0])
    assert result.throughput.seconds == 1.0


def test_complete_needs_every_record_and_no_error() -> None:
    ok = [WorkerReport(index=0, records=5, bytes=5, started=0.0, finished=1.0)]
    assert BenchResult.from_reports("produce", {}, ok, 5).complete
    assert not BenchResult.from_reports("produce", {}, ok, 6).complete


def test_json_round_trip(tmp_path: Path) -> None:
    result = BenchResult.from_reports("produce", {"topic": "t", "acks": "all"}, reports(), 1000)
    path = tmp_path / "out" / "r.json"
    result.write_json(path)
    data = json.loads(path.read_text())
    assert data["kind"] == "produce"
    assert data["workload"] == {"topic": "t", "acks": "all"}
    assert data["throughput"]["records_per_s"] == 250.0
    assert data["throughput"]["mb_per_s"] == 1000 * 1024 / MB / 4.0
    assert data["latency_ms"]["p99_9"] == 3.0
    assert data["complete"] is False
    assert data["client"] == {"processes": 2, "cpu_s": 2.0, "cpu_cores_used": 0.5}


def test_summary_line_reads_like_kafkas_tool() -> None:
    line = BenchResult.from_reports("produce", {}, reports(), 1000).summary_line()
    assert line.startswith("1000 records sent, 250.0 records/sec (0.24 MB/sec)")
    assert "ms p99.9" in line and "2 errors (first: timed out)" in line


def test_markdown_row_has_a_cell_per_header_column() -> None:
    with_latency = markdown_row("run", BenchResult.from_reports("produce", {}, reports(), 1000))
    no_latency = markdown_row(
        "run", BenchResult.from_reports("consume", {}, [WorkerReport(index=0, records=1)], 1)
    )
    columns = MARKDOWN_HEADER.splitlines()[0].count("|")
    assert with_latency.count("|") == columns
    assert no_latency.count("|") == columns
    assert "| - |" in no_latency
