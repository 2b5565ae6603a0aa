"""A benchmark result: built from worker reports, printed, and written as JSON or markdown.

The JSON carries the full workload and client settings beside the figures,
so a stored result says exactly what was measured.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pystream.bench.stats import LatencySummary, Throughput
from pystream.bench.worker import WorkerReport

SCHEMA_VERSION = 1


@dataclass
class BenchResult:
    """Outcome of one `produce`, `consume` or `e2e` run."""

    kind: str
    workload: dict[str, Any]
    throughput: Throughput
    latency: LatencySummary | None
    errors: int = 0
    first_error: str = ""
    requested_records: int = 0
    client_cpu_s: float = 0.0
    processes: int = 1
    extra: dict[str, Any] = field(default_factory=dict)
    # Broker CPU over the run (cpu_s, cpu_cores_used, cpu_s_per_gb), when its pid was known.
    broker: dict[str, float] | None = None
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def complete(self) -> bool:
        """Every requested record was acknowledged (or consumed) without error."""
        return self.errors == 0 and self.throughput.records >= self.requested_records

    @property
    def client_cpu_util(self) -> float:
        """Load-generator CPU use in cores (1.0 = one core busy for the whole run)."""
        seconds = self.throughput.seconds
        return self.client_cpu_s / seconds if seconds > 0 else 0.0

    @classmethod
    def from_reports(
        cls,
        kind: str,
        workload: dict[str, Any],
        reports: Sequence[WorkerReport],
        requested_records: int,
        starts: Iterable[float] | None = None,
    ) -> BenchResult:
        """Aggregate worker reports: totals, wall time from first start to last finish."""
        ran = [r for r in reports if r.records or r.started]
        records = sum(r.records for r in reports)
        begin = min(starts if starts is not None else (r.started for r in ran), default=0.0)
        end = max((r.finished for r in ran), default=0.0)
        latencies = [x for r in reports for x in r.latencies]
        errors = sum(r.errors for r in reports)
        first_error = next((r.first_error for r in reports if r.first_error), "")
        return cls(
            kind=kind,
            workload=workload,
            throughput=Throughput(
                records=records,
                bytes=sum(r.bytes for r in reports),
                seconds=max(end - begin, 0.0),
            ),
            latency=LatencySummary.from_seconds(latencies),
            errors=errors,
            first_error=first_error,
            requested_records=requested_records,
            client_cpu_s=sum(r.cpu_s for r in reports),
            processes=len(reports),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "kind": self.kind,
            "started_at": self.started_at,
            "host": {"machine": platform.machine(), "python": platform.python_version()},
            "workload": self.workload,
            "complete": self.complete,
            "requested_records": self.requested_records,
            "throughput": self.throughput.to_dict(),
            "latency_ms": self.latency.to_dict() if self.latency else None,
            "errors": self.errors,
            "first_error": self.first_error,
            "client": {
                "processes": self.processes,
                "cpu_s": self.client_cpu_s,
                "cpu_cores_used": self.client_cpu_util,
            },
            "broker": self.broker or {},
            "extra": self.extra,
        }

    def write_json(self, path: Path) -> None:
        write_json(path, self.to_dict())

    def summary_line(self) -> str:
        """One line in the spirit of Kafka's perf tools."""
        t = self.throughput
        line = (
            f"{t.records} records {_verb(self.kind)}, {t.records_per_s:,.1f} records/sec "
            f"({t.mb_per_s:.2f} MB/sec)"
        )
        if self.latency:
            lat = self.latency
            line += (
                f", {lat.mean:.2f} ms avg latency, {lat.p50:.2f} ms p50, {lat.p95:.2f} ms p95, "
                f"{lat.p99:.2f} ms p99, {lat.p99_9:.2f} ms p99.9, {lat.max:.2f} ms max"
            )
        if self.errors:
            line += f"; {self.errors} errors (first: {self.first_error})"
        return line


MARKDOWN_HEADER = (
    "| run | records/s | MB/s | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms | errors |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def markdown_row(label: str, result: BenchResult) -> str:
    """One table row; latency cells are '-' when the run measured none."""
    t, lat = result.throughput, result.latency
    cells = [label, f"{t.records_per_s:,.0f}", f"{t.mb_per_s:.1f}"]
    if lat:
        cells += [f"{v:.2f}" for v in (lat.p50, lat.p95, lat.p99, lat.p99_9, lat.max)]
    else:
        cells += ["-"] * 5
    cells.append(str(result.errors))
    return "| " + " | ".join(cells) + " |"


def write_json(path: Path, data: Any) -> None:
    """Write `data` as indented JSON, creating parent directories."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def _verb(kind: str) -> str:
    return {"produce": "sent", "consume": "consumed", "e2e": "timed end to end"}.get(kind, kind)
