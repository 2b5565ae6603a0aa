"""A segment roll fsyncs the finished segment off the event loop; the recovery point follows."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pystream.testing import EmbeddedBroker

pytestmark = pytest.mark.integration


def test_rolled_segments_become_durable_in_the_background(tmp_path: Path) -> None:
    confluent_kafka = pytest.importorskip("confluent_kafka")
    from confluent_kafka.admin import AdminClient, NewTopic

    with EmbeddedBroker(tmp_path) as broker:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        topic = NewTopic("rolls", 1, 1, config={"segment.bytes": str(1 << 20)})
        admin.create_topics([topic])["rolls"].result(10)
        producer = confluent_kafka.Producer(
            {"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 5}
        )
        for i in range(5000):
            producer.produce("rolls", value=b"%06d" % i + b"x" * 1000)
        assert producer.flush(30) == 0

        assert broker.broker is not None and broker.broker.topics is not None
        partition = broker.broker.topics.partition("rolls", 0)
        assert partition is not None
        bases = partition.log.segment_base_offsets
        assert len(bases) >= 4  # ~5 MB in 1 MiB segments
        deadline = time.monotonic() + 10
        while partition.log.recovery_point < bases[-1] and time.monotonic() < deadline:
            time.sleep(0.01)
        # Every rolled-out segment is fsynced; the active one is left to the page cache.
        assert partition.log.recovery_point == bases[-1]
        assert partition.log_end_offset == 5000

    # A clean stop flushed the rest; a restart recovers nothing and loses nothing.
    with EmbeddedBroker(tmp_path) as again:
        assert again.broker is not None and again.broker.topics is not None
        p = again.broker.topics.partition("rolls", 0)
        assert p is not None and p.log_end_offset == 5000
        assert p.log.recovery_point == 5000
