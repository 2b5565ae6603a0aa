"""Worker processes over a real broker: topic partitions shared through a consumer group,
a worker killed mid-stream, windowed joins and deduplication on workers."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pystream.client import Admin, Cluster, Producer
from pystream.client.group import GroupAdmin, GroupInfo
from pystream.streams import (
    FileSink,
    JsonFormat,
    KafkaSource,
    MemorySink,
    MicroBatch,
    Stream,
    Trigger,
)
from pystream.streams import functions as F
from pystream.testing import EmbeddedBroker

pytestmark = pytest.mark.integration

CLICK = {"user": "int64", "page": "int64"}


def click(i: int) -> tuple[bytes, bytes, int]:
    """Click i: key, JSON value, event time (20 ms apart, up to 1 s out of order)."""
    ts = 1_000_000 + i * 20 - (i * 7919 % 1000)
    return str(i % 23).encode(), json.dumps({"user": i % 23, "page": i * 31 % 7}).encode(), ts


def order(i: int) -> tuple[bytes, bytes, int]:
    ts = 1_000_000 + i * 45 - (i * 104_729 % 800)
    return str(i % 19).encode(), json.dumps({"user": i % 19, "amount": i % 50}).encode(), ts


async def _produce(
    bootstrap: str, topic: str, partitions: int, make: Callable[[int], Any], n: int
) -> None:
    cluster = Cluster(bootstrap)
    await Admin(cluster).create_topic(topic, partitions, 1)
    producer = Producer(cluster, linger_ms=2)
    for i in range(n):
        key, value, ts = make(i)
        await producer.send(topic, value, key=key, timestamp=ts)
    await producer.close()
    await cluster.close()


def produce(broker: EmbeddedBroker, topic: str, partitions: int, make: Any, n: int) -> None:
    asyncio.run(_produce(broker.bootstrap, topic, partitions, make, n))


def group_admin(broker: EmbeddedBroker, call: Callable[[GroupAdmin], Any]) -> Any:
    async def go() -> Any:
        cluster = Cluster(broker.bootstrap)
        try:
            return await call(GroupAdmin(cluster))
        finally:
            await cluster.close()

    return asyncio.run(go())


def record_reads(log: Path) -> Callable[[MicroBatch], MicroBatch]:
    """A batch function noting which process read which (partition, offset)."""

    def fn(batch: MicroBatch) -> MicroBatch:
        if batch.num_rows:
            entry = {
                "pid": os.getpid(),
                "reads": list(
                    zip(
                        np.asarray(batch["partition"]).tolist(),
                        np.asarray(batch["offset"]).tolist(),
                        strict=True,
                    )
                ),
            }
            with open(log, "a") as f:  # one small write per batch: appends do not interleave
                f.write(json.dumps(entry) + "\n")
        return batch

    return fn


def clicks_per_user(source: KafkaSource, before: Callable[[MicroBatch], MicroBatch]) -> Stream:
    return (
        Stream.from_source(source)
        .map_batches(before)
        .decode(JsonFormat(CLICK), keep=["timestamp"])
        .with_watermark("timestamp", "2 seconds")
        .group_by(F.window("timestamp", "5 seconds"), "user")
        .agg(F.count().alias("clicks"), F.sum("page").alias("pages"))
    )


def test_workers_share_partitions_through_the_group(
    pystream_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    produce(pystream_broker, "clicks", 6, click, 3_000)
    log = tmp_path / "reads.jsonl"
    seen: list[GroupInfo] = []

    def during(batch: MicroBatch, batch_id: int) -> None:  # runs in the driver, mid-query
        if not seen:
            seen.append(group_admin(pystream_broker, lambda a: a.describe_group("clicks-job")))

    source = KafkaSource(
        pystream_broker.bootstrap, "clicks", max_records_per_trigger=500, group_id="clicks-job"
    )
    clicks_per_user(source, record_reads(log)).write_stream.output_mode("append").trigger(
        Trigger.available_now()
    ).workers(3).checkpoint(tmp_path / "cp").foreach_batch(during).run()

    entries = [json.loads(line) for line in log.read_text().splitlines()]
    reads = [tuple(r) for e in entries for r in e["reads"]]
    assert len(reads) == len(set(reads)) == 3_000  # every record read exactly once
    readers: dict[int, set[int]] = {}
    for e in entries:
        for p, _ in e["reads"]:
            readers.setdefault(p, set()).add(e["pid"])
    assert sorted(readers) == list(range(6))
    assert all(len(pids) == 1 for pids in readers.values())  # one reader per partition
    assert len(set().union(*readers.values())) == 3  # and every worker had its share
    assert os.getpid() not in set().union(*readers.values())  # the driver read nothing

    info = seen[0]  # the group as the workers hold it: 3 static members, range-assigned
    assert info.state == "Stable" and len(info.members) == 3
    members = sorted(info.members, key=lambda m: m.group_instance_id or "")
    assert [m.assignment for m in members] == [
        {"clicks": [0, 1]},
        {"clicks": [2, 3]},
        {"clicks": [4, 5]},
    ]
    # after the query: the group is empty, and its offsets are the topic's end (no lag)
    after = group_admin(pystream_broker, lambda a: a.describe_group("clicks-job"))
    assert after.state == "Empty"
    committed = group_admin(pystream_broker, lambda a: a.fetch_offsets("clicks-job"))
    assert committed == {("clicks", p): off for p, off in source.latest_offsets().items()}


def test_a_killed_worker_gives_the_output_of_a_run_without_failure(
    pystream_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    produce(pystream_broker, "clicks", 4, click, 2_400)
    driver = os.getpid()
    marker = tmp_path / "killed"

    def kill_in_worker(batch: MicroBatch) -> MicroBatch:
        # the worker reading partition 3 dies once that partition is past offset 300
        partitions = np.asarray(batch["partition"])
        offsets = np.asarray(batch["offset"])
        if os.getpid() != driver and bool((offsets[partitions == 3] >= 300).any()):
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                return batch
            os.kill(os.getpid(), signal.SIGKILL)
        return batch

    def run(before: Callable[[MicroBatch], MicroBatch], name: str) -> list[str]:
        source = KafkaSource(pystream_broker.bootstrap, "clicks", max_records_per_trigger=600)
        clicks_per_user(source, before).write_stream.output_mode("append").trigger(
            Trigger.available_now()
        ).workers(2).checkpoint(tmp_path / f"cp-{name}").sink(FileSink(tmp_path / name)).run()
        files = sorted((tmp_path / name).iterdir())
        return [line for f in files for line in sorted(f.read_text().splitlines())]

    clean = run(lambda b: b, "clean")
    killed = run(kill_in_worker, "killed")
    assert marker.exists()
    assert clean and killed == clean
    assert len({json.loads(line)["window_start"] for line in clean}) > 3


def test_windowed_join_and_dedup_on_workers(
    pystream_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    produce(pystream_broker, "clicks", 3, click, 1_500)
    produce(pystream_broker, "orders", 2, order, 700)

    def query(kind: str) -> Stream:
        clicks = (
            Stream.from_source(
                KafkaSource(pystream_broker.bootstrap, "clicks", max_records_per_trigger=400)
            )
            .decode(JsonFormat(CLICK), keep=["timestamp"])
            .with_watermark("timestamp", "1 hour")
        )
        if kind == "dedup":
            return clicks.drop_duplicates(["user", "page"])
        orders = (
            Stream.from_source(
                KafkaSource(pystream_broker.bootstrap, "orders", max_records_per_trigger=300)
            )
            .decode(JsonFormat({"user": "int64", "amount": "int64"}), keep=["timestamp"])
            .with_watermark("timestamp", "1 hour")
        )
        return clicks.join(orders, on="user", window=F.window("timestamp", "10 seconds"))

    def run(kind: str, workers: int) -> list[tuple[Any, ...]]:
        sink = MemorySink()
        query(kind).write_stream.output_mode("append").trigger(Trigger.available_now()).workers(
            workers
        ).checkpoint(tmp_path / f"{kind}{workers}").sink(sink).run()
        return sorted(tuple(r.values()) for r in sink.rows())

    join_one, join_two = run("join", 1), run("join", 2)
    assert join_one and join_one == join_two
    want: Counter[tuple[Any, ...]] = Counter()
    by_window: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for j in range(700):
        o, oj = json.loads(order(j)[1]), order(j)[2]
        by_window.setdefault((oj // 10_000, o["user"]), []).append((oj, o["amount"]))
    for i in range(1_500):
        c, ci = json.loads(click(i)[1]), click(i)[2]
        w = ci // 10_000
        for oj, amount in by_window.get((w, c["user"]), []):
            want[(w * 10_000, w * 10_000 + 10_000, ci, c["user"], c["page"], oj, amount)] += 1
    assert Counter(join_two) == want

    dedup_one, dedup_two = run("dedup", 1), run("dedup", 2)
    assert dedup_one == dedup_two
    pairs = {
        (json.loads(click(i)[1])["user"], json.loads(click(i)[1])["page"]) for i in range(1_500)
    }
    assert sorted((r[1], r[2]) for r in dedup_two) == sorted(pairs)


def test_a_rebalance_mid_stream_moves_no_offset(
    pystream_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """Another consumer joins the query's group between batches and leaves again: the group
    rebalances twice, the driver waits for an assignment covering the batch, and every
    record is still read exactly once."""
    from pystream.client.group import GroupMember

    produce(pystream_broker, "clicks", 4, click, 2_000)
    log = tmp_path / "reads.jsonl"
    taken: list[dict[str, list[int]]] = []

    async def intrude() -> None:
        cluster = Cluster(pystream_broker.bootstrap)
        member = GroupMember(cluster, "clicks-job", ["clicks"], heartbeat_interval_ms=200)
        taken.append(await member.join())
        await member.leave()
        await cluster.close()

    def during(batch: MicroBatch, batch_id: int) -> None:
        if batch_id == 1:
            asyncio.run(intrude())

    source = KafkaSource(
        pystream_broker.bootstrap, "clicks", max_records_per_trigger=400, group_id="clicks-job"
    )
    clicks_per_user(source, record_reads(log)).write_stream.output_mode("append").trigger(
        Trigger.available_now()
    ).workers(2).checkpoint(tmp_path / "cp").foreach_batch(during).run()
    assert taken and taken[0]  # the intruder did get partitions for a while
    reads = [tuple(r) for line in log.read_text().splitlines() for r in json.loads(line)["reads"]]
    assert len(reads) == len(set(reads)) == 2_000
    committed = group_admin(pystream_broker, lambda a: a.fetch_offsets("clicks-job"))
    assert committed == {("clicks", p): off for p, off in source.latest_offsets().items()}


QUERY_SCRIPT = """
import os, signal, sys
import numpy as np
from pystream.streams import FileSink, JsonFormat, KafkaSource, Stream, Trigger
from pystream.streams import functions as F

