"""Shared ground of the Nexmark comparison: the events every engine gets, and the rows it must
produce.

Per-record engines get Python tuples made from pystream's generator (the conversion is not
timed): a bid is (auction, bidder, price, channel, url, date_time, extra); q8's input is
people and auctions interleaved in event order, a person as ("P", id, date_time, name) and an
auction as ("A", seller, date_time, id), so the join key and the event time sit at the same
places in both.

Every engine's result rows are brought to one canonical tuple per row (`ROW_FIELDS`), so the
row sets of two engines can be compared exactly; window starts are epoch milliseconds.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

CHUNK = 1_000_000
BID_FIELDS = ("auction", "bidder", "price", "channel", "url", "date_time", "extra")
WINDOW_MS = 10_000
ROW_FIELDS: dict[str, tuple[str, ...]] = {
    "q0": BID_FIELDS,
    "q1": ("auction", "bidder", "price", "date_time", "extra"),
    "q2": ("auction", "price"),
    "q5": ("window_start", "auction", "num"),
    "q7": ("window_start", "auction", "price", "bidder", "date_time"),
    "q8": ("window_start", "id", "name"),
}
# (engine, query) pairs whose rows of a window appear only once the window closes, for
# engines without an end-of-input watermark: their last windows stay open.
OPEN_AT_END = {
    ("pyspark", "q5"), ("pyspark", "q7"),
    ("pystream-kafka", "q5"), ("pystream-kafka", "q7"),
    ("quix", "q5"), ("quix", "q7"), ("quix", "q8"),
}  # fmt: skip


def _pylist(col: Any) -> list[Any]:
    return col.tolist() if isinstance(col, np.ndarray) else col.to_pylist()


def bid_tuples(events: int) -> list[tuple[Any, ...]]:
    """The bids among the first `events` Nexmark events, one tuple per bid."""
    from pystream.streams.nexmark import generator

    out: list[tuple[Any, ...]] = []
    total = generator.count_of("bid", events)
    for start in range(0, total, CHUNK):
        batch = generator.bids(start, min(start + CHUNK, total))
        out.extend(zip(*(_pylist(batch[c]) for c in BID_FIELDS), strict=True))
    return out


def person_auction_tuples(events: int) -> list[tuple[Any, ...]]:
    """People and auctions among the first `events` events, in the generator's event order."""
    from pystream.streams.nexmark import generator as g

    people = g.persons(0, g.count_of("person", events))
    auctions = g.auctions(0, g.count_of("auction", events))
    p_ids = np.asarray(people["id"])
    a_ids = np.asarray(auctions["id"])
    # event numbers: person i is event 50 i; auction j is event 50 (j // 3) + 1 + j % 3
    p_event = (p_ids - g.FIRST_PERSON_ID) * g.TOTAL_PROPORTION
    j = a_ids - g.FIRST_AUCTION_ID
    a_event = (j // g.AUCTION_PROPORTION) * g.TOTAL_PROPORTION + g.PERSON_PROPORTION
    a_event = a_event + j % g.AUCTION_PROPORTION
    rows: list[tuple[Any, ...]] = [
        ("P", i, t, name)
        for i, t, name in zip(
            p_ids.tolist(), _pylist(people["date_time"]), _pylist(people["name"]), strict=True
        )
    ]
    rows += [
        ("A", seller, t, i)
        for seller, t, i in zip(
            _pylist(auctions["seller"]), _pylist(auctions["date_time"]), a_ids.tolist(), strict=True
        )
    ]
    order = np.argsort(np.concatenate([p_event, a_event]), kind="stable")
    return [rows[k] for k in order.tolist()]


def input_records(query: str, events: int) -> int:
    """How many records the query's input holds (bids, or people plus auctions for q8)."""
    from pystream.streams.nexmark import generator as g

    if query == "q8":
        return g.count_of("person", events) + g.count_of("auction", events)
    return g.count_of("bid", events)


def canonical(query: str, dicts: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Rows given as dicts (pystream's, or any engine's named fields) as canonical tuples."""
    fields = ROW_FIELDS[query]
    return [tuple(d[f] for f in fields) for d in dicts]


def last_event_time(query: str, events: int) -> int:
    from pystream.streams.nexmark import generator as g

    kinds = ("person", "auction") if query == "q8" else ("bid",)
    last = 0
    for kind in kinds:
        n = g.count_of(kind, events)
        if n:
            make = {"person": g.persons, "auction": g.auctions, "bid": g.bids}[kind]
            last = max(last, int(np.asarray(make(n - 1, n)["date_time"])[0]))
    return last


def compare(
    query: str,
    want: list[tuple[Any, ...]],
    got: list[tuple[Any, ...]],
    *,
    closed_by: int | None = None,
) -> dict[str, Any]:
    """Compare two row multisets. With `closed_by` (epoch ms), windowed rows only count when
    their window ended by then: an engine without an end-of-input watermark (Spark, a Kafka
    source) leaves the windows holding the last events open, and emits nothing for them."""
    compared_out = 0
    if closed_by is not None and ROW_FIELDS[query][0] == "window_start":

        def closed(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
            return [r for r in rows if r[0] + WINDOW_MS <= closed_by]

        compared_out = len(want) - len(closed(want))
        want, got = closed(want), closed(got)
    a, b = Counter(want), Counter(got)
    missing, extra = a - b, b - a
    return {
        "equal": not missing and not extra,
        "rows": len(want),
        "missing": sum(missing.values()),
        "extra": sum(extra.values()),
        "examples_missing": [list(r) for r in list(missing)[:3]],
        "examples_extra": [list(r) for r in list(extra)[:3]],
        "rows_in_open_windows_not_compared": compared_out,
    }
