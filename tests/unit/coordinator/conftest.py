"""Helpers for driving a GroupCoordinator in unit tests (in-memory store)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pystream.coordinator.config import CoordinatorConfig
from pystream.coordinator.coordinator import GroupCoordinator
from pystream.coordinator.results import JoinParams, JoinResult
from pystream.coordinator.store import MemoryStore
from pystream.protocol.errors import ErrorCode

# Short timeouts keep the session/rebalance timer tests quick; no test
# asserts how long anything took.
CONFIG = CoordinatorConfig(
    min_session_timeout_ms=1,
    initial_rebalance_delay_ms=0,
    offsets_partitions=4,
    offsets_retention_check_interval_ms=3_600_000,
)


def params(
    member_id: str = "",
    group_id: str = "g",
    protocols: list[tuple[str, bytes]] | None = None,
    session_ms: int = 10_000,
    rebalance_ms: int = 10_000,
    instance: str | None = None,
    protocol_type: str = "consumer",
    client_id: str = "client",
) -> JoinParams:
    return JoinParams(
        group_id=group_id,
        member_id=member_id,
        group_instance_id=instance,
        client_id=client_id,
        client_host="/127.0.0.1",
        session_timeout_ms=session_ms,
        rebalance_timeout_ms=rebalance_ms,
        protocol_type=protocol_type,
        protocols=protocols if protocols is not None else [("range", b"meta")],
    )


async def join(coord: GroupCoordinator, **kw: Any) -> JoinResult:
    """A new member's JoinGroup, with the MEMBER_ID_REQUIRED round trip of v4+."""
    first = await coord.join_group(params(**kw))
    if first.error != ErrorCode.MEMBER_ID_REQUIRED:
        return first
    kw["member_id"] = first.member_id
    return await coord.join_group(params(**kw))


def make_coordinator(
    store: MemoryStore | None = None, **config: Any
) -> tuple[GroupCoordinator, MemoryStore]:
    from dataclasses import replace

    store = store or MemoryStore(CONFIG.offsets_partitions)
    return GroupCoordinator(replace(CONFIG, **config), store), store


@pytest.fixture
def run() -> Callable[[Callable[[], Awaitable[Any]]], Any]:
    """Runs an async test body on a fresh event loop."""

    def runner(body: Callable[[], Awaitable[Any]]) -> Any:
        return asyncio.run(asyncio.wait_for(body(), 30))

    return runner


@pytest.fixture
def kit() -> Any:
    """The helpers above, for test modules (which cannot import conftest)."""
    from types import SimpleNamespace

    return SimpleNamespace(params=params, join=join, make=make_coordinator, config=CONFIG)
