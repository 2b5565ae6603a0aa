"""Worker processes give the same results as one process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pystream.streams import GeneratorSource, MemorySink, MemorySource, MicroBatch, Stream, Trigger
from pystream.streams import functions as F
from pystream.streams.checkpoint import CheckpointError
from pystream.streams.parallel.stages import range_assignment, split_buckets
from pystream.streams.parallel.workers import WorkerError

SCHEMA = {"ts": "int64", "k": "int64", "v": "int64"}


def events(p: int, start: int, end: int) -> MicroBatch:
    i = np.arange(start, end, dtype=np.int64) * 3 + p
    return MicroBatch({"ts": (i * 37) % 60_000, "k": (i * 2_654_435_761) % 41, "v": i % 11})


def source(total: int = 30_000) -> GeneratorSource:
    return GeneratorSource(events, SCHEMA, partitions=3, total=total, max_records_per_trigger=7_000)


def run(
    stream: Stream, mode: str, workers: int, cp: Path, sink: MemorySink | None = None
) -> MemorySink:
    sink = sink or MemorySink()
    stream.write_stream.output_mode(mode).trigger(Trigger.available_now()).workers(
        workers
    ).checkpoint(cp).sink(sink).run()
    return sink


def windowed(src: Any) -> Stream:
    return (
        Stream.from_source(src)
        .filter(F.col("v") != 3)
        .with_watermark("ts", "2 seconds")
        .group_by(F.window("ts", "5 seconds"), "k")
        .agg(F.count().alias("n"), F.sum("v").alias("s"), F.max("ts").alias("last"))
    )


def rows(sink: MemorySink) -> list[tuple[Any, ...]]:
    return sorted(tuple(r.values()) for r in sink.rows())


@pytest.mark.parametrize("mode", ["append", "update"])
def test_windowed_aggregation_matches_one_process(tmp_path: Path, mode: str) -> None:
    one = run(windowed(source()), mode, 1, tmp_path / "one")
    three = run(windowed(source()), mode, 3, tmp_path / "three")
    assert rows(one) and rows(one) == rows(three)
    state = sorted(p.name for p in (tmp_path / "three" / "state").glob("*/*"))
    assert state == ["0", "1", "2"]  # one state directory per shuffle partition


def test_sessions_and_dedup_match_one_process(tmp_path: Path) -> None:
    def sessions(src: Any) -> Stream:
        return (
            Stream.from_source(src)
            .with_watermark("ts", "1 second")
            .group_by(F.session_window("ts", "300 milliseconds"), "k")
            .agg(F.count().alias("n"))
        )

    def dedup(src: Any) -> Stream:
        return Stream.from_source(src).drop_duplicates(["k", "v"])

    assert rows(run(sessions(source()), "append", 1, tmp_path / "s1")) == rows(
        run(sessions(source()), "append", 2, tmp_path / "s2")
    )
    one, two = (
        run(dedup(source()), "append", 1, tmp_path / "d1"),
        run(dedup(source()), "append", 2, tmp_path / "d2"),
    )
    assert len(one.rows()) == 41 * 11
    assert rows(one) == rows(two)  # the same first row per key (range-assigned partitions)


def test_stateless_and_complete_mode(tmp_path: Path) -> None:
    projected = Stream.from_source(source(5_000)).select("k", (F.col("v") * 2).alias("v2"))
    assert rows(run(projected, "append", 1, tmp_path / "a")) == rows(
        run(projected, "append", 2, tmp_path / "b")
    )
    counts = Stream.from_source(source(5_000)).group_by("k").agg(F.count().alias("n"))
    one = run(counts, "complete", 1, tmp_path / "c")
    two = run(counts, "complete", 2, tmp_path / "d")
    assert sorted(map(tuple, (r.values() for r in one.last()))) == sorted(
        map(tuple, (r.values() for r in two.last()))
    )


def test_driver_reads_sources_that_live_in_its_memory(tmp_path: Path) -> None:
    mem = MemorySource({"k": "int64", "v": "int64"}, partitions=2)
    mem.add_data([{"k": i % 5, "v": i} for i in range(100)], partition=0)
    mem.add_data([{"k": i % 5, "v": 1} for i in range(50)], partition=1)
    mem.end_input()
    sink = run(
        Stream.from_source(mem).group_by("k").agg(F.sum("v").alias("s")),
        "update",
        2,
        tmp_path / "m",
    )
    assert sink.table(["k"]) == {
        (k,): {"k": k, "s": sum(i for i in range(100) if i % 5 == k) + 10} for k in range(5)
    }


def test_restart_resumes_worker_state_and_keeps_the_worker_count(tmp_path: Path) -> None:
    def two_runs(workers: int, cp: Path) -> MemorySink:
        src = source(14_000)
        src.bounded = False  # more will come: no end-of-input batch yet
        sink = MemorySink()
        windowed(src).write_stream.output_mode("update").trigger(Trigger.once()).workers(
            workers
        ).checkpoint(cp).sink(sink).run()
        src.total = 28_000  # more input arrives; the second run resumes from the checkpoint
        src.max_records_per_trigger = 5_000
        src.bounded = True
        run(windowed(src), "update", workers, cp, sink)
        return sink

    one = two_runs(1, tmp_path / "one")
    two = two_runs(2, tmp_path / "two")
    assert len(two.batches) > 3
    assert two.table(["window_start", "k"]) == one.table(["window_start", "k"])
    with pytest.raises(CheckpointError, match="workers=2"):
        run(windowed(source()), "update", 3, tmp_path / "two")
    with pytest.raises(CheckpointError, match="workers=1"):
        run(windowed(source()), "update", 2, tmp_path / "one")


def test_unsupported_plans_and_worker_failures_are_clear(tmp_path: Path) -> None:
    src = source()
    counts = windowed(src).select("window_start", "window_end", "k", "n")
    raw = Stream.from_source(src).select(
        F.col("ts").alias("window_start"), F.col("ts").alias("window_end"), "k", "v"
    )
    with pytest.raises(ValueError, match="before and after a stateful operator"):
        run(counts.union(raw), "append", 2, tmp_path / "u")

    def boom(batch: MicroBatch) -> MicroBatch:
        raise ZeroDivisionError("bad batch function")

    with pytest.raises(WorkerError, match="bad batch function"):
        run(Stream.from_source(source()).map_batches(boom), "append", 2, tmp_path / "f")


def test_range_assignment_and_buckets() -> None:
    parts = [4, 0, 2, 1, 3]
    shares = [range_assignment(parts, i, 2) for i in range(2)]
    assert shares == [[0, 1, 2], [3, 4]]
    assert range_assignment(parts, 2, 3) == [4]
    batch = MicroBatch({"k": np.arange(1000) % 17, "i": np.arange(1000)})
    buckets = split_buckets(batch, [batch["k"]], 4)
    assert sum(b.num_rows for b in buckets) == 1000
    owners = {}
    for n, b in enumerate(buckets):
        assert np.all(np.diff(b["i"]) > 0)  # rows keep their order inside a bucket
        for k in set(b["k"].tolist()):
            assert owners.setdefault(k, n) == n  # a key lives in one bucket
