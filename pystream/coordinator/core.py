"""The coordinator's shared state and small helpers: groups, timers,
persistence and member validation. `rebalance.py`, `offsets.py` and
`coordinator.py` build the coordinator on top of it, one concern each.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from pystream.coordinator.compaction import Compactor
from pystream.coordinator.config import CoordinatorConfig
from pystream.coordinator.group import Group, GroupState
from pystream.coordinator.loader import group_value
from pystream.coordinator.records import group_record
from pystream.coordinator.results import CoordinatorError
from pystream.coordinator.store import CoordinatorStore, partition_for
from pystream.protocol.errors import ErrorCode

log = logging.getLogger(__name__)

S = GroupState
E = ErrorCode


def now_ms() -> int:
    return int(time.time() * 1000)


class CoordinatorState:
    """Groups by id and the timers of their rounds; not thread-safe (one event loop)."""

    def __init__(
        self,
        config: CoordinatorConfig,
        store: CoordinatorStore | Callable[[], CoordinatorStore],
        run_blocking: Callable[..., Awaitable[Any]] | None = None,
        prepare: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """`store` may be a factory, called at start (the broker's topics exist by then);
        `prepare` runs first at start (the broker creates the offsets topic there)."""
        self.config = config
        self._store_or_factory = store
        self._run_blocking = run_blocking
        self._prepare = prepare
        self.groups: dict[str, Group] = {}
        self.loaded = False
        self._join_timers: dict[str, asyncio.TimerHandle] = {}
        self._sync_timers: dict[str, asyncio.TimerHandle] = {}
        # Groups whose join round is in the initial delay (which always runs out).
        self._initial_delay: set[str] = set()
        self._expiry_task: asyncio.Task[None] | None = None
        self._loading: asyncio.Task[None] | None = None
        self._event_loop: asyncio.AbstractEventLoop | None = None
        self._compactor: Compactor | None = None

    @property
    def store(self) -> CoordinatorStore:
        store = self._store_or_factory
        if callable(store) and not hasattr(store, "append"):
            store = self._store_or_factory = store()
        return store  # type: ignore[return-value]

    @property
    def compactor(self) -> Compactor:
        if self._compactor is None:
            cfg = self.config
            self._compactor = Compactor(
                self.store, cfg.compaction_min_records, cfg.compaction_min_ratio
            )
        return self._compactor

    # ---- persistence ----
    def _persist_group(self, group: Group) -> None:
        self._append(group.group_id, [group_record(group.group_id, group_value(group))])

    def _append(self, group_id: str, records: list[tuple[bytes, bytes | None]]) -> None:
        partition = partition_for(group_id, self.store.num_partitions)
        self.store.append(partition, records)
        self.compactor.maybe_start(partition, records)

    # ---- timers ----
    def _loop(self) -> asyncio.AbstractEventLoop:
        # The loop the coordinator was started on: every call comes from it.
        return self._event_loop or asyncio.get_running_loop()

    def _cancel_join_timer(self, group: Group) -> None:
        handle = self._join_timers.pop(group.group_id, None)
        if handle is not None:
            handle.cancel()
        self._initial_delay.discard(group.group_id)

    def _cancel_sync_timer(self, group: Group) -> None:
        handle = self._sync_timers.pop(group.group_id, None)
        if handle is not None:
            handle.cancel()

    # ---- validation ----
    def _check_loaded(self) -> None:
        if not self.loaded:
            raise CoordinatorError(E.COORDINATOR_LOAD_IN_PROGRESS)

    def validate_member(self, group: Group, member_id: str, instance_id: str | None) -> None:
        """Kafka's ClassicGroup.validateMember."""
        if instance_id is not None:
            existing = group.static_member_id(instance_id)
            if existing is None:
                raise CoordinatorError(E.UNKNOWN_MEMBER_ID)
            if existing != member_id:
                raise CoordinatorError(E.FENCED_INSTANCE_ID)
        elif not group.has(member_id):
            raise CoordinatorError(E.UNKNOWN_MEMBER_ID)
