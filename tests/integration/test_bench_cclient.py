"""The C load generator (librdkafka from C) against the broker: every record there and back."""

from __future__ import annotations

import shutil

import pytest

from pystream.bench import cclient
from pystream.bench.runner import run_consume, run_produce
from pystream.bench.workload import ConsumeWorkload, ProduceWorkload
from pystream.testing import EmbeddedBroker

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def built() -> None:
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler")
    try:
        cclient.build()
    except cclient.CClientUnavailable as exc:
        pytest.skip(str(exc))


def test_produce_then_consume_every_record(pystream_broker: EmbeddedBroker) -> None:
    bootstrap = pystream_broker.bootstrap
    produced = run_produce(
        ProduceWorkload(
            bootstrap,
            "c-pc",
            num_records=3001,
            record_size=100,
            partitions=2,
            acks="all",
            num_producers=2,
            client="c",
        )
    )
    assert produced.complete, produced.first_error
    assert produced.throughput.records == 3001
    assert produced.throughput.bytes == 300_100
    assert produced.latency is not None and produced.latency.count == 3001
    assert produced.processes == 2
    assert produced.extra["librdkafka"]

    for consumers in (1, 2, 3):
        consumed = run_consume(
            ConsumeWorkload(
                bootstrap, "c-pc", num_records=3001, num_consumers=consumers, reader="rdkafka-c"
            )
        )
        assert consumed.complete, consumed.first_error
        assert consumed.throughput.records == 3001
        assert consumed.throughput.bytes == 300_100


def test_consuming_more_than_exists_reports_the_shortfall(pystream_broker: EmbeddedBroker) -> None:
    bootstrap = pystream_broker.bootstrap
    run_produce(ProduceWorkload(bootstrap, "c-short", num_records=10, record_size=10, client="c"))
    result = run_consume(
        ConsumeWorkload(bootstrap, "c-short", num_records=20, timeout_ms=500, reader="rdkafka-c")
    )
    assert result.throughput.records == 10
    assert not result.complete
    assert "10 of 20 records" in result.first_error


def test_bad_client_setting_is_a_clear_error(pystream_broker: EmbeddedBroker) -> None:
    workload = ProduceWorkload(
        pystream_broker.bootstrap,
        "c-bad",
        num_records=10,
        client="c",
        producer_props={"no.such.setting": "1"},
    )
    with pytest.raises(cclient.CClientError, match=r"no\.such\.setting"):
        run_produce(workload)
