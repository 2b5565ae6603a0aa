"""`pystream bench` with its Python clients against the broker: every record there and back."""

from __future__ import annotations

import pytest

from pystream.bench.runner import run_consume, run_produce
from pystream.bench.workload import ConsumeWorkload, ProduceWorkload
from pystream.testing import EmbeddedBroker

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("offset_slices", [False, True], ids=["fresh-group", "assigned"])
def test_python_clients_produce_then_consume_every_record(
    pystream_broker: EmbeddedBroker, offset_slices: bool
) -> None:
    bootstrap = pystream_broker.bootstrap
    produced = run_produce(
        ProduceWorkload(
            bootstrap, "py-pc", num_records=3000, record_size=100, partitions=2, num_producers=2
        )
    )
    assert produced.complete, produced.first_error
    assert (produced.throughput.records, produced.throughput.bytes) == (3000, 300_000)

    consumed = run_consume(
        ConsumeWorkload(bootstrap, "py-pc", num_records=3000, offset_slices=offset_slices)
    )
    assert consumed.complete, (consumed.first_error, consumed.throughput.records)
    assert (consumed.throughput.records, consumed.throughput.bytes) == (3000, 300_000)
    if not offset_slices:
        assert consumed.extra["rebalance_s"] >= 0  # joined a group, timed apart
