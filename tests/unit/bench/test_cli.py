"""`pystream bench` argument parsing: Kafka's spellings, validation, and the workload built."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pystream.bench.result import BenchResult
from pystream.bench.stats import Throughput
from pystream.cli import bench as bench_cli
from pystream.cli.bench import bench, expand_multi_value


def test_multi_value_props_are_expanded() -> None:
    args = ["--producer-props", "a=1", "b=2", "--topic", "t", "--producer-props", "c=3"]
    assert expand_multi_value(args) == [
        "--producer-props",
        "a=1",
        "--producer-props",
        "b=2",
        "--topic",
        "t",
        "--producer-props",
        "c=3",
    ]


def test_expansion_stops_at_options_and_double_dash() -> None:
    assert expand_multi_value(["--producer-props", "a=1", "--", "b=2"]) == [
        "--producer-props",
        "a=1",
        "--",
        "b=2",
    ]
    assert expand_multi_value(["--producer-props"]) == ["--producer-props"]


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace the runners: record the workload, return a complete result."""
    seen: dict[str, Any] = {}

    def fake(kind: str) -> Any:
        def run(workload: Any, console: Any = None) -> BenchResult:
            seen["workload"] = workload
            records = getattr(workload, "num_records", None) or workload.produce.num_records
            return BenchResult(
                kind=kind,
                workload=workload.to_dict(),
                throughput=Throughput(records, records * 10, 1.0),
                latency=None,
                requested_records=records,
            )

        return run

    import pystream.bench.runner as runner

    for kind in ("produce", "consume", "e2e"):
        monkeypatch.setattr(runner, f"run_{kind}", fake(kind))
    return seen


def test_produce_flags_reach_the_workload(captured: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        bench,
        [
            "produce",
            "--bootstrap-server",
            "127.0.0.1:9",
            "--topic",
            "t",
            "--num-records",
            "100",
            "--record-size",
            "512",
            "--throughput",
            "50",
            "--partitions",
            "16",
            "--acks",
            "1",
            "--compression",
            "zstd",
            "--batch-size",
            "4096",
            "--linger-ms",
            "7",
            "--num-producers",
            "4",
            "--producer-props",
            "linger.ms=9",
            "client.id=x",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    w = captured["workload"]
    assert (w.num_records, w.record_size, w.throughput, w.partitions) == (100, 512, 50.0, 16)
    assert (w.acks, w.compression, w.batch_size, w.num_producers) == ("1", "zstd", 4096, 4)
    assert w.producer_config()["linger.ms"] == "9"
    assert w.producer_props["client.id"] == "x"
    assert "100 records sent" in result.output
    assert out.exists()


def test_producer_config_file_is_read_before_props(
    captured: dict[str, Any], tmp_path: Path
) -> None:
    config = tmp_path / "producer.properties"
    config.write_text("acks=0\nlinger.ms=1\n")
    result = CliRunner().invoke(
        bench,
        [
            "produce",
            "--bootstrap-server",
            "b:1",
            "--topic",
            "t",
            "--num-records",
            "5",
            "--producer.config",
            str(config),
            "--producer-props",
            "linger.ms=3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert captured["workload"].producer_props == {"acks": "0", "linger.ms": "3"}


def test_consume_accepts_kafkas_messages_spelling(captured: dict[str, Any]) -> None:
    result = CliRunner().invoke(
        bench,
        [
            "consume",
            "--bootstrap-server",
            "b:1",
            "--topic",
            "t",
            "--messages",
            "42",
            "--num-consumers",
            "2",
            "--consumer-props",
            "fetch.max.bytes=1000",
        ],
    )
    assert result.exit_code == 0, result.output
    w = captured["workload"]
    assert (w.num_records, w.num_consumers) == (42, 2)
    assert w.consumer_props == {"fetch.max.bytes": "1000"}
    assert w.offset_slices is False


def test_consume_offset_slices_flag(captured: dict[str, Any]) -> None:
    args = ["consume", "--bootstrap-server", "b:1", "--topic", "t", "--num-records", "10"]
    result = CliRunner().invoke(bench, [*args, "--num-consumers", "3", "--offset-slices"])
    assert result.exit_code == 0, result.output
    assert captured["workload"].offset_slices is True


def test_e2e_needs_a_rate(captured: dict[str, Any]) -> None:
    args = ["e2e", "--bootstrap-server", "b:1", "--topic", "t", "--num-records", "5"]
    result = CliRunner().invoke(bench, args)
    assert result.exit_code == 2
    assert "--throughput" in result.output
    ok = CliRunner().invoke(bench, [*args, "--throughput", "100"])
    assert ok.exit_code == 0, ok.output
    assert captured["workload"].produce.throughput == 100


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--acks", "2"], "--acks"),
        (["--num-records", "0"], "num-records must be at least 1"),
        (["--producer-props", "oops"], "key=value"),
    ],
)
def test_bad_input_is_a_usage_error(
    captured: dict[str, Any], extra: list[str], message: str
) -> None:
    args = ["produce", "--bootstrap-server", "b:1", "--topic", "t", "--num-records", "5"]
    result = CliRunner().invoke(bench, [*args, *extra])
    assert result.exit_code == 2
    assert message in result.output
    assert "workload" not in captured


def test_incomplete_run_exits_non_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    import pystream.bench.runner as runner

    def short(workload: Any, console: Any = None) -> BenchResult:
        return BenchResult(
            kind="produce",
            workload={},
            throughput=Throughput(3, 3, 1.0),
            latency=None,
            errors=2,
            first_error="Broker: Not enough in-sync replicas",
            requested_records=5,
        )

    monkeypatch.setattr(runner, "run_produce", short)
    result = CliRunner().invoke(
        bench, ["produce", "--bootstrap-server", "b:1", "--topic", "t", "--num-records", "5"]
    )
    assert result.exit_code == 1
    assert "incomplete run: 3 of 5 records, 2 errors" in result.output


def test_command_module_exposes_the_group() -> None:
    assert set(bench_cli.bench.commands) == {"produce", "consume", "e2e"}
