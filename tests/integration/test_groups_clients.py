"""Consumer groups with real clients (librdkafka, kafka-python, aiokafka).

Each group member runs in its own process (so a member can be killed
without a goodbye, as a crashed consumer would be). A member reports on
stdout, one JSON object a line: its assignment when it changes, the
records it consumed (partition, offset), and it commits after every batch
and before giving up partitions. It leaves cleanly when told "leave" on
stdin.

Timeouts below are upper bounds on waiting, not speed assertions.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pystream.testing import EmbeddedBroker

ck = pytest.importorskip("confluent_kafka")
pytest.importorskip("kafka")
pytest.importorskip("aiokafka")
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

pytestmark = pytest.mark.integration

CLIENTS = ["confluent", "kafka-python", "aiokafka"]
PARTITIONS = 6

MEMBER_SCRIPT = r"""
import json, logging, os, sys, threading
if os.environ.get("MEMBER_DEBUG"):  # client logs to the member's stderr file
    logging.basicConfig(level=logging.DEBUG, format="%(relativeCreated)6d %(name)s %(message)s")
kind, bootstrap, group, topic, instance, session_ms, strategy = sys.argv[1:8]
instance = instance or None
session_ms = int(session_ms)
heartbeat_ms = max(100, min(1000, session_ms // 4))
stop = threading.Event()

def emit(**kw):
    sys.stdout.write(json.dumps(kw) + "\n")
    sys.stdout.flush()

def watch_stdin():
    for line in sys.stdin:
        if line.strip() == "leave":
            break
    stop.set()

threading.Thread(target=watch_stdin, daemon=True).start()

if kind == "confluent":
    from confluent_kafka import Consumer, KafkaException
    conf = {
        "bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
        "enable.auto.commit": False, "session.timeout.ms": session_ms,
        "heartbeat.interval.ms": heartbeat_ms, "partition.assignment.strategy": strategy,
    }
    if instance:
        conf["group.instance.id"] = instance
    c = Consumer(conf)
    # Reported from the poll loop: with cooperative rebalancing the callbacks
    # only see the partitions added or taken away.
    c.subscribe([topic])
    last = None
    while not stop.is_set():
        msgs = c.consume(100, 0.2)
        current = sorted(p.partition for p in c.assignment())
        if current != last:
            last = current
            emit(ev="assigned", parts=current)
        items = [[m.partition(), m.offset()] for m in msgs if not m.error()]
        if items:
            emit(ev="recs", items=items)
            try:
                c.commit(asynchronous=False)
            except KafkaException as e:
                emit(ev="commit_failed", error=str(e))
    c.close()
elif kind == "kafka-python":
    from kafka import ConsumerRebalanceListener, KafkaConsumer
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    c = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
        enable_auto_commit=False, session_timeout_ms=session_ms,
        heartbeat_interval_ms=heartbeat_ms, group_instance_id=instance,
        partition_assignment_strategy=[RangePartitionAssignor],
    )
    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            emit(ev="revoked")
        def on_partitions_assigned(self, assigned):
            emit(ev="assigned", parts=sorted(p.partition for p in assigned))
    c.subscribe([topic], listener=Listener())
    while not stop.is_set():
        batch = c.poll(timeout_ms=200, max_records=100)
        items = [[r.partition, r.offset] for recs in batch.values() for r in recs]
        if items:
            emit(ev="recs", items=items)
            try:
                c.commit()
            except Exception as e:
                emit(ev="commit_failed", error=repr(e))
    c.close()
else:
    import asyncio
    from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener
    async def main():
        c = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
            enable_auto_commit=False, session_timeout_ms=session_ms,
            heartbeat_interval_ms=heartbeat_ms, group_instance_id=instance,
        )
        class Listener(ConsumerRebalanceListener):
            async def on_partitions_revoked(self, revoked):
                emit(ev="revoked")
            async def on_partitions_assigned(self, assigned):
                emit(ev="assigned", parts=sorted(p.partition for p in assigned))
        await c.start()
        c.subscribe([topic], listener=Listener())
        while not stop.is_set():
            batch = await c.getmany(timeout_ms=200, max_records=100)
            items = [[r.partition, r.offset] for recs in batch.values() for r in recs]
            if items:
                emit(ev="recs", items=items)
                try:
                    await c.commit()
                except Exception as e:
                    emit(ev="commit_failed", error=repr(e))
        await c.stop()
    asyncio.run(main())
