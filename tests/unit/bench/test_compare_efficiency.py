"""The targets table and broker CPU tables of the comparison report."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.compare.efficiency import (
    best_median,
    busiest_run_cores,
    ceiling_section,
    cpu_section,
    target_rows,
    targets_section,
)
from benchmarks.compare.run import summarize
from pystream.bench.proc_cpu import cpu_usage
from pystream.bench.result import BenchResult
from pystream.bench.stats import Throughput


def case(label: str, mb: float, **more: float) -> dict[str, Any]:
    entry: dict[str, Any] = {"label": label, "mb_per_s": {"median": mb, "min": mb, "max": mb}}
    for field, value in more.items():
        entry[field] = {"median": value, "min": value, "max": value}
    return entry


def peer(p1: float, p1x4: float, c1: float, c2: float) -> dict[str, Any]:
    return {
        "status": "ok",
        "produce": {
            "produce-p1-acks1-x1": case("1p acks=1 1 prod", p1, broker_cpu_s_per_gb=2.0),
            "produce-p1-acks1-x4": case("1p acks=1 4 prod", p1x4),
            "produce-p1-acksall-x1": case("1p acks=all 1 prod", 10_000),  # not a target case
        },
        "consume": {
            "consume-p1-x1": case("1p 1 cons", c1, broker_cores=0.3, client_cores=0.6),
            "consume-p1-x2": case("1p 2 cons", c2),
            "consume-p1-x1-fetch": case("1p 1 fetch", 2 * c2),
            "consume-p16-x1": case("16p 1 cons", 10_000),
        },
    }


def results() -> dict[str, Any]:
    return {
        "limits": {"loopback_tcp_mb_s": 1000.0},
        "peers": {
            "pystream": peer(150, 300, 400, 450),
            "kafka": peer(200, 250, 300, 100),
            "tansu": peer(50, 90, 100, 120),
        },
    }


def test_best_median_takes_the_best_matching_case() -> None:
    assert best_median(peer(1, 2, 3, 4), "produce", "produce-p1-acks1-") == (
        2,
        "1p acks=1 4 prod",
    )
    assert best_median({}, "produce", "produce-p1-acks1-") is None


def test_targets_compare_best_medians_and_say_which_are_met() -> None:
    rows = {(r["what"], r["reference"]): r for r in target_rows(results())}
    assert rows["produce", "kafka"]["ratio"] == 300 / 250 and rows["produce", "kafka"]["met"]
    assert rows["produce", "tansu"]["ratio"] == 300 / 90 and rows["produce", "tansu"]["met"]
    # Any reader: the wire-level fetch cases count on both sides.
    assert rows["consume", "kafka"]["ratio"] == 900 / 300  # kafka: 1 cons 300 beats fetch 200
    assert (
        rows["consume", "loopback TCP"]["ratio"] == 0.9 and rows["consume", "loopback TCP"]["met"]
    )
    # librdkafka consumers only.
    lib = "consume (librdkafka)"
    assert rows[lib, "kafka"]["ratio"] == 450 / 300 and rows[lib, "kafka"]["met"]
    assert rows[lib, "tansu"]["ratio"] == 450 / 120 and rows[lib, "tansu"]["met"]
    assert rows[lib, "loopback TCP"]["ratio"] == 0.45
    assert rows[lib, "loopback TCP"]["met"] is False


def test_targets_without_pystream_are_unknown_not_failed() -> None:
    data = results()
    del data["peers"]["pystream"]
    assert {r["met"] for r in target_rows(data)} == {None}
    assert "| unknown |" in "\n".join(targets_section(data))


def test_cpu_section_shows_cpu_per_gb_and_cores() -> None:
    data = results()["peers"]
    text = "\n".join(cpu_section(data, ["pystream", "kafka"]))
    assert "| produce 1p acks=1 1 prod | 2.00 [2.00-2.00] | 2.00 [2.00-2.00] |" in text
    assert "| consume 1p 1 cons | 0.30 / 0.60 | 0.30 / 0.60 |" in text


def test_broker_usage_and_summary_of_broker_cpu() -> None:
    result = BenchResult("produce", {}, Throughput(1024, 2**30, 4.0), None)
    assert cpu_usage(2.0, result.throughput) == {
        "cpu_s": 2.0,
        "cpu_cores_used": 0.5,
        "cpu_s_per_gb": 2.0,
    }
    run = {
        "complete": True,
        "throughput": {"mb_per_s": 1.0, "records_per_s": 1.0},
        "latency_ms": None,
        "client": {"cpu_cores_used": 0.5},
        "broker": {"cpu_cores_used": 0.25, "cpu_s_per_gb": 3.0},
    }
    old = {**run, "broker": {}}  # a run without a broker pid
    summary = summarize({"label": "x", "runs": [run, old]})
    assert summary["broker_cpu_s_per_gb"] == {"median": 3.0, "min": 3.0, "max": 3.0}
    assert summary["client_cores"]["median"] == 0.5


def test_broker_usage_keeps_the_kernel_part_apart() -> None:
    usage = cpu_usage(2.0, Throughput(1024, 2**31, 4.0), system_s=1.5)
    assert usage["system_s"] == 1.5 and usage["system_s_per_gb"] == 0.75
    assert usage["cpu_s_per_gb"] == 1.0


def test_summary_has_client_and_kernel_cpu_per_gb() -> None:
    run = {
        "complete": True,
        "throughput": {"mb_per_s": 1.0, "records_per_s": 1.0, "bytes": 2 * 2**30},
        "latency_ms": None,
        "client": {"cpu_cores_used": 0.5, "cpu_s": 3.0},
        "broker": {"cpu_cores_used": 0.25, "cpu_s_per_gb": 1.0, "system_s_per_gb": 0.5},
    }
    summary = summarize({"label": "x", "runs": [run]})
    assert summary["client_cpu_s_per_gb"]["median"] == 1.5
    assert summary["broker_system_s_per_gb"]["median"] == 0.5


def test_ceiling_shows_the_cores_a_targets_rate_would_take() -> None:
    data = results()
    data["host"] = {"cpus": 2}
    best = data["peers"]["pystream"]["produce"]["produce-p1-acks1-x4"]  # 300 MB/s, the best
    for field, value in (
        ("client_cpu_s_per_gb", 1.0),
        ("broker_system_s_per_gb", 0.5),
        ("broker_cpu_s_per_gb", 0.75),
    ):
        best[field] = {"median": value, "min": value, "max": value}
    text = "\n".join(ceiling_section(data))
    # produce vs tansu: 3.0 x 90 = 270 MB/s = 0.2637 GB/s (2^30).
    assert "| produce vs tansu (1p acks=1 4 prod) | 270 | 0.26 | 0.13 | 0.20 | 0.46 |" in text
    # A case without the per-GB figures (an older results.json) shows dashes.
    assert "| consume vs kafka (1p 1 fetch) | 300 | - | - | - | - |" in text
    assert "The machine has 2 CPUs." in text


def test_busiest_run_adds_client_and_broker_cores() -> None:
    def run(client: float, broker: float) -> dict[str, Any]:
        return {"client": {"cpu_cores_used": client}, "broker": {"cpu_cores_used": broker}}

    data = {
        "peers": {
            "a": {"produce": {"x": {"runs": [run(1.0, 0.5), run(0.2, 0.1)]}}},
            "b": {"consume": {"y": {"runs": [run(1.5, 0.4), {"client": {}, "broker": None}]}}},
        }
    }
    assert busiest_run_cores(data) == pytest.approx(1.9)
    assert busiest_run_cores({"peers": {}}) is None
