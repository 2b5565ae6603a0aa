"""A worker's membership in the query's consumer group (Kafka sources on workers).

Every worker of a query joins one classic consumer group, subscribed to the topics of the
query's Kafka sources, as a *static* member (`group.instance.id` =
`pystream-<query id>-worker-<index>`). The group's leader assigns partitions with Kafka's
range assignor, which orders static members by instance id, so worker i gets the i-th
contiguous range of each topic. A background task on the worker's own event loop keeps the
membership alive: it heartbeats, and when the coordinator announces a rebalance it rejoins
by itself (refreshing the topics' metadata first, so a leader sees new partitions), the
way a Kafka consumer rejoins inside `poll`.

Static membership is what makes a killed worker cheap: its replacement joins with the same
instance id, the coordinator hands it the dead incarnation's place and assignment without a
rebalance, and the old incarnation is fenced (its generation and member id no longer commit).
A clean stop sends LeaveGroup for the instance, so the group is empty at once.

The group does not decide offsets: see `assignment` for how the driver reconciles the
group's assignment with the checkpoint's offset ranges.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from pystream.client.cluster import Cluster
from pystream.client.group import GroupMember, find_coordinator
from pystream.protocol.api import ApiKey
from pystream.protocol.messages.leave_group import LeaveGroupRequest
from pystream.streams.aio import EventLoopThread

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GroupSpec:
    """What every worker needs to join the query's group (inherited through fork)."""

    bootstrap: str | tuple[str, ...]
    group_id: str
    topics: tuple[tuple[str, str], ...]  # (source name, topic)
    instance_prefix: str
    commit: bool  # commit processed offsets (only for a group id the user chose)
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 500
    rebalance_timeout_ms: int = 30_000

    def instance_id(self, index: int) -> str:
        return f"{self.instance_prefix}-worker-{index:04d}"

    @property
    def topic_of(self) -> dict[str, str]:
        return dict(self.topics)


@dataclass(frozen=True)
class MemberState:
    """One worker's view of the group after a completed join."""

    generation: int
    member_id: str
    instance_id: str
    partitions: dict[str, list[int]]  # topic -> partitions


class WorkerMembership:
    """Joins lazily, on the first `current()`; call `close()` before the worker exits."""

    def __init__(self, spec: GroupSpec, index: int) -> None:
        self.spec, self.index = spec, index
        self._io = EventLoopThread(f"group-member-{index}")
        self._cluster: Cluster | None = None
        self._member: GroupMember | None = None
        self._task: asyncio.Task[None] | None = None
        self._stable: asyncio.Event | None = None
        self._state: MemberState | None = None
        self.last_error: str | None = None

    def _run(self, coro: object, timeout: float | None = None) -> object:
        return self._io.run(coro, timeout)  # type: ignore[arg-type]

    async def _start(self) -> None:
        if self._task is not None:
            return
        bootstrap = self.spec.bootstrap
        self._cluster = Cluster(list(bootstrap) if isinstance(bootstrap, tuple) else bootstrap)
        self._member = GroupMember(
            self._cluster,
            self.spec.group_id,
            sorted({t for _, t in self.spec.topics}),
            session_timeout_ms=self.spec.session_timeout_ms,
            rebalance_timeout_ms=self.spec.rebalance_timeout_ms,
            heartbeat_interval_ms=self.spec.heartbeat_interval_ms,
            group_instance_id=self.spec.instance_id(self.index),
        )
        self._stable = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._supervise())

    async def _supervise(self) -> None:
        member, cluster, stable = self._member, self._cluster, self._stable
        assert member is not None and cluster is not None and stable is not None
        while True:
            stable.clear()
            try:
                await cluster.refresh(sorted(member.topics))
                await member.join()
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the driver reports it if the group never settles
                self.last_error = f"{type(e).__name__}: {e}"
                log.warning(
                    "worker %d: joining group %r failed: %s", self.index, member.group_id, e
                )
                await asyncio.sleep(0.2)
                continue
            self.last_error = None
            self._state = MemberState(
                member.generation_id,
                member.member_id,
                self.spec.instance_id(self.index),
                {t: sorted(ps) for t, ps in member.assignment.items()},
            )
            stable.set()
            while not member.rebalance_needed:
                await asyncio.sleep(0.02)

    def current(self, timeout: float) -> MemberState | None:
        """The assignment of the last completed join, or None while (re)joining."""

        async def wait() -> MemberState | None:
            await self._start()
            assert self._stable is not None and self._member is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stable.wait(), timeout)
            if not self._stable.is_set() or self._member.rebalance_needed:
                return None
            return self._state

        state = self._run(wait())
        assert state is None or isinstance(state, MemberState)
        return state

    def rejoin(self) -> None:
        """Rejoin now (a leader's rejoin makes the coordinator rebalance the whole group)."""

        async def flag() -> None:
            await self._start()
            assert self._member is not None
            self._member.rebalance_needed = True

        self._run(flag())

    def commit(self, offsets: dict[str, dict[int, int]]) -> int:
        """Commit the offsets of the partitions this member owns now; returns how many."""
        state, member = self._state, self._member
        if not self.spec.commit or state is None or member is None:
            return 0
        mine = {
            (topic, p): off
            for name, topic in self.spec.topics
            for p, off in offsets.get(name, {}).items()
            if p in state.partitions.get(topic, [])
        }
        if not mine:
            return 0
        try:
            self._run(member.commit(mine), 30)
        except Exception as e:  # informational: the checkpoint holds the real offsets
            log.warning(
                "worker %d: committing to group %r failed: %s", self.index, member.group_id, e
            )
            return 0
        return len(mine)

    def close(self) -> None:
        """Leave the group (a static member has to name its instance) and stop the loop."""

        async def leave() -> None:
            if self._task is None:
                return
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            member, cluster = self._member, self._cluster
            assert member is not None and cluster is not None
            await member.close()
            if member.member_id:
                with contextlib.suppress(Exception):
                    conn = await find_coordinator(cluster, member.group_id)
                    if conn.version_for(ApiKey.LEAVE_GROUP) >= 3:
                        who = LeaveGroupRequest.MemberIdentity(
                            member_id=member.member_id,
                            group_instance_id=member.group_instance_id,
                        )
                        await conn.request(
                            LeaveGroupRequest(group_id=member.group_id, members=[who])
                        )
            await cluster.close()

        try:
            self._run(leave(), 10)
        except Exception:
            log.debug("worker %d: leaving the group failed", self.index, exc_info=True)
        self._io.close()
