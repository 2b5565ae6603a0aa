"""Nexmark queries q0, q1, q2, q5, q7 and q8 as pystream streams.

Each builder takes the input sources by kind ("bid", "auction", "person"; see
`generator.nexmark_source` or `pregenerate`) and returns (stream, output mode). Event time is
`date_time` (ms); the generator emits events in time order, so a zero watermark delay loses
nothing, and the end of the bounded input closes the last windows.

- q0  pass-through of bids.
- q1  currency conversion: price * 0.908 (dollars to euros).
- q2  selection: bids on auctions whose id is a multiple of 123.
- q5  hot items: bids per auction in 10 s windows sliding by 2 s; the auctions with the
      most bids in each window.
- q7  highest bid: the bid with the highest price in each 10 s tumbling window (one row per
      window; the earliest bid wins a tie).
- q8  monitor new users: people who opened an auction in the same 10 s window as they
      registered (windowed person-auction join on id = seller).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from pystream.compute import grouping
from pystream.streams import functions as F
from pystream.streams.batch import MicroBatch
from pystream.streams.sources.base import Source
from pystream.streams.stream import Stream

Inputs = dict[str, Source]
Builder = Callable[[Inputs], tuple[Stream, str]]


def _bids(inputs: Inputs) -> Stream:
    return Stream.from_source(inputs["bid"])


def q0(inputs: Inputs) -> tuple[Stream, str]:
    return _bids(inputs), "append"


def q1(inputs: Inputs) -> tuple[Stream, str]:
    stream = _bids(inputs).select(
        F.col("auction"),
        F.col("bidder"),
        (F.col("price") * 0.908).alias("price"),
        F.col("date_time"),
        F.col("extra"),
    )
    return stream, "append"


def q2(inputs: Inputs) -> tuple[Stream, str]:
    stream = _bids(inputs).filter(F.col("auction") % 123 == 0).select("auction", "price")
    return stream, "append"


def _hottest_per_window(batch: MicroBatch) -> MicroBatch:
    """Keep, per window, the auctions whose count equals the window's largest count."""
    if batch.num_rows == 0:
        return batch
    starts = np.asarray(batch["window_start"])
    counts = np.asarray(batch["num"])
    groups = grouping.factorize([starts])
    best = grouping.group_max(groups.codes, groups.count, counts)
    return batch.filter(counts == best[groups.codes])


def q5(inputs: Inputs) -> tuple[Stream, str]:
    # A window's counts are all final in the same batch (append mode emits a window once the
    # watermark passes its end), so picking the maximum per window needs no further state.
    counts = (
        _bids(inputs)
        .with_watermark("date_time", 0)
        .group_by(F.window("date_time", "10 seconds", slide="2 seconds"), "auction")
        .agg(F.count().alias("num"))
    )
    return counts.map_batches(_hottest_per_window), "append"


def q7(inputs: Inputs) -> tuple[Stream, str]:
    stream = (
        _bids(inputs)
        .with_watermark("date_time", 0)
        .group_by(F.window("date_time", "10 seconds"))
        .agg(F.arg_max("price", "auction", "price", "bidder", "date_time", "extra"))
    )
    return stream, "append"


def q8(inputs: Inputs) -> tuple[Stream, str]:
    people = Stream.from_source(inputs["person"])
    auctions = Stream.from_source(inputs["auction"])
    people = people.select("id", "name", "date_time").with_watermark("date_time", 0)
    sellers = auctions.select(F.col("seller").alias("id"), F.col("date_time")).with_watermark(
        "date_time", 0
    )
    # a person registers once, so "people with an auction in their window" is a semi join
    joined = people.join(sellers, "id", how="left_semi", window=F.window("date_time", "10 seconds"))
    return joined.select("id", "name", "window_start"), "append"


QUERIES: dict[str, Builder] = {"q0": q0, "q1": q1, "q2": q2, "q5": q5, "q7": q7, "q8": q8}
KINDS: dict[str, tuple[str, ...]] = {q: ("bid",) for q in QUERIES} | {"q8": ("person", "auction")}