emit(ev="closed")
"""


class Member:
    """One consumer process in the group; `pump()` folds in what it reported."""

    def __init__(
        self,
        kind: str,
        bootstrap: str,
        group: str,
        topic: str,
        instance: str | None = None,
        session_ms: int = 6000,
        strategy: str = "range",
    ) -> None:
        self.log = tempfile.NamedTemporaryFile("w+", prefix="member-", suffix=".log")  # noqa: SIM115
        args = [kind, bootstrap, group, topic, instance or "", str(session_ms), strategy]
        self.proc = subprocess.Popen(
            [sys.executable, "-c", MEMBER_SCRIPT, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
        )
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.assignment: list[int] | None = None
        self.assignments_seen = 0
        self.records: list[tuple[int, int]] = []
        self.closed = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.events.put(json.loads(line))
            except ValueError:
                pass

    def pump(self) -> None:
        while True:
            try:
                ev = self.events.get_nowait()
            except queue.Empty:
                return
            if ev["ev"] == "assigned":
                self.assignment = ev["parts"]
                self.assignments_seen += 1
            elif ev["ev"] == "revoked":
                self.assignment = None
            elif ev["ev"] == "recs":
                self.records.extend((p, o) for p, o in ev["items"])
            elif ev["ev"] == "closed":
                self.closed = True

    def leave(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("leave\n")
        self.proc.stdin.flush()
        self.proc.wait(30)
        self.pump()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)

    def stderr(self) -> str:
        self.log.seek(0)
        return self.log.read()[-12000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        self.log.close()


def wait_until(members: list[Member], cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for m in members:
            m.pump()
        if cond():
            return
        time.sleep(0.05)
    details = "\n".join(
        f"member {i}: assignment={m.assignment} records={len(m.records)}\n{m.stderr()}"
        for i, m in enumerate(members)
    )
    pytest.fail(f"timed out waiting for {what}\n{details}")


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    # Shorter sessions than Kafka's 6 s minimum keep the timeout tests quick.
    # A short initial rebalance delay (Kafka's default is 3 s) lets members
    # started together join one generation instead of several back to back;
    # kafka-python 3.0's heartbeat loop occasionally stalls after such quick
    # successive rebalances (no heartbeat reaches the broker at all).
    b = EmbeddedBroker(
        data_dir=tmp_path / "data",
        config={
            "group.min.session.timeout.ms": 1000,
            "group.initial.rebalance.delay.ms": 300,
            "offsets.topic.num.partitions": 5,
        },
    )
    b.start()
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def members() -> Iterator[list[Member]]:
    started: list[Member] = []
    yield started
    for m in started:
        m.stop()


def make_topic(bootstrap: str, name: str, records_per_partition: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, num_partitions=PARTITIONS, replication_factor=1)])[
        name
    ].result(10)
    produce(bootstrap, name, records_per_partition)


def produce(bootstrap: str, topic: str, per_partition: int) -> None:
    producer = ck.Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i in range(per_partition):
        for p in range(PARTITIONS):
            producer.produce(topic, value=b"v%d" % i, partition=p)
    assert producer.flush(20) == 0


def assignments(ms: list[Member]) -> list[list[int] | None]:
    return [m.assignment for m in ms]


def covers_all(ms: list[Member], each: int) -> bool:
    parts = [m.assignment for m in ms]
    if any(p is None or len(p) != each for p in parts):
        return False
    return sorted(x for p in parts for x in p or []) == list(range(PARTITIONS))


def delivered(ms: list[Member]) -> list[tuple[int, int]]:
    return [r for m in ms for r in m.records]


@pytest.mark.parametrize(
    ("client", "strategy"),
    [(c, "range") for c in CLIENTS] + [("confluent", "cooperative-sticky")],
)
def test_three_members_share_and_a_clean_leave_hands_off(
    broker: EmbeddedBroker, members: list[Member], client: str, strategy: str
) -> None:
    topic, group = f"share-{client}-{strategy}", f"g-share-{client}-{strategy}"
    make_topic(broker.bootstrap, topic, 20)
    # A long session: the hand-off below can only come from the LeaveGroup.
    for _ in range(3):
        members.append(
            Member(client, broker.bootstrap, group, topic, session_ms=30000, strategy=strategy)
        )
    wait_until(members, lambda: covers_all(members, 2), 60, "two partitions each")
    wait_until(members, lambda: len(set(delivered(members))) == 20 * PARTITIONS, 30, "all records")
    leaver = members[0]
    leaver.leave()
    rest = members[1:]
    wait_until(rest, lambda: covers_all(rest, 3), 20, "the leaver's partitions handed over")
    produce(broker.bootstrap, topic, 10)
    wait_until(rest, lambda: len(set(delivered(members))) == 30 * PARTITIONS, 30, "new records")
    # Everything was committed as it was consumed: nothing is delivered twice.
    seen = delivered(members)
    assert len(seen) == len(set(seen)) == 30 * PARTITIONS


@pytest.mark.parametrize("client", CLIENTS)
def test_killed_member_loses_its_partitions_after_session_timeout(
    broker: EmbeddedBroker, members: list[Member], client: str
) -> None:
    topic, group = f"kill-{client}", f"g-kill-{client}"
    make_topic(broker.bootstrap, topic, 1)
    for _ in range(2):
        members.append(Member(client, broker.bootstrap, group, topic, session_ms=3000))
    wait_until(members, lambda: covers_all(members, 3), 60, "three partitions each")
    members[1].kill()
    survivor = members[:1]
    wait_until(survivor, lambda: covers_all(survivor, 6), 30, "the survivor takes over")


@pytest.mark.parametrize("client", CLIENTS)
def test_static_member_restart_keeps_partitions_without_rebalance(
    broker: EmbeddedBroker, members: list[Member], client: str
) -> None:
    topic, group = f"static-{client}", f"g-static-{client}"
    make_topic(broker.bootstrap, topic, 1)
    for name in ("a", "b"):
        members.append(
            Member(
                client,
                broker.bootstrap,
                group,
                topic,
                instance=f"{client}-{name}",
                session_ms=20000,
            )
        )
    wait_until(members, lambda: covers_all(members, 3), 60, "three partitions each")
    coordinator = broker.broker.services["group_coordinator"]  # type: ignore[union-attr]
    generation = coordinator.groups[group].generation_id
    before = members[1].assignment
    seen_by_other = members[0].assignments_seen
    members[1].kill()
    members.append(
        Member(client, broker.bootstrap, group, topic, instance=f"{client}-b", session_ms=20000)
    )
    back = members[2]
    wait_until(members, lambda: back.assignment is not None, 30, "the restarted member")
    assert back.assignment == before
    for m in members:
        m.pump()
    assert members[0].assignments_seen == seen_by_other
    assert coordinator.groups[group].generation_id == generation


@pytest.mark.parametrize("client", CLIENTS)
def test_committed_offsets_survive_a_broker_restart(
    broker: EmbeddedBroker, members: list[Member], client: str
) -> None:
    topic, group = f"restart-{client}", f"g-restart-{client}"
    make_topic(broker.bootstrap, topic, 10)
    members.append(Member(client, broker.bootstrap, group, topic))
    wait_until(members, lambda: len(set(delivered(members))) == 10 * PARTITIONS, 60, "records")
    members[0].leave()
    broker.restart()
    produce(broker.bootstrap, topic, 5)
    members.append(Member(client, broker.bootstrap, group, topic))
    again = members[1:]
    wait_until(again, lambda: len(again[0].records) >= 5 * PARTITIONS, 60, "records after restart")
    time.sleep(0.5)
    again[0].pump()
    # Only the records produced after the commit: it resumed where it left off.
    assert sorted(again[0].records) == [(p, o) for p in range(PARTITIONS) for o in range(10, 15)]


def test_member_script_is_valid_python() -> None:
    compile(MEMBER_SCRIPT, "<member>", "exec")
    assert os.path.basename(sys.executable)
