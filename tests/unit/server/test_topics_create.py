"""Topic creation off the event loop: the name is reserved until the topic appears."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from pystream.protocol.errors import ErrorCode
from pystream.server.config import BrokerConfig
from pystream.server.topics import TopicError, TopicRegistry


def test_concurrent_creates_of_one_name_one_wins(tmp_path: Path) -> None:
    registry = TopicRegistry.open(BrokerConfig({"log.dirs": str(tmp_path)}))
    gate = threading.Event()

    async def run_blocking(fn: Any, *args: Any) -> Any:
        def slow() -> Any:
            gate.wait(5)  # hold the first create in its worker thread
            return fn(*args)

        return await asyncio.get_running_loop().run_in_executor(None, slow)

    async def scenario() -> None:
        first = asyncio.ensure_future(registry.create_async("t", 3, None, run_blocking))
        await asyncio.sleep(0.01)
        assert registry.get("t") is None  # not visible while its files are being made
        with pytest.raises(TopicError) as err:
            await registry.create_async("t", 3, None, run_blocking)
        assert err.value.code == ErrorCode.TOPIC_ALREADY_EXISTS
        gate.set()
        topic = await first
        assert registry.get("t") is topic and len(topic.partitions) == 3

    asyncio.run(scenario())
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("t-")) == [
        "t-0",
        "t-1",
        "t-2",
    ]
    registry.close()


def test_a_failed_create_releases_the_name(tmp_path: Path) -> None:
    registry = TopicRegistry.open(BrokerConfig({"log.dirs": str(tmp_path)}))

    async def run_blocking(fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    async def scenario() -> None:
        with pytest.raises(TopicError) as err:
            await registry.create_async("t", 1, {"segment.bytes": "nope"}, run_blocking)
        assert err.value.code == ErrorCode.INVALID_CONFIG
        topic = await registry.create_async("t", 1, None, run_blocking)
        assert registry.get("t") is topic

    asyncio.run(scenario())
    registry.close()
