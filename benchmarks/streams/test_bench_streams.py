"""Micro benchmarks of pystream.streams (run with `make bench`; disabled in the test run).

Each pair measures the engine and a numpy floor over the same data in the same run, so the
ratio, not the absolute time, is the figure to compare across machines.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from pystream.streams import BytesColumn, FixedLayout, MemorySource, MicroBatch, Stream, Trigger
from pystream.streams import functions as F
from pystream.streams.nexmark import generator as g
from pystream.streams.nexmark.queries import QUERIES

N = 1_000_000
LAYOUT = np.dtype([("key", "<i8"), ("ts", "<i8"), ("value", "<i8")])


@pytest.fixture(scope="module")
def records() -> np.ndarray:
    i = np.arange(N, dtype=np.int64)
    rec = np.empty(N, dtype=LAYOUT)
    rec["key"], rec["ts"], rec["value"] = (i * 7919) % 1000, i // 10, i % 100
    return rec


def _windowed(records: np.ndarray) -> int:
    source = MemorySource({"value": "bytes"}, max_records_per_trigger=250_000)
    offsets = np.arange(N + 1, dtype=np.int64) * LAYOUT.itemsize
    source.add_data(MicroBatch({"value": BytesColumn(offsets, records.view(np.uint8))}))
    source.end_input()
    out = {"rows": 0}

    def count(batch: Any, batch_id: int) -> None:
        out["rows"] += batch.num_rows

    (
        Stream.from_source(source)
        .decode(FixedLayout(LAYOUT))
        .with_watermark("ts", 1000)
        .group_by(F.window("ts", 10_000), "key")
        .agg(F.count().alias("n"), F.sum("value").alias("s"))
        .write_stream.trigger(Trigger.available_now())
        .foreach_batch(count)
        .run()
    )
    return out["rows"]


def test_keyed_tumbling_window_count_sum(benchmark: Any, records: np.ndarray) -> None:
    assert benchmark(_windowed, records) == 10 * 1000


def test_numpy_floor_for_the_same_aggregation(benchmark: Any, records: np.ndarray) -> None:
    def floor() -> int:
        combined = (records["ts"] // 10_000) * 1000 + records["key"]
        uniq, inverse = np.unique(combined, return_inverse=True)
        np.bincount(inverse)
        np.bincount(inverse, weights=records["value"])
        return len(uniq)

    assert benchmark(floor) == 10 * 1000


@pytest.mark.parametrize("query", ["q0", "q1", "q2", "q5", "q7"])
def test_nexmark_query(benchmark: Any, query: str) -> None:
    events = 500_000
    bids = g.bids(0, g.count_of("bid", events))

    def run() -> int:
        source = MemorySource(g.BID_SCHEMA, name="nexmark-bid", max_records_per_trigger=250_000)
        source.add_data(bids)
        source.end_input()
        stream, mode = QUERIES[query]({"bid": source})
        rows = {"n": 0}

        def count(batch: Any, batch_id: int) -> None:
            rows["n"] += batch.num_rows

        stream.write_stream.output_mode(mode).trigger(Trigger.available_now()).foreach_batch(
            count
        ).run()
        return rows["n"]

    assert benchmark(run) > 0
