"""kafka-python 3.x against a real broker: admin, idempotent produce, consume."""

from __future__ import annotations

import pytest

from pystream.testing import EmbeddedBroker

kafka = pytest.importorskip("kafka")
from kafka.admin import KafkaAdminClient, NewTopic  # noqa: E402

pytestmark = pytest.mark.integration


def test_roundtrip(pystream_broker: EmbeddedBroker, records: list) -> None:
    bootstrap = pystream_broker.bootstrap
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic("kp", num_partitions=2, replication_factor=1)])
    assert "kp" in admin.list_topics()
    admin.close()

    producer = kafka.KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    futures = [
        producer.send("kp", key=k, value=v, headers=h, timestamp_ms=ts) for k, v, h, ts in records
    ]
    producer.flush(20)
    metas = [f.get(timeout=10) for f in futures]
    assert all(m.offset >= 0 for m in metas)
    producer.close()

    consumer = kafka.KafkaConsumer(
        "kp",
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=10000,
        group_id=None,
    )
    got = []
    for msg in consumer:
        got.append(msg)
        if len(got) == len(records):
            break
    consumer.close()
    expected = {(k, v): (h, ts) for k, v, h, ts in records}
    assert len(got) == len(records)
    for msg in got:
        headers, ts = expected[(msg.key, msg.value)]
        assert [(k, bytes(v)) for k, v in msg.headers] == headers
        assert msg.timestamp == ts
