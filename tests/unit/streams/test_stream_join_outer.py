"""Outer (and anti) windowed stream-stream joins, against a plain Python reference.

The reference replays the engine's batching (`max_records_per_trigger` rows per side and
batch) and watermark (min over both sides of max event time - delay, never going back) to
know which rows are late, then joins the rows kept per window. Sources are ended, so the
last batch's watermark closes every window and every unmatched row is emitted.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pystream.streams import GeneratorSource, MemorySink, MemorySource, MicroBatch, Stream, Trigger
from pystream.streams import functions as F
from pystream.streams.operators.join import StreamStreamJoin

LEFT = {"ts": "int64", "k": "int64", "x": "int64"}
RIGHT = {"ts": "int64", "k": "int64", "x": "int64", "s": "str"}
# what every joined row looks like: right columns that clash with the left's get _right
COLUMNS = ["window_start", "window_end", "ts", "k", "x", "ts_right", "x_right", "s"]
OUTER = ["left_outer", "right_outer", "full_outer"]
Row = dict[str, Any]


class Crash(Exception):
    pass


def windows_of(ts: int, size: int, slide: int) -> list[int]:
    last = ts - ts % slide
    return [s for s in range(last, last - size - slide, -slide) if s <= ts < s + size]


def kept_rows(
    left: list[Row], right: list[Row], chunk: int, delay: int
) -> tuple[list[Row], list[Row]]:
    """The rows that are not late, batch by batch as the engine reads them."""
    watermark: int | None = None
    seen: list[int | None] = [None, None]
    kept: tuple[list[Row], list[Row]] = ([], [])
    for start in range(0, max(len(left), len(right)), chunk):
        for side, rows in enumerate((left, right)):
            batch = rows[start : start + chunk]
            kept[side].extend(r for r in batch if watermark is None or r["ts"] >= watermark)
            for r in batch:
                prev = seen[side]
                seen[side] = r["ts"] if prev is None else max(prev, r["ts"])
        maxima = [m - delay for m in seen if m is not None]
        if maxima:
            watermark = min(maxima) if watermark is None else max(watermark, min(maxima))
    return kept


def reference(
    left: list[Row], right: list[Row], how: str, size: int, slide: int
) -> Counter[tuple[Any, ...]]:
    """Rows of `how` over the kept rows; unmatched rows once per window they are in."""
    by_window: tuple[dict[Any, list[Row]], dict[Any, list[Row]]] = ({}, {})
    for side, rows in enumerate((left, right)):
        for r in rows:
            for w in windows_of(r["ts"], size, slide):
                if r["k"] is not None:  # a null key matches nothing
                    by_window[side].setdefault((w, r["k"]), []).append(r)
    out: Counter[tuple[Any, ...]] = Counter()
    for a in left:
        for w in windows_of(a["ts"], size, slide):
            matches = by_window[1].get((w, a["k"]), [])
            front = (w, w + size, a["ts"], a["k"], a["x"])
            if how in ("left_semi", "left_anti"):
                out[front] += bool(matches) == (how == "left_semi")
                continue
            for b in matches:
                out[(*front, b["ts"], b["x"], b["s"])] += 1
            if not matches and how in ("left_outer", "full_outer"):
                out[(*front, None, None, None)] += 1
    if how in ("right_outer", "full_outer"):
        for b in right:
            for w in windows_of(b["ts"], size, slide):
                if (w, b["k"]) not in by_window[0]:
                    out[(w, w + size, None, b["k"], None, b["ts"], b["x"], b["s"])] += 1
    return +out


def join_query(
    left: list[Row], right: list[Row], how: str, window: Any, chunk: int, delay: int
) -> Stream:
    ls = MemorySource(LEFT, name="left", max_records_per_trigger=chunk)
    rs = MemorySource(RIGHT, name="right", max_records_per_trigger=chunk)
    ls.add_data(left)
    rs.add_data(right)
    ls.end_input()
    rs.end_input()
    return (
        Stream.from_source(ls)
        .with_watermark("ts", delay)
        .join(Stream.from_source(rs).with_watermark("ts", delay), "k", how=how, window=window)
    )


def run_join(
    left: list[Row], right: list[Row], how: str, window: Any, chunk: int, delay: int
) -> MemorySink:
    sink = MemorySink()
    query = join_query(left, right, how, window, chunk, delay)
    query.write_stream.trigger(Trigger.available_now()).sink(sink).run()
    return sink


def as_tuples(rows: list[Row], how: str) -> Counter[tuple[Any, ...]]:
    names = COLUMNS[:5] if how in ("left_semi", "left_anti") else COLUMNS
    assert all(list(r) == names for r in rows)
    return Counter(tuple(r.values()) for r in rows)


ROW = {"ts": st.integers(0, 40_000), "k": st.one_of(st.none(), st.integers(0, 3))}
row_st = st.fixed_dictionaries({**ROW, "x": st.integers(0, 99)})
right_row_st = st.fixed_dictionaries(
    {**ROW, "x": st.integers(0, 99), "s": st.one_of(st.none(), st.text("ab", max_size=2))}
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    left=st.lists(row_st, max_size=25),
    right=st.lists(right_row_st, max_size=25),
    chunk=st.integers(1, 8),
    delay=st.sampled_from([0, 2_500, 100_000]),
    how=st.sampled_from([*OUTER, "left_anti", "left_semi", "inner"]),
    hop=st.booleans(),
)
def test_join_matches_reference_with_late_rows_nulls_and_windows(
    left: list[Row],
    right: list[Row],
    chunk: int,
    delay: int,
    how: str,
    hop: bool,
) -> None:
    slide = 4_000 if hop else 10_000
    sink = run_join(left, right, how, F.window("ts", 10_000, slide=slide), chunk, delay)
    kept_left, kept_right = kept_rows(left, right, chunk, delay)
    assert as_tuples(sink.rows(), how) == reference(kept_left, kept_right, how, 10_000, slide)


def outer_rows(rows: list[Row]) -> list[tuple[Any, ...]]:
    return sorted(((r["ts"], r["ts_right"]) for r in rows), key=repr)


def full_outer_by_second(ls: MemorySource, rs: MemorySource) -> Stream:
    """A full outer join on `k` over 1 s tumbling windows, zero watermark delay."""
    right = Stream.from_source(rs).with_watermark("ts", 0)
    return (
        Stream.from_source(ls)
        .with_watermark("ts", 0)
        .join(right, "k", how="full_outer", window=F.window("ts", 1_000))
    )


def test_unmatched_rows_wait_for_the_watermark_and_state_stays_bounded(tmp_path: Path) -> None:
    ls, rs = MemorySource(LEFT, name="l"), MemorySource(RIGHT, name="r")
    sink = MemorySink()
    joined = full_outer_by_second(ls, rs)
    op = joined.node
    assert isinstance(op, StreamStreamJoin)

    def run_available() -> list[Row]:
        before = len(sink.rows())
        writer = joined.write_stream.checkpoint(tmp_path / "cp").trigger(Trigger.available_now())
        writer.sink(sink).run()
        return sink.rows()[before:]

    ls.add_data([{"ts": 500, "k": 1, "x": 0}, {"ts": 600, "k": 3, "x": 1}])
    rs.add_data([{"ts": 700, "k": 1, "x": 2, "s": "a"}, {"ts": 800, "k": 2, "x": 3, "s": "b"}])
    # the pair at once; the unmatched 600 and 800 rows wait: their window may still match
    assert outer_rows(run_available()) == [(500, 700)]
    ls.add_data([{"ts": 2_500, "k": 1, "x": 4}])
    rs.add_data([{"ts": 2_600, "k": 5, "x": 5, "s": "c"}])
    # watermark -> 2500 closes [0, 1000): its unmatched rows, once, with nulls; the matched
    # 500 and 700 rows are not emitted again
    new = run_available()
    assert outer_rows(new) == [(600, None), (None, 800)]
    by_side = {r["ts"] or r["ts_right"]: r for r in new}
    assert by_side[600] == dict(zip(COLUMNS, [0, 1_000, 600, 3, 1, None, None, None], strict=True))
    assert by_side[800] == dict(zip(COLUMNS, [0, 1_000, None, 2, None, 800, 3, "b"], strict=True))
    assert op.left_state is not None and op.right_state is not None
    assert np.asarray(op.left_state["ts"]).tolist() == [2_500]
    assert np.asarray(op.right_state["ts"]).tolist() == [2_600]
    ls.end_input()
    rs.end_input()
    # end of input closes [2000, 3000): the two rows there never matched (keys 1 and 5)
    assert outer_rows(run_available()) == [(2_500, None), (None, 2_600)]
    assert op.left_state.num_rows == 0 and op.right_state.num_rows == 0


def test_a_window_ending_just_after_the_watermark_can_still_match(tmp_path: Path) -> None:
    ls, rs = MemorySource(LEFT, name="l"), MemorySource(RIGHT, name="r")
    sink = MemorySink()
    joined = full_outer_by_second(ls, rs)

    def run_available() -> None:
        writer = joined.write_stream.checkpoint(tmp_path / "cp").trigger(Trigger.available_now())
        writer.sink(sink).run()

    ls.add_data([{"ts": 500, "k": 1, "x": 0}, {"ts": 999, "k": 3, "x": 1}])
    rs.add_data([{"ts": 999, "k": 2, "x": 2, "s": "a"}])
    run_available()  # watermark -> 999: [0, 1000) is still open
    assert sink.rows() == []
    rs.add_data([{"ts": 999, "k": 1, "x": 3, "s": "b"}])  # not late (999 >= 999)
    ls.end_input()
    rs.end_input()
    run_available()
    assert outer_rows(sink.rows()) == [(500, 999), (999, None), (None, 999)]


def restart_rows(n: int, seed: int, with_s: bool) -> list[Row]:
    rng = random.Random(seed)
    rows: list[Row] = []
    for i in range(n):
        row: Row = {"ts": i * 100 + rng.randrange(3_000), "k": rng.choice([0, 1, 2, None])}
        row["x"] = i
        if with_s:
            row["s"] = f"s{i}"
        rows.append(row)
    return rows


@pytest.mark.parametrize("how", OUTER)
@pytest.mark.parametrize("point", ["after_offsets", "after_sink", "after_state", "after_commit"])
@pytest.mark.parametrize("batch_id", [2, 6])
def test_restart_from_a_checkpoint_gives_the_output_of_an_unbroken_run(
    tmp_path: Path, how: str, point: str, batch_id: int
) -> None:
    left, right = restart_rows(80, 1, False), restart_rows(70, 2, True)

    def run(name: str, fail_at: tuple[str, int] | None) -> dict[int, list[Row]]:
        sink, failed = MemorySink(), False

        def fail_point(where: str, batch: int) -> None:
            nonlocal failed
            if not failed and (where, batch) == fail_at:
                failed = True
                raise Crash(f"{where} of batch {batch}")

        for _ in range(2):  # a fresh plan each time: state must come from the checkpoint
            query = join_query(left, right, how, F.window("ts", 1_000, slide=500), 7, 800)
            writer = query.write_stream.trigger(Trigger.available_now()).sink(sink)
            try:
                writer.checkpoint(tmp_path / name)._fail_at(fail_point).run()
                break
            except Crash:
                pass
        assert failed == (fail_at is not None)
        return {i: b.to_pylist() for i, b in sink.batches.items()}

    clean = run("clean", None)
    assert run("crashed", (point, batch_id)) == clean
    # unmatched rows come out mid-stream, before and after the crash, not only at the end
    padded = [i for i, rows in clean.items() if any(None in r.values() for r in rows)]
    assert len(padded) > 3 and min(padded) <= batch_id < max(padded) - 1
    kept_left, kept_right = kept_rows(left, right, 7, 800)
    got = as_tuples([r for i in sorted(clean) for r in clean[i]], how)
    assert got == reference(kept_left, kept_right, how, 1_000, 500)


@pytest.mark.parametrize(
    ("how", "canonical"),
    [
        ("left", "left_outer"),
        ("leftouter", "left_outer"),
        ("LEFT_OUTER", "left_outer"),
        ("right", "right_outer"),
        ("right_outer", "right_outer"),
        ("outer", "full_outer"),
        ("full", "full_outer"),
        ("fullouter", "full_outer"),
        ("full_outer", "full_outer"),
        ("semi", "left_semi"),
        ("left_anti", "left_anti"),
        ("inner", "inner"),
    ],
)
def test_spark_spellings_of_join_types(how: str, canonical: str) -> None:
    a = Stream.from_source(MemorySource(LEFT, name="a"))
    b = Stream.from_source(MemorySource(LEFT, name="b"))
    node = a.join(b, "k", how=how, window=F.window("ts", 1_000)).node
    assert isinstance(node, StreamStreamJoin) and node.how == canonical


@pytest.mark.parametrize("how", ["cross", "left outer", "fullest", ""])
def test_unknown_join_types_are_refused(how: str) -> None:
    a = Stream.from_source(MemorySource(LEFT, name="a"))
    b = Stream.from_source(MemorySource(LEFT, name="b"))
    with pytest.raises(ValueError, match="stream-stream joins are 'inner', 'left_outer'"):
        a.join(b, "k", how=how, window=F.window("ts", 1_000))
    table = MicroBatch.from_pylist([{"k": 1}], {"k": "int64"})
    with pytest.raises(ValueError, match="stream-table joins are 'inner', 'left_outer'"):
        a.join(table, "k", how=how)
    with pytest.raises(ValueError, match="stream-table joins"):
        a.join(table, "k", how="full_outer")


def test_stream_table_join_takes_spark_spellings_of_left() -> None:
    source = MemorySource(LEFT, name="a")
    source.add_data([{"ts": 0, "k": 1, "x": 0}, {"ts": 0, "k": 2, "x": 1}])
    table = MicroBatch.from_pylist([{"k": 1, "name": "one"}], {"k": "int64", "name": "str"})
    sink = MemorySink()
    stream = Stream.from_source(source).join(table, "k", how="left_outer")
    stream.write_stream.trigger(Trigger.once()).sink(sink).run()
    assert [r["name"] for r in sink.rows()] == ["one", None]


def test_window_count_after_an_outer_join_counts_every_emitted_row() -> None:
    left, right = restart_rows(60, 3, False), restart_rows(60, 4, True)
    query = join_query(left, right, "full_outer", F.window("ts", 1_000), 5, 700)
    counts = query.group_by("window_start", "window_end").agg(F.count().alias("n"))
    sink = MemorySink()
    counts.write_stream.trigger(Trigger.available_now()).sink(sink).run()
    want: Counter[int] = Counter()
    for row, n in reference(*kept_rows(left, right, 5, 700), "full_outer", 1_000, 1_000).items():
        want[row[0]] += n
    assert sorted((r["window_start"], r["n"]) for r in sink.rows()) == sorted(want.items())


# ---- on workers ------------------------------------------------------------------------
def gen_left(p: int, start: int, end: int) -> MicroBatch:
    i = np.arange(start, end, dtype=np.int64) * 3 + p
    k = (i * 2_654_435_761) % 31
    return MicroBatch({"ts": i * 7 + (i * 7919) % 4_000, "k": k, "x": i}, valid={"k": k % 13 != 0})


def gen_right(p: int, start: int, end: int) -> MicroBatch:
    i = np.arange(start, end, dtype=np.int64) * 2 + p
    k = (i * 40_503) % 37
    s = MicroBatch.from_pylist([{"s": f"r{v}"} for v in i.tolist()], {"s": "str"})["s"]
    return MicroBatch(
        {"ts": i * 11 + (i * 104_729) % 3_000, "k": k, "x": i, "s": s}, valid={"k": k % 11 != 0}
    )


def worker_join(how: str, delay: str) -> Stream:
    left = GeneratorSource(
        gen_left, LEFT, name="left", partitions=3, total=3_000, max_records_per_trigger=600
    )
    right = GeneratorSource(
        gen_right, RIGHT, name="right", partitions=2, total=2_000, max_records_per_trigger=500
    )
    return (
        Stream.from_source(left)
        .with_watermark("ts", delay)
        .join(
            Stream.from_source(right).with_watermark("ts", delay),
            "k",
            how=how,
            window=F.window("ts", "2 seconds"),
        )
    )


def run_on(stream: Stream, workers: int, checkpoint: Path) -> Counter[tuple[Any, ...]]:
    sink = MemorySink()
    writer = stream.write_stream.trigger(Trigger.available_now()).workers(workers)
    writer.checkpoint(checkpoint).sink(sink).run()
    return Counter(tuple(r.values()) for r in sink.rows())


def generated(gen: Any, partitions: int, total: int) -> list[Row]:
    out = []
    for p in range(partitions):
        out += gen(p, 0, (total - p + partitions - 1) // partitions).to_pylist()
    return out


@pytest.mark.parametrize("how", [*OUTER, "left_anti"])
def test_outer_joins_on_workers_match_one_process_and_python(tmp_path: Path, how: str) -> None:
    one = run_on(worker_join(how, "1 hour"), 1, tmp_path / "one")
    two = run_on(worker_join(how, "1 hour"), 2, tmp_path / "two")
    assert one == two
    left, right = generated(gen_left, 3, 3_000), generated(gen_right, 2, 2_000)
    assert one == reference(left, right, how, 2_000, 2_000)  # nothing late with a 1 h delay
    assert any(None in row for row in one) or how == "left_anti"
    # with late rows, workers still give the one-process result
    late_one = run_on(worker_join(how, "1 second"), 1, tmp_path / "late1")
    late_two = run_on(worker_join(how, "1 second"), 2, tmp_path / "late2")
    assert late_one == late_two and late_one.total() < one.total()
