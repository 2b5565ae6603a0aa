"""Stateful operators on workers: windowed joins, deduplication, chained operators.

Every result is compared with one process and with a plain Python computation.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pystream.streams import GeneratorSource, MemorySink, MicroBatch, Stream, Trigger
from pystream.streams import functions as F

LEFT = {"ts": "int64", "k": "int64", "x": "int64"}
RIGHT = {"ts": "int64", "k": "int64", "y": "int64"}


def left_rows(p: int, start: int, end: int) -> MicroBatch:
    i = np.arange(start, end, dtype=np.int64) * 3 + p
    # event time rises with i, up to 4 s out of order
    return MicroBatch({"ts": i * 7 + (i * 7919) % 4_000, "k": (i * 2_654_435_761) % 23, "x": i})


def right_rows(p: int, start: int, end: int) -> MicroBatch:
    i = np.arange(start, end, dtype=np.int64) * 2 + p
    return MicroBatch({"ts": i * 11 + (i * 104_729) % 3_000, "k": (i * 40_503) % 29, "y": i})


def sides(delay: str, n_left: int = 6_000, n_right: int = 4_000) -> tuple[Stream, Stream]:
    left = GeneratorSource(
        left_rows, LEFT, name="left", partitions=3, total=n_left, max_records_per_trigger=1_000
    )
    right = GeneratorSource(
        right_rows, RIGHT, name="right", partitions=2, total=n_right, max_records_per_trigger=700
    )
    return (
        Stream.from_source(left).with_watermark("ts", delay),
        Stream.from_source(right).with_watermark("ts", delay),
    )


def all_rows(gen: Any, partitions: int, total: int) -> list[dict[str, Any]]:
    out = []
    for p in range(partitions):
        n = (total - p + partitions - 1) // partitions
        out += gen(p, 0, n).to_pylist()
    return out


def run(stream: Stream, workers: int, cp: Path, mode: str = "append") -> list[tuple[Any, ...]]:
    sink = MemorySink()
    stream.write_stream.output_mode(mode).trigger(Trigger.available_now()).workers(
        workers
    ).checkpoint(cp).sink(sink).run()
    return sorted(tuple(r.values()) for r in sink.rows())


def joined(delay: str, how: str = "inner") -> Stream:
    left, right = sides(delay)
    return left.join(right, on="k", how=how, window=F.window("ts", "2 seconds"))


def test_windowed_join_matches_one_process_and_python(tmp_path: Path) -> None:
    # a delay longer than the event-time span: nothing is late, the result is the plain join
    one = run(joined("1 hour"), 1, tmp_path / "one")
    three = run(joined("1 hour"), 3, tmp_path / "three")
    assert one and one == three
    want = Counter()
    rights: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for r in all_rows(right_rows, 2, 4_000):
        rights.setdefault((r["ts"] // 2000, r["k"]), []).append(r)
    for left in all_rows(left_rows, 3, 6_000):
        w = left["ts"] // 2000
        for r in rights.get((w, left["k"]), []):
            want[
                (w * 2000, w * 2000 + 2000, left["ts"], left["k"], left["x"], r["ts"], r["y"])
            ] += 1
    assert Counter(three) == want


@pytest.mark.parametrize("how", ["inner", "left_semi"])
def test_windowed_join_with_late_rows_matches_one_process(tmp_path: Path, how: str) -> None:
    one = run(joined("1 second", how), 1, tmp_path / "one")
    two = run(joined("1 second", how), 2, tmp_path / "two")
    assert one and one == two
    # some rows were late: fewer results than without lateness
    assert len(one) < len(run(joined("1 hour", how), 1, tmp_path / "all"))


def test_dedup_matches_one_process_and_python(tmp_path: Path) -> None:
    def dedup(delay: str | None) -> Stream:
        left, _ = sides(delay or "1 hour")
        if delay is None:
            left = Stream(left.node.inputs[0])  # no watermark: every key is kept
        return left.select("ts", "k", (F.col("x") % 5).alias("m")).drop_duplicates(["k", "m"])

    one = run(dedup(None), 1, tmp_path / "one")
    three = run(dedup(None), 3, tmp_path / "three")
    assert one == three
    keys = {(r["k"], r["x"] % 5) for r in all_rows(left_rows, 3, 6_000)}
    assert sorted((k, m) for _, k, m in three) == sorted(keys)  # one row per key
    late = run(dedup("1 second"), 1, tmp_path / "late1")
    assert late == run(dedup("1 second"), 2, tmp_path / "late2")


def test_aggregation_after_an_aggregation(tmp_path: Path) -> None:
    def hottest(delay: str) -> Stream:
        left, _ = sides(delay)
        per_key = left.group_by(F.window("ts", "3 seconds"), "k").agg(F.count().alias("n"))
        return (
            per_key.filter(F.col("n") > 1)
            .group_by("window_start", "window_end")
            .agg(F.max("n").alias("top"), F.count().alias("keys"))
            .with_column("ratio", F.col("top") * 100 // F.col("keys"))
        )

    one = run(hottest("1 hour"), 1, tmp_path / "one")
    three = run(hottest("1 hour"), 3, tmp_path / "three")
    assert one and one == three
    counts: Counter[tuple[int, int]] = Counter()
    for r in all_rows(left_rows, 3, 6_000):
        counts[(r["ts"] // 3000, r["k"])] += 1
    per_window: dict[int, list[int]] = {}
    for (w, _), n in counts.items():
        if n > 1:
            per_window.setdefault(w, []).append(n)
    want = sorted(
        (w * 3000, w * 3000 + 3000, max(ns), len(ns), max(ns) * 100 // len(ns))
        for w, ns in per_window.items()
    )
    assert three == want
    assert run(hottest("1 second"), 1, tmp_path / "l1") == run(
        hottest("1 second"), 2, tmp_path / "l2"
    )


def test_aggregation_after_a_join_and_after_dedup(tmp_path: Path) -> None:
    def pairs_per_window() -> Stream:
        return (
            joined("1 second")
            .group_by("window_start", "window_end")
            .agg(F.count().alias("pairs"), F.sum("y").alias("ys"))
        )

    one = run(pairs_per_window(), 1, tmp_path / "one")
    assert one and one == run(pairs_per_window(), 3, tmp_path / "three")
    # the chained aggregation counts exactly the pairs the join emits
    pairs = Counter((r[0], r[1]) for r in run(joined("1 second"), 1, tmp_path / "j"))
    assert {(r[0], r[1]): r[2] for r in one} == dict(pairs)

    def distinct_then_count() -> Stream:
        left, _ = sides("1 second")
        return (
            left.select("ts", "k", (F.col("x") % 3).alias("m"))
            .drop_duplicates(["k", "m"])
            .group_by(F.window("ts", "5 seconds"))
            .agg(F.count().alias("n"))
        )

    assert run(distinct_then_count(), 1, tmp_path / "d1") == run(
        distinct_then_count(), 2, tmp_path / "d2"
    )


def test_chains_that_cannot_be_exact_are_refused(tmp_path: Path) -> None:
    left, _ = sides("1 second")
    counts = left.group_by(F.window("ts", "3 seconds"), "k").agg(F.count().alias("n"))
    with pytest.raises(ValueError, match="cannot follow an aggregation"):
        run(counts.drop_duplicates(["k"]), 2, tmp_path / "a")
    with pytest.raises(ValueError, match="cannot follow an aggregation"):
        run(counts.group_by("k").agg(F.sum("n").alias("s")), 1, tmp_path / "b", "update")
    chained = counts.group_by("window_start", "window_end").agg(F.max("n").alias("top"))
    with pytest.raises(ValueError, match="append mode"):
        run(chained, 2, tmp_path / "c", "update")
