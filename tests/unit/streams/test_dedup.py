from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pystream.streams import MemorySink, MemorySource, Stream, Trigger

events_st = st.lists(
    st.fixed_dictionaries(
        {"ts": st.integers(0, 30_000), "id": st.integers(0, 8), "p": st.integers(0, 1)}
    ),
    max_size=50,
)


def reference(events: list[dict[str, Any]], chunk: int, delay: int | None) -> list[dict[str, Any]]:
    """First row per (id, p) among on-time rows; a key is forgotten once its first row's
    event time falls below the watermark of a later batch."""
    out: list[dict[str, Any]] = []
    seen: dict[tuple, int] = {}
    wm: int | None = None
    max_ts: int | None = None
    for i in range(0, len(events), chunk):
        part = events[i : i + chunk]
        if wm is not None:
            seen = {k: t for k, t in seen.items() if t >= wm}
        for e in part:
            if wm is not None and e["ts"] < wm:
                continue
            key = (e["id"], e["p"])
            if key not in seen:
                seen[key] = e["ts"]
                out.append(e)
        if delay is not None:
            top = max(e["ts"] for e in part)
            max_ts = top if max_ts is None else max(max_ts, top)
            wm = max_ts - delay if wm is None else max(wm, max_ts - delay)
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=events_st, chunk=st.integers(1, 10), delay=st.one_of(st.none(), st.integers(0, 10_000))
)
def test_drop_duplicates_matches_reference(
    events: list[dict[str, Any]], chunk: int, delay: int | None
) -> None:
    source = MemorySource(
        {"ts": "int64", "id": "int64", "p": "int64"}, max_records_per_trigger=chunk
    )
    source.add_data(events)
    stream = Stream.from_source(source)
    if delay is not None:
        stream = stream.with_watermark("ts", delay)
    sink = MemorySink()
    stream.drop_duplicates(["id", "p"]).write_stream.trigger(Trigger.available_now()).sink(
        sink
    ).run()
    assert sink.rows() == reference(events, chunk, delay)


def test_whole_row_deduplication_without_subset() -> None:
    source = MemorySource({"a": "int64", "b": "str"})
    source.add_data(
        [{"a": 1, "b": "x"}, {"a": 1, "b": "x"}, {"a": 1, "b": None}, {"a": 1, "b": None}]
    )
    sink = MemorySink()
    Stream.from_source(source).drop_duplicates().write_stream.trigger(Trigger.once()).sink(
        sink
    ).run()
    assert sink.rows() == [{"a": 1, "b": "x"}, {"a": 1, "b": None}]
