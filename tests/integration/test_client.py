"""pystream's own client against the broker: admin, producer, consumer."""

from __future__ import annotations

import asyncio

import pytest

from pystream.client import EARLIEST, Admin, Cluster, Consumer, KafkaError, Producer
from pystream.client.partitioner import murmur2_partition
from pystream.record import Record
from pystream.testing import EmbeddedBroker

pytestmark = pytest.mark.integration


def test_admin_producer_consumer(pystream_broker: EmbeddedBroker) -> None:
    asyncio.run(_roundtrip(pystream_broker.bootstrap))


async def _roundtrip(bootstrap: str) -> None:
    cluster = Cluster(bootstrap)
    admin = Admin(cluster)
    await admin.create_topic("c", 3, configs={"retention.ms": "60000"})
    with pytest.raises(KafkaError, match="TOPIC_ALREADY_EXISTS"):
        await admin.create_topic("c", 3)
    assert "c" in await admin.list_topics()
    [desc] = await admin.describe_topics(["c"])
    assert [p.partition for p in desc.partitions] == [0, 1, 2]
    configs = await admin.describe_topic_configs("c")
    assert configs["retention.ms"][0] == "60000"
    await admin.alter_topic_configs("c", {"retention.ms": "120000"})
    assert (await admin.describe_topic_configs("c"))["retention.ms"][0] == "120000"

    producer = Producer(cluster, acks=-1, compression="zstd")
    futures = [
        await producer.send("c", f"v{i}".encode(), key=f"k{i % 5}".encode(), headers=[("h", b"x")])
        for i in range(100)
    ]
    await producer.flush()
    metas = [f.result() for f in futures]
    # Keys land where Kafka's Java client would put them.
    for i, m in enumerate(metas):
        assert m.partition == murmur2_partition(f"k{i % 5}".encode(), 3)
    bulk = await producer.send_batch(
        "c", 0, [Record(key=None, value=f"b{i}".encode(), timestamp=5) for i in range(1000)]
    )
    assert [m.offset for m in bulk] == list(range(bulk[0].offset, bulk[0].offset + 1000))
    await producer.close()

    consumer = Consumer(cluster, max_wait_ms=100)
    await consumer.assign("c", None, EARLIEST)
    got = []
    for _ in range(50):
        got += await consumer.poll()
        if len(got) >= 1100:
            break
    assert len(got) == 1100
    assert {r.value for r in got} == {f"v{i}".encode() for i in range(100)} | {
        f"b{i}".encode() for i in range(1000)
    }
    assert all(r.headers == [("h", b"x")] for r in got if r.value.startswith(b"v"))
    assert consumer.lag() == 0

    await admin.create_partitions("c", 4)
    assert len((await admin.describe_topics(["c"]))[0].partitions) == 4
    await admin.delete_topic("c")
    assert "c" not in await admin.list_topics()
    await cluster.close()
