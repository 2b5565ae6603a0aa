"""Record headers end to end: a real client (confluent-kafka) produces records with headers
to the broker, the Kafka and embedded-log sources read them as the `headers` column, a query
picks a header by key, and the Kafka sink writes the headers on to another topic."""

from __future__ import annotations

from pathlib import Path

import pytest

from pystream.streams import (
    EmbeddedLogSource,
    KafkaSink,
    KafkaSource,
    MemorySink,
    Stream,
    Trigger,
)
from pystream.streams import functions as F
from pystream.testing import EmbeddedBroker

pytestmark = pytest.mark.integration

N = 200


def expected_headers(i: int) -> list[tuple[str, bytes | None]]:
    if i % 4 == 0:
        return []
    out: list[tuple[str, bytes | None]] = [("trace-id", f"t{i}".encode()), ("empty", None)]
    if i % 4 == 3:
        out += [(f"h{j}", bytes([j]) * j) for j in range(20)]
    return out


def produce(bootstrap: str) -> None:
    confluent = pytest.importorskip("confluent_kafka")
    producer = confluent.Producer(
        {"bootstrap.servers": bootstrap, "compression.type": "zstd", "linger.ms": 5}
    )
    for i in range(N):
        producer.produce(
            "clicks",
            key=f"k{i % 7}".encode(),
            value=f"v{i}".encode(),
            headers=expected_headers(i) or None,
        )
    assert producer.flush(30) == 0


def read_all(source: KafkaSource | EmbeddedLogSource, query: Stream | None = None) -> list[dict]:
    sink = MemorySink()
    stream = query if query is not None else Stream.from_source(source)
    stream.write_stream.trigger(Trigger.available_now()).sink(sink).run()
    source.close()
    return sink.rows()


def test_headers_from_a_real_client_through_sources_and_sink(
    pystream_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    produce(pystream_broker.bootstrap)
    rows = read_all(KafkaSource(pystream_broker.bootstrap, "clicks"))
    assert len(rows) == N
    by_value = {r["value"]: r for r in rows}
    for i in range(N):
        assert by_value[f"v{i}".encode()]["headers"] == expected_headers(i)

    log_rows = read_all(EmbeddedLogSource(pystream_broker.data_dir, "clicks"))
    assert sorted(map(repr, log_rows)) == sorted(map(repr, rows))

    source = KafkaSource(pystream_broker.bootstrap, "clicks")
    traced = (
        Stream.from_source(source)
        .with_column("trace", F.header("trace-id").cast("str"))
        .filter(F.col("trace").is_not_null())
        .select("key", "value", "trace", "headers")
    )
    sink = KafkaSink(pystream_broker.bootstrap, "traced", key="key")
    traced.write_stream.trigger(Trigger.available_now()).checkpoint(tmp_path / "cp").sink(
        sink
    ).run()
    source.close()

    out = read_all(KafkaSource(pystream_broker.bootstrap, "traced"))
    assert len(out) == N - N // 4
    for row in out:
        i = int(row["value"][1:])
        assert row["headers"] == expected_headers(i)
        assert row["key"] == f"k{i % 7}".encode()
