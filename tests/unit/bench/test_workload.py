"""Workload validation and the client settings it turns into."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pystream.bench.workload import (
    ConsumeWorkload,
    EndToEndWorkload,
    ProduceWorkload,
    WorkloadError,
    parse_props,
    read_properties_file,
)


def produce(**kw: object) -> ProduceWorkload:
    settings: dict[str, object] = {"bootstrap_server": "b:1", "topic": "t", "num_records": 10}
    settings.update(kw)
    return ProduceWorkload(**settings)  # type: ignore[arg-type]


def test_parse_props_keeps_equals_in_values_and_later_keys_win() -> None:
    assert parse_props(["a=1", "b=x=y", "a=2", " c = 3 "]) == {"a": "2", "b": "x=y", "c": "3"}


@pytest.mark.parametrize("bad", ["novalue", "=1", ""])
def test_parse_props_rejects_malformed(bad: str) -> None:
    with pytest.raises(WorkloadError, match="key=value"):
        parse_props([bad])


def test_properties_file_skips_comments(tmp_path: Path) -> None:
    path = tmp_path / "p.properties"
    path.write_text("# comment\n! also\n\nacks=all\nlinger.ms = 20\n", encoding="utf-8")
    assert read_properties_file(path) == {"acks": "all", "linger.ms": "20"}


def test_flags_become_librdkafka_settings_and_props_win() -> None:
    w = produce(
        acks="1",
        compression="lz4",
        batch_size=65536,
        linger_ms=2.5,
        producer_props={"linger.ms": "50"},
    )
    config = w.producer_config()
    assert config["bootstrap.servers"] == "b:1"
    assert config["acks"] == "1"
    assert config["compression.type"] == "lz4"
    assert config["batch.size"] == "65536"
    assert config["linger.ms"] == "50"  # explicit property beats the shortcut


def test_integral_linger_is_written_without_a_fraction() -> None:
    assert produce(linger_ms=5.0).producer_config()["linger.ms"] == "5"


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"num_records": 0}, "num-records"),
        ({"record_size": 0}, "record-size"),
        ({"partitions": 0}, "partitions"),
        ({"acks": "2"}, "acks"),
        ({"compression": "brotli"}, "compression"),
        ({"num_producers": 0}, "num-producers"),
        ({"num_producers": 11}, "cannot exceed"),
        ({"batch_size": 0}, "batch-size"),
        ({"linger_ms": -1}, "linger"),
    ],
)
def test_invalid_produce_workloads_are_rejected(kw: dict[str, object], message: str) -> None:
    with pytest.raises(WorkloadError, match=message):
        produce(**kw)


@given(
    st.integers(min_value=1, max_value=10**7),
    st.integers(min_value=1, max_value=64),
    st.one_of(st.just(-1.0), st.floats(min_value=1, max_value=1e6)),
)
def test_shares_add_up_to_the_totals(records: int, producers: int, rate: float) -> None:
    if producers > records:
        producers = records
    w = produce(num_records=records, num_producers=producers, throughput=rate)
    shares = [w.share(i) for i in range(producers)]
    assert sum(n for n, _ in shares) == records
    assert max(n for n, _ in shares) - min(n for n, _ in shares) <= 1
    if rate > 0:
        assert sum(r for _, r in shares) == pytest.approx(rate)
    else:
        assert all(r == -1.0 for _, r in shares)


def test_consumer_config_uses_the_group_and_props() -> None:
    w = ConsumeWorkload("b:1", "t", 5, consumer_props={"fetch.max.bytes": "1024"})
    config = w.consumer_config("g1")
    assert config["group.id"] == "g1"
    assert config["auto.offset.reset"] == "earliest"
    assert config["fetch.max.bytes"] == "1024"


@pytest.mark.parametrize(
    "kw", [{"num_records": 0}, {"num_consumers": 0}, {"timeout_ms": 0}, {"reader": "kcat"}]
)
def test_invalid_consume_workloads_are_rejected(kw: dict[str, object]) -> None:
    settings: dict[str, object] = {"bootstrap_server": "b", "topic": "t", "num_records": 1}
    settings.update(kw)
    with pytest.raises(WorkloadError):
        ConsumeWorkload(**settings)  # type: ignore[arg-type]


def test_end_to_end_needs_room_for_the_timestamp_and_one_producer() -> None:
    with pytest.raises(WorkloadError, match="8 bytes"):
        EndToEndWorkload(produce(record_size=7, throughput=10))
    with pytest.raises(WorkloadError, match="one producer"):
        EndToEndWorkload(produce(num_producers=2, throughput=10))
    ok = EndToEndWorkload(produce(record_size=8, throughput=10))
    assert ok.to_dict()["record_size"] == 8
    assert ok.consumer_config()["fetch.min.bytes"] == "1"
