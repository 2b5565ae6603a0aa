"""The stream processor against a real broker: Kafka source and sink, the embedded-log
source beside the running broker, worker processes, restarts from the checkpoint."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pystream.client import Admin, Cluster, Producer
from pystream.streams import (
    EmbeddedLogSource,
    FileSink,
    JsonFormat,
    KafkaSink,
    KafkaSource,
    MemorySink,
    Stream,
    Trigger,
)
from pystream.streams import functions as F
from pystream.testing import EmbeddedBroker

pytestmark = pytest.mark.integration

PAGES = ["/home", "/cart", "/search", "/checkout", "/help"]


def click(i: int) -> tuple[bytes, bytes, int]:
    """Click i: user key, JSON value, event time (33 ms apart, up to 1.5 s out of order)."""
    ts = 1_000_000 + i * 33 - (i * 7919 % 1500)
    value = {"page": PAGES[i * 31 % 7 % 5], "user": i % 17}
    return str(i % 17).encode(), json.dumps(value).encode(), ts


async def _produce(bootstrap: str, topic: str, partitions: int, clicks: range) -> None:
    cluster = Cluster(bootstrap)
    admin = Admin(cluster)
    if topic not in await admin.list_topics():
        await admin.create_topic(topic, partitions, 1)
    producer = Producer(cluster, linger_ms=2)
    for i in clicks:
        key, value, ts = click(i)
        await producer.send(topic, value, key=key, timestamp=ts)
    await producer.close()
    await cluster.close()


def produce(broker: EmbeddedBroker, clicks: range, topic: str = "clicks") -> None:
    asyncio.run(_produce(broker.bootstrap, topic, 3, clicks))


def read_topic(broker: EmbeddedBroker, topic: str) -> list[dict[str, Any]]:
    sink = MemorySink()
    Stream.from_source(KafkaSource(broker.bootstrap, topic)).write_stream.trigger(
        Trigger.available_now()
    ).sink(sink).run()
    return sink.rows()


def per_page(source: Any, delay: str = "20 seconds") -> Stream:
    return (
        Stream.from_source(source)
        .decode(JsonFormat({"page": "str", "user": "int64"}), keep=["timestamp"])
        .with_watermark("timestamp", delay)
        .group_by(F.window("timestamp", "10 seconds"), "page")
        .agg(F.count().alias("clicks"))
    )


def reference(clicks: range, delay_ms: int = 20_000) -> Counter[tuple[int, str]]:
    """Closed windows of a plain-Python count (no record is later than the delay)."""
    events = [(json.loads(click(i)[1])["page"], click(i)[2]) for i in clicks]
    watermark = max(ts for _, ts in events) - delay_ms
    counts: Counter[tuple[int, str]] = Counter()
    for page, ts in events:
        start = ts - ts % 10_000
        if start + 10_000 <= watermark:
            counts[(start, page)] += 1
    return counts


def test_topic_to_windowed_count_to_topic(pystream_broker: EmbeddedBroker, tmp_path: Path) -> None:
    clicks = range(3_000)
    produce(pystream_broker, clicks)
    source = KafkaSource(pystream_broker.bootstrap, "clicks", max_records_per_trigger=500)
    sink = KafkaSink(pystream_broker.bootstrap, "clicks-per-page", key="page", value_format="json")
    query = (
        per_page(source)
        .write_stream.output_mode("append")
        .trigger(Trigger.available_now())
        .checkpoint(tmp_path / "cp")
        .sink(sink)
        .run()
    )
    assert query.recent_progress[0].num_input_rows == 500  # the per-trigger cap
    out = read_topic(pystream_broker, "clicks-per-page")
    got = Counter()
    for r in out:
        row = json.loads(r["value"])
        assert r["key"] == row["page"].encode()
        got[(row["window_start"], row["page"])] += row["clicks"]
    assert got == reference(clicks)
    assert len(out) == len(got)  # each window once (nothing was replayed)
    offsets = json.loads((tmp_path / "cp" / "offsets" / "0").read_text().split("\n", 1)[1])
    assert sorted(offsets["end"]["kafka:clicks"]) == ["0", "1", "2"]  # per partition


def test_starting_offsets_latest_and_by_timestamp(pystream_broker: EmbeddedBroker) -> None:
    produce(pystream_broker, range(300))
    source = KafkaSource(pystream_broker.bootstrap, "clicks")
    assert sum(source.latest_offsets().values()) == 300
    latest = source.latest_offsets()
    sink = MemorySink()
    Stream.from_source(source).write_stream.starting_offsets(source.name, "latest").trigger(
        Trigger.available_now()
    ).sink(sink).run()
    assert sink.rows() == []
    cut = click(150)[2] + 1_600  # every click from 200 on is at or after it
    sink = MemorySink()
    Stream.from_source(source).write_stream.starting_offsets(
        source.name, {"timestamp": cut}
    ).trigger(Trigger.available_now()).sink(sink).run()
    times = [r["timestamp"] for r in sink.rows()]
    assert min(times) >= click(150)[2] - 1_500 and len(times) < 300
    found = source.offsets_for_timestamp(cut)
    assert all(found[p] <= latest[p] for p in latest)
    source.close()


@pytest.mark.parametrize("crash_at", ["after_offsets", "after_sink", "after_state"])
def test_kill_and_restart_gives_the_same_output(
    pystream_broker: EmbeddedBroker, tmp_path: Path, crash_at: str
) -> None:
    produce(pystream_broker, range(2_000))

    def start(out: Path, cp: Path, fail: Any = None) -> None:
        writer = per_page(
            KafkaSource(pystream_broker.bootstrap, "clicks", max_records_per_trigger=400)
        )
        writer_stream = writer.write_stream.output_mode("append").trigger(Trigger.available_now())
        writer_stream = writer_stream.checkpoint(cp).sink(FileSink(out))
        if fail is not None:
            writer_stream = writer_stream._fail_at(fail)
        writer_stream.run()

    def crash(point: str, batch_id: int) -> None:
        if point == crash_at and batch_id == 2:
            raise RuntimeError("killed")

    start(tmp_path / "clean", tmp_path / "cp-clean")
    with pytest.raises(RuntimeError, match="killed"):
        start(tmp_path / "crashed", tmp_path / "cp-crashed", crash)
    start(tmp_path / "crashed", tmp_path / "cp-crashed")
    clean = {p.name: p.read_bytes() for p in (tmp_path / "clean").iterdir()}
    crashed = {p.name: p.read_bytes() for p in (tmp_path / "crashed").iterdir()}
    assert clean and crashed == clean


def test_kafka_sink_is_at_least_once_across_a_crash(
    pystream_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    produce(pystream_broker, range(600))

    def run(fail: Any = None) -> None:
        source = KafkaSource(pystream_broker.bootstrap, "clicks", max_records_per_trigger=100)
        writer = Stream.from_source(source).select("key", "value").write_stream
        writer = writer.trigger(Trigger.available_now()).checkpoint(tmp_path / "cp")
        writer = writer.sink(KafkaSink(pystream_broker.bootstrap, "copy", key="key"))
        (writer._fail_at(fail) if fail else writer).run()

    def crash(point: str, batch_id: int) -> None:
        if point == "after_sink" and batch_id == 3:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        run(crash)
    run()
    copied = Counter(r["value"] for r in read_topic(pystream_broker, "copy"))
    assert set(copied) == {click(i)[1] for i in range(600)}
    assert sum(copied.values()) == 700  # batch 3 (100 records) was written twice


def test_workers_give_the_single_process_result(
    pystream_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    clicks = range(2_000)
    produce(pystream_broker, clicks)
    results = []
    for workers in (1, 2):
        sink = MemorySink()
        source = KafkaSource(pystream_broker.bootstrap, "clicks", max_records_per_trigger=600)
        per_page(source).write_stream.output_mode("append").trigger(
            Trigger.available_now()
        ).workers(workers).checkpoint(tmp_path / f"cp{workers}").sink(sink).run()
        results.append(sorted(tuple(r.values()) for r in sink.rows()))
    assert results[0] and results[0] == results[1]
    assert Counter({(r[0], r[2]): r[3] for r in results[0]}) == reference(clicks)


def test_embedded_log_source_beside_the_running_broker(pystream_broker: EmbeddedBroker) -> None:
    produce(pystream_broker, range(1_500))
    kafka = KafkaSource(pystream_broker.bootstrap, "clicks")
    local = EmbeddedLogSource(pystream_broker.data_dir, "clicks")
    latest = kafka.latest_offsets()
    assert local.latest_offsets() == latest
    assert local.initial_offsets() == kafka.initial_offsets()
    start = {p: off // 3 for p, off in latest.items()}
    assert local.read(start, latest).to_pylist() == kafka.read(start, latest).to_pylist()
    produce(pystream_broker, range(1_500, 1_600))  # the broker keeps writing
    assert sum(local.latest_offsets().values()) == 1_600
    kafka.close()
    local.close()
