"""librdkafka (confluent-kafka) against a real broker: admin, produce, consume."""

from __future__ import annotations

import pytest

from pystream.testing import EmbeddedBroker

ck = pytest.importorskip("confluent_kafka")
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("compression", ["none", "gzip", "snappy", "lz4", "zstd"])
def test_produce_consume_roundtrip(
    pystream_broker: EmbeddedBroker, compression: str, records: list
) -> None:
    bootstrap = pystream_broker.bootstrap
    admin = AdminClient({"bootstrap.servers": bootstrap})
    topic = f"ck-{compression}"
    futures = admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    futures[topic].result(10)
    assert topic in admin.list_topics(timeout=10).topics

    producer = ck.Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "compression.type": compression,
            "linger.ms": 5,
        }
    )
    errors: list[object] = []
    for key, value, headers, ts in records:
        producer.produce(
            topic,
            key=key,
            value=value,
            headers=headers,
            timestamp=ts,
            on_delivery=lambda err, msg: errors.append(err) if err else None,
        )
    assert producer.flush(20) == 0
    assert errors == []

    consumer = ck.Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"g-{compression}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.assign([ck.TopicPartition(topic, p, ck.OFFSET_BEGINNING) for p in range(3)])
    got = []
    for _ in range(200):
        for msg in consumer.consume(num_messages=100, timeout=0.5):
            assert msg.error() is None, msg.error()
            got.append(msg)
        if len(got) >= len(records):
            break
    consumer.close()
    assert len(got) == len(records)
    expected = {(k, v): (h, ts) for k, v, h, ts in records}
    for msg in got:
        headers, ts = expected[(msg.key(), msg.value())]
        assert msg.headers() == headers
        assert msg.timestamp() == (ck.TIMESTAMP_CREATE_TIME, ts)
    # Per partition, offsets are dense from 0.
    by_part: dict[int, list[int]] = {}
    for msg in got:
        by_part.setdefault(msg.partition(), []).append(msg.offset())
    for offsets in by_part.values():
        assert sorted(offsets) == list(range(len(offsets)))


def test_auto_create_and_metadata(pystream_broker: EmbeddedBroker) -> None:
    producer = ck.Producer({"bootstrap.servers": pystream_broker.bootstrap})
    producer.produce("auto-created", value=b"x")
    assert producer.flush(20) == 0
    md = producer.list_topics(timeout=10)
    assert "auto-created" in md.topics
    assert md.topics["auto-created"].error is None


def test_delete_topic(pystream_broker: EmbeddedBroker) -> None:
    admin = AdminClient({"bootstrap.servers": pystream_broker.bootstrap})
    admin.create_topics([NewTopic("doomed", num_partitions=1, replication_factor=1)])[
        "doomed"
    ].result(10)
    admin.delete_topics(["doomed"])["doomed"].result(10)
    assert "doomed" not in admin.list_topics(timeout=10).topics


def test_create_topic_errors(pystream_broker: EmbeddedBroker) -> None:
    admin = AdminClient({"bootstrap.servers": pystream_broker.bootstrap})
    admin.create_topics([NewTopic("dup", num_partitions=1, replication_factor=1)])["dup"].result(10)
    with pytest.raises(ck.KafkaException) as info:
        admin.create_topics([NewTopic("dup", num_partitions=1, replication_factor=1)])[
            "dup"
        ].result(10)
    assert info.value.args[0].code() == ck.KafkaError.TOPIC_ALREADY_EXISTS
    with pytest.raises(ck.KafkaException) as info:
        admin.create_topics([NewTopic("rf3", num_partitions=1, replication_factor=3)])[
            "rf3"
        ].result(10)
    assert info.value.args[0].code() == ck.KafkaError.INVALID_REPLICATION_FACTOR