bootstrap, out, cp, kill = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "kill"
driver = os.getpid()

def maybe_kill_driver(batch):
    # from a worker, mid-batch: SIGKILL the driver once partition 1 is past offset 400
    parts, offs = np.asarray(batch["partition"]), np.asarray(batch["offset"])
    if kill and os.getpid() != driver and bool((offs[parts == 1] >= 400).any()):
        os.kill(driver, signal.SIGKILL)
    return batch

source = KafkaSource(bootstrap, "clicks", max_records_per_trigger=500, group_id="job")
(
    Stream.from_source(source)
    .map_batches(maybe_kill_driver)
    .decode(JsonFormat({"user": "int64", "page": "int64"}), keep=["timestamp"])
    .with_watermark("timestamp", "2 seconds")
    .group_by(F.window("timestamp", "5 seconds"), "user")
    .agg(F.count().alias("clicks"))
    .write_stream.output_mode("append").trigger(Trigger.available_now())
    .workers(2).checkpoint(cp).sink(FileSink(out)).run()
)
"""


def test_the_whole_query_killed_and_restarted(
    pystream_broker: EmbeddedBroker, tmp_path: Path
) -> None:
    """The driver is SIGKILLed mid-batch (its workers exit when its pipe closes); the query
    restarted from its checkpoint rejoins the group and writes what a clean run writes."""
    import subprocess
    import sys

    produce(pystream_broker, "clicks", 3, click, 2_400)
    script = tmp_path / "query.py"
    script.write_text(QUERY_SCRIPT)

    def run(name: str, kill: bool) -> int:
        args = [sys.executable, str(script), pystream_broker.bootstrap]
        args += [str(tmp_path / name), str(tmp_path / f"cp-{name}"), "kill" if kill else "-"]
        return subprocess.run(args, timeout=120, check=False).returncode

    def output(name: str) -> list[str]:
        files = sorted((tmp_path / name).iterdir())
        return [line for f in files for line in sorted(f.read_text().splitlines())]

    assert run("clean", kill=False) == 0
    assert run("out", kill=True) == -signal.SIGKILL
    assert output("out") != output("clean")  # it died before the end
    assert run("out", kill=False) == 0  # restarted: resumes from the checkpoint
    assert output("clean") and output("out") == output("clean")
