"""Checkpointing and recovery: a query killed at any step of a batch and restarted from its
checkpoint produces the same output as a query that never failed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pystream.streams import (
    FileSink,
    JsonLinesFile,
    MemorySink,
    MemorySource,
    Stream,
    StreamingQueryException,
    Trigger,
)
from pystream.streams import functions as F
from pystream.streams.execution import BatchPlan

SCHEMA = {"ts": "int64", "key": "str", "v": "int64"}
EVENTS = [{"ts": (i * 7_919) % 50_000 + i * 300, "key": "abc"[i % 3], "v": i} for i in range(120)]


class Crash(Exception):
    pass


def build(events: list[dict[str, Any]], dedup: bool = False) -> Stream:
    source = MemorySource(SCHEMA, max_records_per_trigger=13)
    source.add_data(events)
    source.end_input()
    stream = Stream.from_source(source).with_watermark("ts", "5 seconds")
    if dedup:
        stream = stream.drop_duplicates(["key", "v"])
    return stream.group_by(F.window("ts", "10 seconds"), "key").agg(
        F.count().alias("n"), F.sum("v").alias("s")
    )


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def run_to_end(tmp: Path, name: str, fail_at: tuple[str, int] | None = None, **kw: Any) -> Path:
    out = tmp / f"{name}.jsonl"
    checkpoint = tmp / f"{name}-checkpoint"
    failed = False

    def fail_point(point: str, batch_id: int) -> None:
        nonlocal failed
        if not failed and (point, batch_id) == fail_at:
            failed = True
            raise Crash(f"injected at {point} of batch {batch_id}")

    attempts = 0
    while True:
        attempts += 1
        writer = build(EVENTS, **kw).write_stream.trigger(Trigger.available_now())
        writer = writer.checkpoint(checkpoint).sink(JsonLinesFile(out))._fail_at(fail_point)
        try:
            writer.run()
            break
        except Crash:
            assert attempts == 1
    assert failed == (fail_at is not None)
    return out


@pytest.mark.parametrize("point", ["after_offsets", "after_sink", "after_state", "after_commit"])
@pytest.mark.parametrize("batch_id", [0, 3, 9])
def test_restart_after_a_crash_gives_the_output_of_an_unbroken_run(
    tmp_path: Path, point: str, batch_id: int
) -> None:
    want = read_lines(run_to_end(tmp_path, "clean"))
    got = read_lines(run_to_end(tmp_path, "crashed", (point, batch_id)))
    assert got == want
    assert len(want) > 5


def test_restart_with_deduplication_state(tmp_path: Path) -> None:
    want = read_lines(run_to_end(tmp_path, "clean", dedup=True))
    got = read_lines(run_to_end(tmp_path, "crashed", ("after_sink", 4), dedup=True))
    assert got == want


def test_uncommitted_batch_reruns_with_its_logged_offsets(tmp_path: Path) -> None:
    checkpoint = tmp_path / "cp"
    source = MemorySource({"v": "int64"}, max_records_per_trigger=5)
    source.add_data([{"v": i} for i in range(12)])
    seen: list[tuple[int, list[int]]] = []

    def crash_once(point: str, batch_id: int) -> None:
        if (point, batch_id) == ("after_sink", 1) and not any(b == 1 for b, _ in seen[:-1]):
            raise Crash()

    def record(batch: Any, batch_id: int) -> None:
        seen.append((batch_id, [r["v"] for r in batch.to_pylist()]))

    query = (
        Stream.from_source(source)
        .write_stream.checkpoint(checkpoint)
        .trigger(Trigger.available_now())
    )
    with pytest.raises(Crash):
        query.foreach_batch(record)._fail_at(crash_once).run()
    source.add_data([{"v": i} for i in range(12, 40)])  # more data arrives while it is down
    cap_free = MemorySource({"v": "int64"}, max_records_per_trigger=1000)  # and the cap changed
    cap_free.add_data([{"v": i} for i in range(40)])
    Stream.from_source(cap_free).write_stream.checkpoint(checkpoint).trigger(
        Trigger.available_now()
    ).foreach_batch(record).run()
    assert seen[1] == seen[2] == (1, [5, 6, 7, 8, 9])  # the replay is the same batch
    assert seen[3] == (2, list(range(10, 40)))


def test_query_on_a_thread_reports_failures(tmp_path: Path) -> None:
    source = MemorySource({"v": "int64"})
    source.add_data([{"v": 1}])

    def boom(batch: Any, batch_id: int) -> None:
        raise RuntimeError("sink is down")

    query = (
        Stream.from_source(source).write_stream.trigger(Trigger.once()).foreach_batch(boom).start()
    )
    with pytest.raises(StreamingQueryException, match="sink is down"):
        query.await_termination(10)
    assert not query.is_active


def test_processing_time_trigger_picks_up_new_data_and_stops(tmp_path: Path) -> None:
    source = MemorySource({"v": "int64"})
    sink = MemorySink()
    query = (
        Stream.from_source(source)
        .write_stream.trigger(Trigger.processing_time("10 ms"))
        .sink(sink)
        .start()
    )
    source.add_data([{"v": 1}, {"v": 2}])
    for _ in range(500):
        if len(sink.rows()) == 2:
            break
        query.await_termination(0.01)
    query.stop()
    assert sink.rows() == [{"v": 1}, {"v": 2}]
    assert not query.is_active


def test_once_ignores_the_cap_and_available_now_respects_it(tmp_path: Path) -> None:
    for trigger, batches in ((Trigger.once(), 1), (Trigger.available_now(), 4)):
        source = MemorySource({"v": "int64"}, max_records_per_trigger=3)
        source.add_data([{"v": i} for i in range(10)])
        sink = MemorySink()
        Stream.from_source(source).write_stream.trigger(trigger).sink(sink).run()
        assert len(sink.batches) == batches
        assert [r["v"] for r in sink.rows()] == list(range(10))


def test_restart_continues_after_the_last_commit(tmp_path: Path) -> None:
    source = MemorySource({"v": "int64"})
    source.add_data([{"v": 1}])
    sink = FileSink(tmp_path / "out")
    writer = lambda: Stream.from_source(source).write_stream.checkpoint(tmp_path / "cp").sink(sink)  # noqa: E731
    writer().trigger(Trigger.available_now()).run()
    source.add_data([{"v": 2}])
    writer().trigger(Trigger.available_now()).run()
    files = sink.files()
    assert [read_lines(f) for f in files] == [[{"v": 1}], [{"v": 2}]]
    assert [f.name for f in files] == ["part-0000000000.jsonl", "part-0000000001.jsonl"]


def test_starting_offsets_latest_and_by_timestamp(tmp_path: Path) -> None:
    source = MemorySource({"ts": "int64"}, timestamp_column="ts")
    source.add_data([{"ts": t} for t in (10, 20, 30)])
    sink = MemorySink()
    Stream.from_source(source).write_stream.starting_offsets("memory", {"timestamp": 15}).trigger(
        Trigger.once()
    ).sink(sink).run()
    assert sink.rows() == [{"ts": 20}, {"ts": 30}]
    sink = MemorySink()
    Stream.from_source(source).write_stream.starting_offsets("memory", "latest").trigger(
        Trigger.once()
    ).sink(sink).run()
    assert sink.rows() == []


def test_offsets_entries_round_trip() -> None:
    plan = BatchPlan(3, {"s": {0: 1}}, {"s": {0: 5, 1: 2}}, 1234, final=True)
    assert BatchPlan.from_entry(json.loads(json.dumps(plan.to_entry()))) == plan


KILL_SCRIPT = """
import os, sys
from pystream.streams import FileSink, MemorySource, Stream, Trigger
from pystream.streams import functions as F

