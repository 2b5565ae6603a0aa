"""`pystream groups` against a real broker, with librdkafka as the group's
consumer: list, describe (offsets, log end, lag, members), delete, and
reset-offsets (refused while the group has members; takes effect after)."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from pystream.cli.groups import groups
from pystream.testing import EmbeddedBroker

ck = pytest.importorskip("confluent_kafka")
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

pytestmark = pytest.mark.integration

TOPIC, GROUP = "events", "readers"


def cli(broker: EmbeddedBroker, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(groups, [*args, "--bootstrap-server", broker.bootstrap])
    return result.exit_code, result.output


def setup_topic(broker: EmbeddedBroker, per_partition: int = 10) -> list[int]:
    """Two partitions of `per_partition` records; returns the produce timestamps."""
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(TOPIC, num_partitions=2, replication_factor=1)])[TOPIC].result(10)
    producer = ck.Producer({"bootstrap.servers": broker.bootstrap})
    base = int(time.time() * 1000) - 100_000
    stamps = []
    for i in range(per_partition):
        stamps.append(base + i * 1000)
        for p in range(2):
            producer.produce(TOPIC, value=b"x", partition=p, timestamp=base + i * 1000)
    assert producer.flush(10) == 0
    return stamps


def consumer(broker: EmbeddedBroker) -> ck.Consumer:
    c = ck.Consumer(
        {
            "bootstrap.servers": broker.bootstrap,
            "group.id": GROUP,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    c.subscribe([TOPIC])
    return c


def consume(c: ck.Consumer, n: int) -> list[tuple[int, int]]:
    got: list[tuple[int, int]] = []
    deadline = time.monotonic() + 30
    while len(got) < n and time.monotonic() < deadline:
        for m in c.consume(100, 0.2):
            if m.error() is None:
                got.append((m.partition(), m.offset()))
    return got


def test_list_describe_delete(pystream_broker: EmbeddedBroker) -> None:
    setup_topic(pystream_broker)
    c = consumer(pystream_broker)
    assert len(consume(c, 20)) == 20
    c.commit(
        offsets=[ck.TopicPartition(TOPIC, 0, 10), ck.TopicPartition(TOPIC, 1, 4)],
        asynchronous=False,
    )
    code, out = cli(pystream_broker, "list")
    assert code == 0 and out.split() == [GROUP]
    code, out = cli(pystream_broker, "list", "--state")
    assert "Stable" in out
    code, out = cli(pystream_broker, "describe", GROUP)
    assert code == 0, out
    rows = {tuple(line.split()[:5]) for line in out.splitlines() if line.startswith(TOPIC + " ")}
    # topic, partition, committed, log end, lag
    assert rows == {(TOPIC, "0", "10", "10", "0"), (TOPIC, "1", "4", "10", "6")}
    assert "state Stable" in out and "rdkafka" in out
    code, out = cli(pystream_broker, "delete", GROUP)
    assert code == 1 and "NON_EMPTY_GROUP" in out
    c.close()
    code, out = cli(pystream_broker, "delete", GROUP)
    assert code == 0, out
    code, out = cli(pystream_broker, "list")
    assert out.split() == []


def test_reset_offsets(pystream_broker: EmbeddedBroker) -> None:
    stamps = setup_topic(pystream_broker)
    c = consumer(pystream_broker)
    assert len(consume(c, 20)) == 20
    c.commit(asynchronous=False)
    # Refused while the group has members, as Kafka's tool does.
    code, out = cli(
        pystream_broker, "reset-offsets", GROUP, "--topic", TOPIC, "--to-earliest", "--execute"
    )
    assert code != 0 and "no members" in out
    c.close()

    # A dry run changes nothing.
    code, out = cli(pystream_broker, "reset-offsets", GROUP, "--topic", TOPIC, "--to-earliest")
    assert code == 0 and "Dry run" in out
    code, out = cli(pystream_broker, "describe", GROUP)
    committed = [line.split()[2] for line in out.splitlines() if line.startswith(TOPIC + " ")]
    assert committed == ["10", "10"]

    code, out = cli(
        pystream_broker,
        "reset-offsets",
        GROUP,
        "--topic",
        f"{TOPIC}:0",
        "--to-offset",
        "7",
        "--execute",
    )
    assert code == 0, out
    c = consumer(pystream_broker)
    assert sorted(consume(c, 3)) == [(0, 7), (0, 8), (0, 9)]
    c.commit(asynchronous=False)
    c.close()

    code, out = cli(
        pystream_broker,
        "reset-offsets",
        GROUP,
        "--topic",
        TOPIC,
        "--to-timestamp",
        str(stamps[8]),
        "--execute",
    )
    assert code == 0, out
    c = consumer(pystream_broker)
    assert sorted(consume(c, 4)) == [(0, 8), (0, 9), (1, 8), (1, 9)]
    c.close()

    code, out = cli(
        pystream_broker, "reset-offsets", GROUP, "--topic", TOPIC, "--to-latest", "--execute"
    )
    assert code == 0, out
    code, out = cli(pystream_broker, "describe", GROUP)
    lags = [line.split()[4] for line in out.splitlines() if line.startswith(TOPIC + " ")]
    assert lags == ["0", "0"]
