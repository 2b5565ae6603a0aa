from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pystream.streams import MemorySink, MemorySource, MicroBatch, Stream, Trigger
from pystream.streams import functions as F

TABLE = MicroBatch.from_pylist(
    [
        {"id": 1, "name": "one"},
        {"id": 2, "name": "two"},
        {"id": 2, "name": "deux"},
        {"id": None, "name": "null"},
    ],
    {"id": "int64", "name": "str"},
)


@pytest.mark.parametrize("how", ["inner", "left"])
def test_stream_table_join(how: str) -> None:
    source = MemorySource({"id": "int64", "v": "int64"})
    rows = [{"id": 2, "v": 10}, {"id": 3, "v": 11}, {"id": None, "v": 12}, {"id": 1, "v": 13}]
    source.add_data(rows)
    sink = MemorySink()
    Stream.from_source(source).join(TABLE, "id", how).write_stream.trigger(Trigger.once()).sink(
        sink
    ).run()
    want = []
    for r in rows:
        matches = [t for t in TABLE.to_pylist() if t["id"] is not None and t["id"] == r["id"]]
        want += [{**r, "name": t["name"]} for t in matches]
        if how == "left" and not matches:
            want.append({**r, "name": None})
    assert sink.rows() == want


side_st = st.lists(
    st.fixed_dictionaries(
        {"ts": st.integers(0, 40_000), "k": st.integers(0, 3), "x": st.integers(0, 99)}
    ),
    max_size=30,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(left=side_st, right=side_st, chunk=st.integers(1, 8))
def test_windowed_stream_stream_join_matches_reference_without_late_rows(
    left: list[dict[str, Any]], right: list[dict[str, Any]], chunk: int
) -> None:
    # a delay longer than the time range makes no row late, so the result is the plain join
    ls = MemorySource(
        {"ts": "int64", "k": "int64", "x": "int64"}, name="left", max_records_per_trigger=chunk
    )
    rs = MemorySource(
        {"ts": "int64", "k": "int64", "x": "int64"}, name="right", max_records_per_trigger=chunk
    )
    ls.add_data(left)
    rs.add_data(right)
    lstream = Stream.from_source(ls).with_watermark("ts", 100_000)
    rstream = Stream.from_source(rs).with_watermark("ts", 100_000)
    sink = MemorySink()
    joined = lstream.join(rstream, "k", window=F.window("ts", 10_000))
    joined.write_stream.trigger(Trigger.available_now()).sink(sink).run()
    got = sorted(
        (r["window_start"], r["k"], r["ts"], r["x"], r["ts_right"], r["x_right"])
        for r in sink.rows()
    )
    want = sorted(
        (a["ts"] // 10_000 * 10_000, a["k"], a["ts"], a["x"], b["ts"], b["x"])
        for a in left
        for b in right
        if a["k"] == b["k"] and a["ts"] // 10_000 == b["ts"] // 10_000
    )
    assert got == want


def test_stream_stream_join_evicts_closed_windows_and_drops_late_rows(tmp_path: Any) -> None:
    ls = MemorySource({"ts": "int64", "k": "int64"}, name="l")
    rs = MemorySource({"ts": "int64", "k": "int64"}, name="r")
    sink = MemorySink()
    late = MemorySink()

    def run_available() -> Any:
        joined = (
            Stream.from_source(ls)
            .with_watermark("ts", 0)
            .join(
                Stream.from_source(rs).with_watermark("ts", 0, late_sink=late),
                "k",
                window=F.window("ts", 1_000),
            )
        )
        writer = joined.write_stream.checkpoint(tmp_path / "cp").trigger(Trigger.available_now())
        return writer.sink(sink).run()

    ls.add_data([{"ts": 500, "k": 1}])
    rs.add_data([{"ts": 5_000, "k": 1}])
    run_available()  # watermark: min(500, 5000) = 500
    ls.add_data([{"ts": 5_500, "k": 1}])
    query = run_available()  # joins 5500 with 5000; watermark -> 5000 evicts the 500 row
    assert query.last_progress.watermark_ms == 5_000
    rs.add_data([{"ts": 600, "k": 1}])  # would match the 500 row, but it is late now
    run_available()
    assert [(r["ts"], r["ts_right"]) for r in sink.rows()] == [(5_500, 5_000)]
    assert late.rows() == [{"ts": 600, "k": 1}]


def test_stream_stream_join_needs_window_and_watermarks() -> None:
    a = Stream.from_source(MemorySource({"ts": "int64", "k": "int64"}, name="a"))
    b = Stream.from_source(MemorySource({"ts": "int64", "k": "int64"}, name="b"))
    with pytest.raises(ValueError, match="needs a window"):
        a.join(b, "k")
    with pytest.raises(ValueError, match="with_watermark"):
        a.join(b, "k", window=F.window("ts", 1000)).write_stream.sink(MemorySink()).run()


def _windows_of(ts: int, size: int, slide: int) -> set[int]:
    """Reference: every window start s (a multiple of slide) with s <= ts < s + size."""
    last = ts - ts % slide
    return {s for s in range(last, last - size - slide, -slide) if s <= ts < s + size}


def _run_join(
    left: list[dict[str, Any]], right: list[dict[str, Any]], chunk: int, how: str, window: Any
) -> list[dict[str, Any]]:
    schema = {"ts": "int64", "k": "int64", "x": "int64"}
    ls = MemorySource(schema, name="left", max_records_per_trigger=chunk)
    rs = MemorySource(schema, name="right", max_records_per_trigger=chunk)
    ls.add_data(left)
    rs.add_data(right)
    lstream = Stream.from_source(ls).with_watermark("ts", 100_000)
    rstream = Stream.from_source(rs).with_watermark("ts", 100_000)
    sink = MemorySink()
    joined = lstream.join(rstream, "k", how=how, window=window)
    joined.write_stream.trigger(Trigger.available_now()).sink(sink).run()
    return sink.rows()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(left=side_st, right=side_st, chunk=st.integers(1, 8))
def test_hopping_stream_stream_join_matches_reference(
    left: list[dict[str, Any]], right: list[dict[str, Any]], chunk: int
) -> None:
    # one output row per pair of rows and window they share
    rows = _run_join(left, right, chunk, "inner", F.window("ts", "10 seconds", "4 seconds"))
    got = sorted(
        (r["window_start"], r["window_end"], r["k"], r["ts"], r["x"], r["ts_right"], r["x_right"])
        for r in rows
    )
    want = sorted(
        (w, w + 10_000, a["k"], a["ts"], a["x"], b["ts"], b["x"])
        for a in left
        for b in right
        if a["k"] == b["k"]
        for w in _windows_of(a["ts"], 10_000, 4_000) & _windows_of(b["ts"], 10_000, 4_000)
    )
    assert got == want


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(left=side_st, right=side_st, chunk=st.integers(1, 8))
def test_hopping_left_semi_join_emits_each_left_row_once_per_matched_window(
    left: list[dict[str, Any]], right: list[dict[str, Any]], chunk: int
) -> None:
    rows = _run_join(left, right, chunk, "left_semi", F.window("ts", 10_000, slide=5_000))
    got = sorted((r["window_start"], r["k"], r["ts"], r["x"]) for r in rows)
    want = sorted(
        (w, a["k"], a["ts"], a["x"])
        for a in left
        for w in _windows_of(a["ts"], 10_000, 5_000)
        if any(b["k"] == a["k"] and w in _windows_of(b["ts"], 10_000, 5_000) for b in right)
    )
    assert got == want
    assert all("ts_right" not in r for r in rows)


def test_hopping_join_keeps_a_row_until_its_last_window_closes(tmp_path: Any) -> None:
    ls = MemorySource({"ts": "int64", "k": "int64"}, name="l")
    rs = MemorySource({"ts": "int64", "k": "int64"}, name="r")
    sink = MemorySink()

    def run_available() -> Any:
        joined = (
            Stream.from_source(ls)
            .with_watermark("ts", 0)
            .join(
                Stream.from_source(rs).with_watermark("ts", 0),
                "k",
                window=F.window("ts", 1_000, slide=500),
            )
        )
        writer = joined.write_stream.checkpoint(tmp_path / "cp").trigger(Trigger.available_now())
        return writer.sink(sink).run()

    # the left row at 700 is in windows [0, 1000) and [500, 1500)
    ls.add_data([{"ts": 700, "k": 1}, {"ts": 1_200, "k": 2}])
    rs.add_data([{"ts": 1_200, "k": 3}])
    query = run_available()  # watermark -> 1200: [0, 1000) closes, [500, 1500) stays open
    assert query.last_progress.watermark_ms == 1_200
    rs.add_data([{"ts": 1_300, "k": 1}])  # on time; shares [500, 1500) with the 700 row
    run_available()
    assert [(r["window_start"], r["ts"], r["ts_right"]) for r in sink.rows()] == [(500, 700, 1_300)]


def test_stream_stream_join_refuses_session_windows() -> None:
    a = Stream.from_source(MemorySource({"ts": "int64", "k": "int64"}, name="a"))
    b = Stream.from_source(MemorySource({"ts": "int64", "k": "int64"}, name="b"))
    with pytest.raises(ValueError, match="tumbling and hopping"):
        a.join(b, "k", window=F.session_window("ts", 1000))
