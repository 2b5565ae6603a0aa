"""Windowed aggregation checked against a plain-Python reference on random out-of-order input.

The engine gets the events in fixed-size micro-batches (max_records_per_trigger), so the
reference can replay the same watermark: batch i runs with max(event time of batches < i)
minus the delay, and rows of batch i older than that are late.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pystream.streams import MemorySink, MemorySource, Stream, Trigger
from pystream.streams import functions as F

SCHEMA = {"ts": "int64", "key": "str", "v": "int64"}
Event = dict[str, Any]

events_st = st.lists(
    st.fixed_dictionaries(
        {
            "ts": st.integers(0, 60_000),
            "key": st.sampled_from(["a", "b", "c"]),
            "v": st.integers(-50, 50),
        }
    ),
    min_size=1,
    max_size=60,
)


def split_late(events: list[Event], chunk: int, delay: int) -> tuple[list[Event], list[Event]]:
    kept: list[Event] = []
    late: list[Event] = []
    wm: int | None = None
    max_ts: int | None = None
    for i in range(0, len(events), chunk):
        part = events[i : i + chunk]
        for e in part:
            (late if wm is not None and e["ts"] < wm else kept).append(e)
        top = max(e["ts"] for e in part)
        max_ts = top if max_ts is None else max(max_ts, top)
        wm = max_ts - delay if wm is None else max(wm, max_ts - delay)
    return kept, late


def summarize(groups: dict[tuple, list[int]]) -> dict[tuple, tuple]:
    return {k: (len(v), sum(v), min(v), max(v)) for k, v in groups.items()}


def tumbling_ref(events: list[Event], size: int) -> dict[tuple, list[int]]:
    groups: dict[tuple, list[int]] = defaultdict(list)
    for e in events:
        start = e["ts"] - e["ts"] % size
        groups[(start, start + size, e["key"])].append(e["v"])
    return groups


def hopping_ref(events: list[Event], size: int, slide: int) -> dict[tuple, list[int]]:
    groups: dict[tuple, list[int]] = defaultdict(list)
    for e in events:
        start = e["ts"] - e["ts"] % slide
        while start + size > e["ts"]:
            groups[(start, start + size, e["key"])].append(e["v"])
            start -= slide
    return groups


def session_ref(events: list[Event], gap: int) -> dict[tuple, list[int]]:
    groups: dict[tuple, list[int]] = {}
    for key in {e["key"] for e in events}:
        sessions: list[list[Any]] = []  # [start, end, values]
        for e in sorted((e for e in events if e["key"] == key), key=lambda e: e["ts"]):
            if sessions and e["ts"] < sessions[-1][1]:
                sessions[-1][1] = max(sessions[-1][1], e["ts"] + gap)
                sessions[-1][2].append(e["v"])
            else:
                sessions.append([e["ts"], e["ts"] + gap, [e["v"]]])
        for start, end, vals in sessions:
            groups[(start, end, key)] = vals
    return groups


def run(
    events: list[Event],
    build: Callable[[Stream], Stream],
    mode: str,
    chunk: int,
    late_sink: MemorySink | None = None,
    delay: int | None = None,
) -> MemorySink:
    source = MemorySource(SCHEMA, max_records_per_trigger=chunk)
    source.add_data(events)
    source.end_input()
    stream = Stream.from_source(source)
    if delay is not None:
        stream = stream.with_watermark("ts", delay, late_sink=late_sink)
    sink = MemorySink()
    build(stream).write_stream.output_mode(mode).trigger(Trigger.available_now()).sink(sink).run()
    return sink


AGGS = (F.count().alias("n"), F.sum("v").alias("s"), F.min("v").alias("lo"), F.max("v").alias("hi"))


def as_result(rows: list[dict[str, Any]]) -> dict[tuple, tuple]:
    out = {}
    for r in rows:
        key = (r["window_start"], r["window_end"], r["key"])
        assert key not in out, f"window emitted twice: {key}"
        out[key] = (r["n"], r["s"], r["lo"], r["hi"])
    return out


WINDOWS = {
    "tumbling": (F.window("ts", 10_000), lambda ev: tumbling_ref(ev, 10_000)),
    "hopping": (F.window("ts", 10_000, slide=4_000), lambda ev: hopping_ref(ev, 10_000, 4_000)),
    "session": (F.session_window("ts", 3_000), lambda ev: session_ref(ev, 3_000)),
}


@pytest.mark.parametrize("kind", list(WINDOWS))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=events_st, chunk=st.integers(1, 15), delay=st.integers(0, 20_000))
def test_append_mode_emits_each_window_once_like_the_reference(
    kind: str, events: list[Event], chunk: int, delay: int
) -> None:
    spec, ref = WINDOWS[kind]
    late_sink = MemorySink()
    sink = run(
        events, lambda s: s.group_by(spec, "key").agg(*AGGS), "append", chunk, late_sink, delay
    )
    kept, late = split_late(events, chunk, delay)
    assert as_result(sink.rows()) == summarize(ref(kept))

    def triple(e: Event) -> tuple:
        return (e["ts"], e["key"], e["v"])

    assert sorted(map(triple, late_sink.rows())) == sorted(map(triple, late))


@pytest.mark.parametrize("kind", ["tumbling", "session"])
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=events_st, chunk=st.integers(1, 15), delay=st.integers(0, 20_000))
def test_update_mode_final_table_matches_the_reference(
    kind: str, events: list[Event], chunk: int, delay: int
) -> None:
    spec, ref = WINDOWS[kind]
    sink = run(events, lambda s: s.group_by(spec, "key").agg(*AGGS), "update", chunk, None, delay)
    kept, _ = split_late(events, chunk, delay)
    table = sink.table(["window_start", "window_end", "key"])
    got = {k: (r["n"], r["s"], r["lo"], r["hi"]) for k, r in table.items()}
    want = summarize(ref(kept))
    if kind == "session":
        # a growing session changes its end (its identity), so earlier versions stay in the
        # upserted table; every final session must still be there with its final values
        assert {k: got.get(k) for k in want} == want
    else:
        assert got == want


@settings(max_examples=20, deadline=None)
@given(events=events_st, chunk=st.integers(1, 15))
def test_complete_mode_without_window_is_the_whole_table(events: list[Event], chunk: int) -> None:
    sink = run(
        events, lambda s: s.group_by("key").agg(*AGGS, F.mean("v").alias("m")), "complete", chunk
    )
    groups: dict[str, list[int]] = defaultdict(list)
    for e in events:
        groups[e["key"]].append(e["v"])
    got = {r["key"]: (r["n"], r["s"], r["lo"], r["hi"], r["m"]) for r in sink.last()}
    want = {
        k: (len(v), sum(v), min(v), max(v), pytest.approx(sum(v) / len(v)))
        for k, v in groups.items()
    }
    assert got == want


def test_state_is_bounded_by_the_watermark() -> None:
    source = MemorySource(SCHEMA, max_records_per_trigger=100)
    source.add_data([{"ts": i * 100, "key": "k", "v": 1} for i in range(5_000)])
    source.end_input()
    stream = Stream.from_source(source).with_watermark("ts", 1_000)
    counts = stream.group_by(F.window("ts", 1_000), "key").count()
    query = counts.write_stream.trigger(Trigger.available_now()).sink(MemorySink()).run()
    # a batch spans ten 1-second windows; only those plus the delay stay open, not all 500
    assert max(p.metrics.get("state_rows", 0) for p in query.recent_progress) <= 12


def test_nulls_in_values_and_keys() -> None:
    source = MemorySource({"key": "str", "v": "int64"})
    source.add_data([{"key": None, "v": None}, {"key": None, "v": 4}, {"key": "x", "v": None}])
    sink = MemorySink()
    agg = (
        Stream.from_source(source)
        .group_by("key")
        .agg(
            F.count().alias("rows"),
            F.count("v").alias("n"),
            F.sum("v").alias("s"),
            F.max("v").alias("hi"),
        )
    )
    agg.write_stream.output_mode("complete").trigger(Trigger.once()).sink(sink).run()
    got = sorted(sink.last(), key=lambda r: str(r["key"]))
    assert got == [
        {"key": None, "rows": 2, "n": 1, "s": 4, "hi": 4},
        {"key": "x", "rows": 1, "n": 0, "s": None, "hi": None},
    ]


def test_approx_distinct_arg_max_and_numba_udaf() -> None:
    numba = pytest.importorskip("numba")

    @numba.njit
    def add_square(acc: float, x: float) -> float:
        return acc + x * x

    @numba.njit
    def plus(a: float, b: float) -> float:
        return a + b

    source = MemorySource({"key": "int64", "v": "int64", "who": "str"}, max_records_per_trigger=7)
    rows = [{"key": i % 2, "v": i % 40, "who": f"w{i}"} for i in range(200)]
    source.add_data(rows)
    sink = MemorySink()
    agg = (
        Stream.from_source(source)
        .group_by("key")
        .agg(
            F.approx_count_distinct("v").alias("d"),
            F.arg_max("v", "who").alias("top"),
            F.udaf("v", add_square, plus).alias("sq"),
        )
    )
    agg.write_stream.output_mode("complete").trigger(Trigger.available_now()).sink(sink).run()
    got = {r["key"]: r for r in sink.last()}
    for key in (0, 1):
        mine = [r for r in rows if r["key"] == key]
        assert got[key]["d"] == pytest.approx(20, abs=2)
        assert got[key]["top"] == next(
            r["who"] for r in mine if r["v"] == max(x["v"] for x in mine)
        )
        assert got[key]["sq"] == sum(r["v"] ** 2 for r in mine)


def test_append_without_watermark_is_rejected() -> None:
    source = MemorySource(SCHEMA)
    agg = Stream.from_source(source).group_by(F.window("ts", 1000), "key").count()
    with pytest.raises(ValueError, match="append output mode"):
        agg.write_stream.output_mode("append").sink(MemorySink()).run()
