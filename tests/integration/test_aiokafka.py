"""aiokafka against a real broker: admin, idempotent produce, consume."""

from __future__ import annotations

import asyncio

import pytest

from pystream.testing import EmbeddedBroker

aiokafka = pytest.importorskip("aiokafka")
from aiokafka.admin import AIOKafkaAdminClient, NewTopic  # noqa: E402

pytestmark = pytest.mark.integration


def test_roundtrip(pystream_broker: EmbeddedBroker, records: list) -> None:
    asyncio.run(_roundtrip(pystream_broker.bootstrap, records))


async def _roundtrip(bootstrap: str, records: list) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic("aio", num_partitions=2, replication_factor=1)])
    assert "aio" in await admin.list_topics()
    await admin.close()

    producer = aiokafka.AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        for k, v, h, ts in records:
            await producer.send_and_wait("aio", key=k, value=v, headers=h, timestamp_ms=ts)
    finally:
        await producer.stop()

    consumer = aiokafka.AIOKafkaConsumer(
        "aio", bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    got = []
    try:
        async with asyncio.timeout(20):
            async for msg in consumer:
                got.append(msg)
                if len(got) == len(records):
                    break
    finally:
        await consumer.stop()
    expected = {(k, v): (h, ts) for k, v, h, ts in records}
    for msg in got:
        headers, ts = expected[(msg.key, msg.value)]
        assert [(k, bytes(v)) for k, v in msg.headers] == headers
        assert msg.timestamp == ts
