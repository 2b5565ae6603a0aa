"""Produce appends: large ones on the loop or a worker thread, always one at a time per partition."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from pystream.record import build_batch, iter_records
from pystream.server import partition as partition_module
from pystream.server.config import BrokerConfig
from pystream.server.partition import OFFLOOP_APPEND_BYTES
from pystream.server.topics import TopicRegistry
from pystream.server.write_placement import WritePlacement


def _batch(tag: int, n: int, size: int, **kw: int) -> memoryview:
    value = bytes([65 + tag]) * size
    return memoryview(bytearray(build_batch([(None, value, 1000 + i) for i in range(n)], **kw)))


def test_concurrent_large_and_small_appends_get_consecutive_offsets(tmp_path: Path) -> None:
    registry = TopicRegistry.open(BrokerConfig({"log.dirs": str(tmp_path)}))
    partition = registry.create("t", 1).partitions[0]
    batches = [_batch(i, 40 if i % 2 == 0 else 2, 4000) for i in range(6)]
    assert len(batches[0]) >= OFFLOOP_APPEND_BYTES > len(batches[1])

    async def scenario() -> list[int]:
        results = await asyncio.gather(*(partition.append_async(b) for b in batches))
        assert all(r.error == 0 for r in results)
        return [r.base_offset for r in results]

    bases = asyncio.run(scenario())
    sizes = [40 if i % 2 == 0 else 2 for i in range(6)]
    # gather starts them in order; each waits for the one before on this partition.
    assert bases == [sum(sizes[:i]) for i in range(6)]
    data = partition.log.read_bytes(0, 1 << 24)
    values = [r.value[:1] for r in iter_records(data) if r.value is not None]
    assert values == [bytes([65 + i]) for i, n in enumerate(sizes) for _ in range(n)]
    registry.close()


def test_a_retried_idempotent_batch_is_answered_with_its_first_offsets(tmp_path: Path) -> None:
    registry = TopicRegistry.open(BrokerConfig({"log.dirs": str(tmp_path)}))
    partition = registry.create("t", 1).partitions[0]
    kw = {"producer_id": 7, "producer_epoch": 0, "base_sequence": 0}
    first, retry = _batch(0, 40, 4000, **kw), _batch(0, 40, 4000, **kw)

    async def scenario() -> tuple[int, int]:
        a, b = await asyncio.gather(partition.append_async(first), partition.append_async(retry))
        assert a.error == 0 and b.error == 0
        return a.base_offset, b.base_offset

    assert asyncio.run(scenario()) == (0, 0)
    assert partition.log_end_offset == 40
    registry.close()


def test_large_writes_move_off_the_loop_after_a_slow_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [0.0]
    # A slow write is reported by hand below; real writes never take a second here.
    placement = WritePlacement(slow_s=1.0, calm_s=2.0, clock=lambda: now[0])
    monkeypatch.setattr(partition_module, "WRITE_PLACEMENT", placement)
    registry = TopicRegistry.open(BrokerConfig({"log.dirs": str(tmp_path)}))
    partition = registry.create("t", 1).partitions[0]
    threads: list[int] = []
    write = partition._write

    def traced_write(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return write(*args, **kwargs)

    monkeypatch.setattr(partition, "_write", traced_write)

    async def scenario() -> list[int]:
        loop_thread = threading.get_ident()
        first = await partition.append_async(_batch(0, 40, 4000))
        placement.record(1.5)  # e.g. the kernel started throttling writeback
        second = await partition.append_async(_batch(1, 40, 4000))
        now[0] += 3.0  # calm again
        third = await partition.append_async(_batch(2, 40, 4000))
        assert [t == loop_thread for t in threads] == [True, False, True]
        return [r.base_offset for r in (first, second, third)]

    assert asyncio.run(scenario()) == [0, 40, 80]
    data = partition.log.read_bytes(0, 1 << 24)
    values = [r.value[:1] for r in iter_records(data) if r.value is not None]
    assert values == [b"A"] * 40 + [b"B"] * 40 + [b"C"] * 40
    registry.close()
