"""`__consumer_offsets` on the real log: compaction keeps it short while
offsets are committed over and over, and a restart loads exactly the
latest committed offsets."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from pystream.coordinator.results import CommitRequestPartition
from pystream.coordinator.service import group_coordinator
from pystream.testing import EmbeddedBroker

pytestmark = pytest.mark.integration

GROUPS, PARTITIONS, ROUNDS = 10, 100, 30


def on_loop(broker: EmbeddedBroker, coro: Any) -> Any:
    assert broker._loop is not None
    return asyncio.run_coroutine_threadsafe(coro, broker._loop).result(120)


async def commit_rounds(broker: EmbeddedBroker) -> dict[str, dict[tuple[str, int], int]]:
    b = broker.broker
    assert b is not None and b.topics is not None
    b.topics.create("t", PARTITIONS)
    coordinator = group_coordinator(b)
    await coordinator.start()
    for r in range(ROUNDS):
        for g in range(GROUPS):
            parts = [CommitRequestPartition("t", p, r * 1000 + p) for p in range(PARTITIONS)]
            assert set(coordinator.commit_offsets(f"g{g}", -1, "", None, parts)) == {0}
        await asyncio.sleep(0)
    await coordinator.compactor.wait_idle()  # the compactions the commits made due
    return {
        gid: {tp: om.offset for tp, om in g.offsets.items()}
        for gid, g in coordinator.groups.items()
    }


async def loaded(broker: EmbeddedBroker) -> tuple[dict[str, dict[tuple[str, int], int]], int]:
    b = broker.broker
    assert b is not None and b.topics is not None
    part = b.topics.partition("__consumer_offsets", 0)
    assert part is not None
    span = part.log_end_offset - part.log_start_offset
    coordinator = group_coordinator(b)
    await coordinator.start()
    offsets = {
        gid: {tp: om.offset for tp, om in g.offsets.items()}
        for gid, g in coordinator.groups.items()
    }
    return offsets, span


def test_compaction_bounds_the_offsets_log(tmp_path: Path) -> None:
    broker = EmbeddedBroker(data_dir=tmp_path / "data", config={"offsets.topic.num.partitions": 1})
    broker.start()
    try:
        committed = on_loop(broker, commit_rounds(broker))
        broker.restart()
        offsets, span = on_loop(broker, loaded(broker))
        assert offsets == committed
        assert all(
            o == (ROUNDS - 1) * 1000 + p for g in offsets.values() for (_, p), o in g.items()
        )
        # 30,000 commits of 1,000 keys: what is left is bounded by the live keys
        # and the compaction threshold (10,000 records), not by the history.
        assert span <= 10_000 + 2 * GROUPS * PARTITIONS
    finally:
        broker.close()
