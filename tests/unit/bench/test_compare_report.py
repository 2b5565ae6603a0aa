"""The comparison's markdown and plots, from a synthetic results file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks.compare.matrix import produce_cases
from benchmarks.compare.report import BEGIN, END, render_markdown, update_doc, write_plots
from benchmarks.compare.run import summarize


def run(mb: float, p99: float, complete: bool = True) -> dict[str, Any]:
    return {
        "complete": complete,
        "throughput": {"mb_per_s": mb, "records_per_s": mb * 1024},
        "latency_ms": {"p50": 1.0, "p95": 2.0, "p99": p99, "p99_9": 4.0, "max": 5.0},
        "client": {"cpu_cores_used": 0.5},
    }


def results() -> dict[str, Any]:
    produce = {
        c.key: summarize({"label": c.label, "runs": [run(100, 9), run(120, 7), run(80, 8)]})
        for c in produce_cases()
    }
    consume = {"consume-p1": summarize({"label": "1p 1 consumer", "runs": [run(200, 0)]})}
    e2e = {"latency_ms": run(0, 3)["latency_ms"], "throughput": {"records": 100}}
    return {
        "command": "python -m benchmarks.compare.run --quick",
        "started_at": "2026-01-01T00:00:00+00:00",
        "mode": {"name": "quick", "repeats": 3, "e2e_rate": 1000, "e2e_seconds": 10},
        "host": {
            "cpus": 2,
            "cpu_model": "cpu",
            "kernel": "6",
            "python": "3.11",
            "confluent_kafka": "2",
            "librdkafka": "2",
        },
        "limits": {
            "disk": {
                "write_fsync_mb_s": 400.0,
                "read_cold_mb_s": 300.0,
                "read_cached_mb_s": 5000.0,
                "size_mib": 256,
                "cold_read_method": "fadvise",
            },
            "loopback_tcp_mb_s": 2000.0,
            "client_enqueue_ceiling": {"mb_per_s": 300.0, "records_per_s": 300000.0},
        },
        "peers": {
            "pystream": {
                "status": "not started",
                "reason": "exited with code 1: boom",
                "describe": {"version": "0.1.0"},
                "errors": [],
            },
            "tansu": {
                "status": "ok",
                "describe": {"version": "tansu 0.6.0"},
                "produce": produce,
                "consume": consume,
                "e2e": e2e,
                "java_producer": {"error": "no java"},
                "errors": ["tansu consume 16p: TimeoutError: no partition assigned"],
            },
        },
    }


def test_summarize_takes_median_and_spread_of_complete_runs() -> None:
    s = summarize({"label": "x", "runs": [run(100, 9), run(300, 1, complete=False), run(80, 8)]})
    assert s["complete_runs"] == 2
    assert s["mb_per_s"] == {"median": 90.0, "min": 80.0, "max": 100.0}
    assert "mb_per_s" not in summarize({"label": "x", "runs": [run(1, 1, complete=False)]})


def test_markdown_reports_peers_that_did_not_start_and_failed_runs(tmp_path: Path) -> None:
    text = render_markdown(results(), tmp_path / "benchmarks", tmp_path)
    assert "| pystream | not started: exited with code 1: boom |" in text
    assert "| 1p acks=1 1 prod | 100 [80-120] |" in text
    assert "tansu consume 16p: TimeoutError" in text
    assert "not run: no java" in text
    assert "(benchmarks/results.json)" in text
    assert "| tansu | 100 | 25% | 5% |" in text  # best median vs disk write and loopback


def test_update_doc_replaces_only_the_generated_section(tmp_path: Path) -> None:
    doc = tmp_path / "b.md"
    doc.write_text(f"# Intro\nkept\n\n{BEGIN}\nold\n{END}\n\nafter\n")
    update_doc(doc, "new table")
    text = doc.read_text()
    assert "kept" in text and "after" in text and "new table" in text and "old" not in text
    update_doc(tmp_path / "fresh.md", "first")
    assert (tmp_path / "fresh.md").read_text().endswith(f"{BEGIN}\nfirst\n{END}\n")


def test_plots_are_written(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is needed for the comparison plots")
    written = write_plots(results(), tmp_path)
    names = sorted(p.name for p in written)
    assert names == ["consume_throughput.png", "e2e_latency.png", "produce_throughput.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)