point, batch, checkpoint, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
source = MemorySource({"ts": "int64", "key": "str", "v": "int64"}, max_records_per_trigger=13)
source.add_data([{"ts": (i * 7_919) % 50_000 + i * 300, "key": "abc"[i % 3], "v": i} for i in range(120)])
source.end_input()
counts = (
    Stream.from_source(source).with_watermark("ts", "5 seconds")
    .group_by(F.window("ts", "10 seconds"), "key").agg(F.count().alias("n"), F.sum("v").alias("s"))
)

def die(p, b):
    if point != "none" and (p, b) == (point, batch):
        os._exit(137)  # like SIGKILL: no finally blocks, no flushing, no clean-up

writer = counts.write_stream.trigger(Trigger.available_now()).checkpoint(checkpoint)
writer.sink(FileSink(out))._fail_at(die).run()
"""


@pytest.mark.parametrize("point", ["after_offsets", "after_sink", "after_state"])
def test_process_killed_mid_batch_then_restarted(tmp_path: Path, point: str) -> None:
    import subprocess
    import sys

    script = tmp_path / "job.py"
    script.write_text(KILL_SCRIPT)

    def run(name: str, fail: str) -> subprocess.CompletedProcess[str]:
        args = [
            sys.executable,
            str(script),
            fail,
            "4",
            str(tmp_path / f"{name}-cp"),
            str(tmp_path / name),
        ]
        return subprocess.run(args, capture_output=True, text=True, timeout=120)

    assert run("clean", "none").returncode == 0
    assert run("killed", point).returncode == 137
    restarted = run("killed", "none")
    assert restarted.returncode == 0, restarted.stderr

    def output(name: str) -> list[str]:
        return [p.read_text() for p in sorted((tmp_path / name).glob("part-*"))]

    assert output("killed") == output("clean")
    assert len(output("clean")) > 3
