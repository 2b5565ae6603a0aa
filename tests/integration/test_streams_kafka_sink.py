"""KafkaSink over a real broker: rows grouped per partition and sent with one
`Producer.send_batch` each must land where the Java partitioner puts them, in batch order,
with their timestamps; the Kafka source reads them back with their timestamp type."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pystream.client.partitioner import murmur2_partition
from pystream.streams import KafkaSink, KafkaSource, MemorySink, MicroBatch, Stream, Trigger
from pystream.streams.bytes_column import BytesColumn
from pystream.testing import EmbeddedBroker

pytestmark = pytest.mark.integration


def read_all(broker: EmbeddedBroker, topic: str) -> list[dict[str, object]]:
    sink = MemorySink()
    source = KafkaSource(broker.bootstrap, topic)
    Stream.from_source(source).write_stream.trigger(Trigger.available_now()).sink(sink).run()
    source.close()
    return sink.rows()


def test_keyed_rows_land_on_murmur2_partitions_in_order(tmp_path: Path) -> None:
    n = 3_000
    keys = [None if i % 97 == 0 else f"user-{i % 41}".encode() for i in range(n)]
    values = [f"v{i}".encode() for i in range(n)]
    stamps = np.arange(n, dtype=np.int64) + 1_700_000_000_000
    batch = MicroBatch(
        {
            "key": BytesColumn.from_pylist(keys),
            "value": BytesColumn.from_pylist(values),
            "ts": stamps,
        }
    )
    with EmbeddedBroker(data_dir=tmp_path / "data", config={"num.partitions": 4}) as broker:
        sink = KafkaSink(
            broker.bootstrap, "out", key="key", timestamp_column="ts", batch_size=16 << 10
        )
        sink.open(tmp_path)
        sink.write(batch, 0, "append")
        sink.close()
        rows = read_all(broker, "out")
    assert sorted(r["value"] for r in rows) == sorted(values)  # each row exactly once
    by_value = {r["value"]: r for r in rows}
    keyless = {by_value[values[i]]["partition"] for i in range(n) if keys[i] is None}
    assert len(keyless) == 1  # keyless rows of a batch stay together
    for i in range(n):
        row = by_value[values[i]]
        assert row["key"] == keys[i]
        assert row["timestamp"] == int(stamps[i])
        assert row["timestampType"] == 0
        if keys[i] is not None:
            assert row["partition"] == murmur2_partition(keys[i], 4)
    for p in range(4):  # batch order kept within each partition (several chunks each)
        mine = sorted((r for r in rows if r["partition"] == p), key=lambda r: r["offset"])
        numbers = [int(r["value"][1:]) for r in mine]
        assert numbers == sorted(numbers)
