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


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from pystream.testing import EmbeddedBroker

    data = tmp_path_factory.mktemp("sink-bench") / "data"
    with EmbeddedBroker(data_dir=data, config={"num.partitions": 3}) as b:
        yield b


SINK_ROWS = 50_000
SINK_KEYS = [b"key-%012d" % i for i in range(SINK_ROWS)]


def test_kafka_sink_write(benchmark: Any, broker: Any, tmp_path: Any) -> None:
    """Batched sink (one send_batch per partition); compare with the per-record pair below."""
    from pystream.streams import KafkaSink

    rows = MicroBatch(
        {
            "key": BytesColumn.from_pylist(SINK_KEYS),
            "value": BytesColumn.from_pylist([b"v" * 100] * SINK_ROWS),
        }
    )
    sink = KafkaSink(broker.bootstrap, "bench-sink", key="key")
    sink.open(tmp_path)
    ids = iter(range(1 << 30))
    try:
        benchmark(lambda: sink.write(rows, next(ids), "append"))
    finally:
        sink.close()


def test_per_record_producer_send(benchmark: Any, broker: Any) -> None:
    """The same rows through one Producer.send per record (the sink's former path)."""
    import asyncio

    from pystream.client import Cluster, Producer

    async def go() -> int:
        cluster = Cluster(broker.bootstrap)
        producer = Producer(cluster)
        futures = [await producer.send("bench-send", b"v" * 100, key=k) for k in SINK_KEYS]
        await producer.flush()
        await asyncio.gather(*futures)
        await cluster.close()
        return len(futures)

    assert benchmark(lambda: asyncio.run(go())) == SINK_ROWS
