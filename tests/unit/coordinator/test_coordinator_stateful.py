"""Random sequences of joins, rejoins, syncs, heartbeats, commits and leaves
against one group (hypothesis stateful testing), checking after each step
that the coordinator keeps Kafka's invariants, and at the end that no
request is left waiting once every member has left."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from pystream.coordinator.config import CoordinatorConfig
from pystream.coordinator.coordinator import GroupCoordinator
from pystream.coordinator.group import GroupState
from pystream.coordinator.results import CommitRequestPartition, JoinParams, JoinResult
from pystream.coordinator.store import MemoryStore
from pystream.protocol.errors import ErrorCode

E = ErrorCode
S = GroupState
# Long timeouts: no session or rebalance timer fires during a run, so every
# transition comes from the rules (timers have their own tests).
CONFIG = CoordinatorConfig(
    min_session_timeout_ms=1, initial_rebalance_delay_ms=0, offsets_partitions=2
)


class GroupMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.coord = GroupCoordinator(replace(CONFIG), MemoryStore(2))
        self.loop.run_until_complete(self.coord.start())
        self.known: list[str] = []  # member ids that have joined at some point
        self.joins: list[asyncio.Task[JoinResult]] = []
        self.syncs: list[asyncio.Task[Any]] = []
        self.results: list[JoinResult] = []
        self.counter = 0

    def drain(self) -> None:
        for _ in range(5):
            self.loop.run_until_complete(asyncio.sleep(0))
        for t in self.joins:
            if t.done() and t.result() not in self.results:
                self.results.append(t.result())

    def params(self, member_id: str, meta: bytes = b"m") -> JoinParams:
        return JoinParams(
            group_id="g",
            member_id=member_id,
            group_instance_id=None,
            client_id="c",
            client_host="/h",
            session_timeout_ms=600_000,
            rebalance_timeout_ms=600_000,
            protocol_type="consumer",
            protocols=[("range", meta)],
        )

    @property
    def group(self) -> Any:
        return self.coord.groups.get("g")

    def members(self) -> list[str]:
        return list(self.group.members) if self.group is not None else []

    @rule()
    def join_new(self) -> None:
        self.counter += 1

        async def two_step() -> JoinResult:
            first = await self.coord.join_group(self.params(""))
            if first.error != E.MEMBER_ID_REQUIRED:
                return first
            self.known.append(first.member_id)
            return await self.coord.join_group(self.params(first.member_id))

        self.joins.append(self.loop.create_task(two_step()))
        self.drain()

    @precondition(lambda self: bool(self.members()))
    @rule(data=st.data(), changed=st.booleans())
    def rejoin(self, data: st.DataObject, changed: bool) -> None:
        member = data.draw(st.sampled_from(self.members()))
        meta = b"changed-%d" % self.counter if changed else self.group.get(member).protocols[0][1]
        self.counter += 1
        self.joins.append(self.loop.create_task(self.coord.join_group(self.params(member, meta))))
        self.drain()

    @precondition(lambda self: bool(self.members()))
    @rule(data=st.data())
    def sync(self, data: st.DataObject) -> None:
        member = data.draw(st.sampled_from(self.members()))
        group = self.group
        assignments = {m: m.encode() for m in group.members} if group.is_leader(member) else {}
        self.syncs.append(
            self.loop.create_task(
                self.coord.sync_group(
                    "g", group.generation_id, member, None, None, None, assignments
                )
            )
        )
        self.drain()

    @precondition(lambda self: bool(self.members()))
    @rule(data=st.data())
    def leave(self, data: st.DataObject) -> None:
        member = data.draw(st.sampled_from(self.members()))
        assert self.coord.leave_group("g", [(member, None)]) == (E.NONE, [E.NONE])
        self.drain()

    @precondition(lambda self: bool(self.known))
    @rule(data=st.data(), stale=st.booleans())
    def heartbeat(self, data: st.DataObject, stale: bool) -> None:
        member = data.draw(st.sampled_from(self.known))
        group = self.group
        generation = (group.generation_id if group else 0) - (1 if stale else 0)
        code = self.coord.heartbeat("g", member, None, generation)
        if group is None or member not in group.members:
            assert code == E.UNKNOWN_MEMBER_ID
        elif stale:
            assert code == E.ILLEGAL_GENERATION
        else:
            assert code in (E.NONE, E.REBALANCE_IN_PROGRESS)
            assert (code == E.REBALANCE_IN_PROGRESS) == group.is_in(S.PREPARING_REBALANCE)

    @precondition(lambda self: bool(self.members()))
    @rule(data=st.data(), offset=st.integers(0, 1000))
    def commit(self, data: st.DataObject, offset: int) -> None:
        member = data.draw(st.sampled_from(self.members()))
        group = self.group
        state = group.state
        errors = self.coord.commit_offsets(
            "g", group.generation_id, member, None, [CommitRequestPartition("t", 0, offset)]
        )
        if state == S.COMPLETING_REBALANCE:
            assert errors == [E.REBALANCE_IN_PROGRESS]
        else:
            assert errors == [E.NONE]
            assert group.offsets[("t", 0)].offset == offset

    @invariant()
    def kafka_invariants(self) -> None:
        group = self.group
        if group is None:
            return
        assert (group.leader_id is None) == (not group.members)
        if group.is_in(S.EMPTY):
            assert not group.members
        if group.is_in(S.STABLE, S.COMPLETING_REBALANCE):
            assert group.members and group.generation_id >= 1
            assert all(not m.is_awaiting_join for m in group.members.values())
            assert group.protocol_name == "range"
        if group.is_in(S.STABLE):
            assert all(not m.is_awaiting_sync for m in group.members.values())
        if not group.is_in(S.PREPARING_REBALANCE):
            assert all(m.awaiting_join is None for m in group.members.values())
        # Each generation has one leader, and the leader saw exactly its members.
        by_generation: dict[int, list[JoinResult]] = {}
        for r in self.results:
            if r.error == E.NONE:
                by_generation.setdefault(r.generation_id, []).append(r)
        for generation, results in by_generation.items():
            assert generation <= group.generation_id
            leaders = {r.leader_id for r in results}
            assert len(leaders) == 1
            for r in results:
                if r.member_id == r.leader_id and r.members:
                    assert {r.member_id for r in results} <= {m.member_id for m in r.members}

    def teardown(self) -> None:
        # Once every member has left, nothing may still be waiting.
        if self.group is not None:
            self.coord.leave_group("g", [(m, None) for m in self.members()])
        self.drain()
        pending = [t for t in self.joins + self.syncs if not t.done()]
        assert not pending, pending
        self.loop.run_until_complete(self.coord.stop())
        self.loop.close()


GroupMachine.TestCase.settings = settings(max_examples=80, stateful_step_count=30, deadline=None)
test_group_machine = GroupMachine.TestCase
