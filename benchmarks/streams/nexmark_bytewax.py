"""The Nexmark queries as Bytewax dataflows (one worker, the per-record Python engine).

Input is a `TestingSource` of tuples (`nexmark_rows`); output is gathered by a `TestingSink`
and turned into canonical rows after the timer stops. q0-q2 are `map`/`filter`; q5 is
`count_window` over a `SlidingWindower` (the hottest auctions per window are picked from the
window counts inside the timed region); q7 is `fold_window` over a `TumblingWindower`; q8 is
`join_window` of people keyed by id and auctions keyed by seller over a `TumblingWindower`,
emitting a person once both sides are present in the window ("complete" mode clears the
window's state on emit, and a person registers once, so it is the semi join).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks.streams.nexmark_rows import WINDOW_MS

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SLIDE_MS = 2_000


def run(query: str, records: list[tuple[Any, ...]]) -> dict[str, Any]:
    """Run one query over `records`; seconds, CPU seconds, result row count and rows."""
    import bytewax.operators as op
    import bytewax.operators.windowing as win
    from bytewax.dataflow import Dataflow
    from bytewax.testing import TestingSink, TestingSource, run_main

    out: list[Any] = []
    flow = Dataflow(f"nexmark-{query}")
    stream = op.input("events", flow, TestingSource(records, batch_size=10_000))
    time_at = 5 if query != "q8" else 2  # date_time's place in a bid / in a q8 event

    def clock() -> Any:
        # Bytewax's event clock advances its watermark with the system time that passes
        # after the latest event, so a zero wait drops in-order events that share a
        # millisecond as late; 10 s covers any pause between input batches (the results are
        # checked equal to the other engines') while windows still close as the run goes.
        return win.EventClock(
            lambda e: EPOCH + timedelta(milliseconds=e[time_at]),
            wait_for_system_duration=timedelta(seconds=10),
        )

    tumbling = win.TumblingWindower(length=timedelta(milliseconds=WINDOW_MS), align_to=EPOCH)
    if query == "q0":
        op.output("out", op.map("pass", stream, lambda b: b), TestingSink(out))
    elif query == "q1":
        euros = op.map("euro", stream, lambda b: (b[0], b[1], b[2] * 0.908, b[5], b[6]))
        op.output("out", euros, TestingSink(out))
    elif query == "q2":
        picked = op.filter("pick", stream, lambda b: b[0] % 123 == 0)
        op.output("out", op.map("proj", picked, lambda b: (b[0], b[2])), TestingSink(out))
    elif query == "q5":
        sliding = win.SlidingWindower(
            length=timedelta(milliseconds=WINDOW_MS),
            offset=timedelta(milliseconds=SLIDE_MS),
            align_to=EPOCH,
        )
        counts = win.count_window("count", stream, clock(), sliding, lambda b: str(b[0]))
        op.output("out", counts.down, TestingSink(out))
    elif query == "q7":
        keyed = op.key_on("all", stream, lambda b: "all")

        def highest(acc: Any, b: tuple[Any, ...]) -> Any:
            return b if acc is None or b[2] > acc[2] else acc

        def merge(a: Any, b: Any) -> Any:
            return a if b is None or (a is not None and (a[2], -a[5]) >= (b[2], -b[5])) else b

        top = win.fold_window("max", keyed, clock(), tumbling, lambda: None, highest, merge)
        op.output("out", top.down, TestingSink(out))
    elif query == "q8":
        people = op.key_on("person", op.filter("people", stream, lambda e: e[0] == "P"), _key)
        sellers = op.key_on("seller", op.filter("auctions", stream, lambda e: e[0] == "A"), _key)
        joined = win.join_window(
            "join", clock(), tumbling, people, sellers, insert_mode="first", emit_mode="complete"
        )
        op.output("out", joined.down, TestingSink(out))
    else:
        raise ValueError(f"unknown query {query}")
    t0, c0 = time.perf_counter(), time.process_time()
    run_main(flow)
    if query == "q5":
        out = _hottest(out)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"seconds": seconds, "cpu": cpu, "rows": len(out), "result": _canonical(query, out)}


def _key(e: tuple[Any, ...]) -> str:
    return str(e[1])


def _hottest(out: list[Any]) -> list[Any]:
    """The auctions with the most bids in each window, from (auction, (window, count))."""
    best: dict[int, int] = {}
    for _, (window, n) in out:
        best[window] = max(best.get(window, 0), n)
    return [row for row in out if row[1][1] == best[row[1][0]]]


def _canonical(query: str, out: list[Any]) -> list[tuple[Any, ...]]:
    # Window ids count windows from align_to (the epoch), one per slide or per length.
    if query == "q0":
        return [tuple(b) for b in out]
    if query in ("q1", "q2"):
        return list(out)
    if query == "q5":
        return [(w * SLIDE_MS, int(a), n) for a, (w, n) in out]
    if query == "q7":
        return [(w * WINDOW_MS, b[0], b[2], b[1], b[5]) for _, (w, b) in out]
    return [(w * WINDOW_MS, p[1], p[3]) for _, (w, (p, _a)) in out]  # q8
