"""Classic group membership through the coordinator: join rounds, sync,
heartbeats, leaving, session and rebalance timeouts, static members, and
Kafka's error codes for bad requests."""

from __future__ import annotations

import asyncio
from typing import Any

from pystream.coordinator.group import GroupState
from pystream.protocol.errors import ErrorCode

E = ErrorCode
S = GroupState


async def stable_group(kit: Any, n: int, **kw: Any) -> tuple[Any, list[Any]]:
    """A coordinator with group "g" of n members, synced and Stable."""
    coord, _ = kit.make(initial_rebalance_delay_ms=50, **kw)
    await coord.start()
    joins = await asyncio.gather(*(kit.join(coord, client_id=f"c{i}") for i in range(n)))
    assert all(j.error == E.NONE for j in joins)
    await sync_all(coord, joins)
    return coord, joins


async def sync_all(coord: Any, joins: list[Any]) -> list[Any]:
    leader = next(j for j in joins if j.member_id == j.leader_id)
    assignments = {m.member_id: f"to-{m.member_id}".encode() for m in leader.members}
    return list(
        await asyncio.gather(
            *(
                coord.sync_group(
                    "g",
                    j.generation_id,
                    j.member_id,
                    None,
                    "consumer",
                    j.protocol_name,
                    assignments if j is leader else {},
                )
                for j in joins
            )
        )
    )


def test_member_id_required_round_trip(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, store = kit.make()
        await coord.start()
        first = await coord.join_group(kit.params())
        assert first.error == E.MEMBER_ID_REQUIRED
        assert first.member_id.startswith("client-")
        second = await coord.join_group(kit.params(member_id=first.member_id))
        assert second.error == E.NONE
        assert second.member_id == first.member_id == second.leader_id
        assert second.generation_id == 1 and second.protocol_name == "range"
        assert [m.member_id for m in second.members] == [first.member_id]
        sync = await coord.sync_group(
            "g", 1, first.member_id, None, "consumer", "range", {first.member_id: b"a"}
        )
        assert (sync.error, sync.assignment) == (E.NONE, b"a")
        assert coord.groups["g"].state == S.STABLE
        assert store.logs  # the assignment was written before it was handed out
        await coord.stop()

    run(body)


def test_three_members_one_generation_one_leader(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, joins = await stable_group(kit, 3)
        assert len({j.generation_id for j in joins}) == 1
        leaders = [j for j in joins if j.member_id == j.leader_id]
        assert len(leaders) == 1 and len(leaders[0].members) == 3
        assert all(j.members == [] for j in joins if j is not leaders[0])
        group = coord.groups["g"]
        assert group.state == S.STABLE
        assert {m.assignment for m in group.members.values()} == {
            f"to-{j.member_id}".encode() for j in joins
        }
        await coord.stop()

    run(body)


def test_leave_triggers_rebalance_and_others_rejoin(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, joins = await stable_group(kit, 3)
        gen = joins[0].generation_id
        top, errors = coord.leave_group("g", [(joins[0].member_id, None)])
        assert (top, errors) == (E.NONE, [E.NONE])
        assert coord.groups["g"].state == S.PREPARING_REBALANCE
        # The others learn of it from their heartbeat and rejoin.
        for j in joins[1:]:
            assert coord.heartbeat("g", j.member_id, None, gen) == E.REBALANCE_IN_PROGRESS
        rejoins = await asyncio.gather(*(kit.join(coord, member_id=j.member_id) for j in joins[1:]))
        assert {r.generation_id for r in rejoins} == {gen + 1}
        await sync_all(coord, rejoins)
        assert len(coord.groups["g"].members) == 2
        # The member that left is unknown now.
        assert coord.heartbeat("g", joins[0].member_id, None, gen + 1) == E.UNKNOWN_MEMBER_ID
        await coord.stop()

    run(body)


def test_session_timeout_removes_a_silent_member(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, _ = kit.make()
        await coord.start()
        quiet = await kit.join(coord, session_ms=50, client_id="quiet")
        await coord.sync_group("g", 1, quiet.member_id, None, None, None, {})
        group = coord.groups["g"]
        assert group.state == S.STABLE
        while group.members:
            await asyncio.sleep(0.02)
        # With nobody left the round ends at once and the group is Empty.
        assert group.state == S.EMPTY and group.generation_id == 2
        await coord.stop()

    run(body)


def test_heartbeats_keep_a_member(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, _ = kit.make()
        await coord.start()
        j = await kit.join(coord, session_ms=100)
        await coord.sync_group("g", 1, j.member_id, None, None, None, {})
        for _ in range(10):  # 10 x 30 ms, well past one session timeout
            await asyncio.sleep(0.03)
            assert coord.heartbeat("g", j.member_id, None, 1) == E.NONE
        assert coord.groups["g"].has(j.member_id)
        await coord.stop()

    run(body)


def test_member_that_does_not_rejoin_is_dropped_at_rebalance_timeout(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, _ = kit.make(initial_rebalance_delay_ms=30)
        await coord.start()
        joins = await asyncio.gather(
            kit.join(coord, rebalance_ms=100, client_id="a"),
            kit.join(coord, rebalance_ms=100, client_id="b"),
        )
        await sync_all(coord, list(joins))
        a, b = joins
        # a's metadata changes: a rebalance; b keeps heartbeating but never rejoins.
        rejoin = asyncio.ensure_future(
            coord.join_group(
                kit.params(member_id=a.member_id, protocols=[("range", b"v2")], rebalance_ms=100)
            )
        )
        await asyncio.sleep(0)
        assert coord.heartbeat("g", b.member_id, None, 1) == E.REBALANCE_IN_PROGRESS
        result = await rejoin
        assert result.error == E.NONE and result.generation_id == 2
        assert [m.member_id for m in result.members] == [a.member_id]
        assert coord.heartbeat("g", b.member_id, None, 1) == E.UNKNOWN_MEMBER_ID
        await coord.stop()

    run(body)


def test_bad_requests_get_kafka_errors_and_disturb_nothing(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, joins = await stable_group(kit, 2)
        group = coord.groups["g"]
        before = (group.state, group.generation_id, set(group.members), group.leader_id)
        gen, mid = joins[0].generation_id, joins[0].member_id
        assert coord.heartbeat("g", "nobody", None, gen) == E.UNKNOWN_MEMBER_ID
        assert coord.heartbeat("g", mid, None, gen + 5) == E.ILLEGAL_GENERATION
        assert coord.heartbeat("", mid, None, gen) == E.INVALID_GROUP_ID
        assert coord.heartbeat("other", mid, None, gen) == E.UNKNOWN_MEMBER_ID
        bad_join = [
            (kit.params(group_id=""), E.INVALID_GROUP_ID),
            (kit.params(protocol_type="connect"), E.INCONSISTENT_GROUP_PROTOCOL),
            (kit.params(protocols=[("roundrobin", b"")]), E.INCONSISTENT_GROUP_PROTOCOL),
            (kit.params(protocols=[]), E.INCONSISTENT_GROUP_PROTOCOL),
            (kit.params(member_id="nobody"), E.UNKNOWN_MEMBER_ID),
            (kit.params(session_ms=0), E.INVALID_SESSION_TIMEOUT),
            (kit.params(session_ms=10**9), E.INVALID_SESSION_TIMEOUT),
            (kit.params(group_id="fresh", member_id="x"), E.UNKNOWN_MEMBER_ID),
        ]
        for p, code in bad_join:
            assert (await coord.join_group(p)).error == code, p
        sync = await coord.sync_group("g", gen + 1, mid, None, None, None, {})
        assert sync.error == E.ILLEGAL_GENERATION
        sync = await coord.sync_group("g", gen, mid, None, "consumer", "roundrobin", {})
        assert sync.error == E.INCONSISTENT_GROUP_PROTOCOL
        sync = await coord.sync_group("g", gen, "nobody", None, None, None, {})
        assert sync.error == E.UNKNOWN_MEMBER_ID
        assert coord.leave_group("g", [("nobody", None)]) == (E.NONE, [E.UNKNOWN_MEMBER_ID])
        after = (group.state, group.generation_id, set(group.members), group.leader_id)
        assert after == before
        assert "fresh" not in coord.groups or coord.groups["fresh"].is_empty
        # The members still get their assignment.
        ok = await coord.sync_group("g", gen, mid, None, None, None, {})
        assert ok.error == E.NONE and ok.assignment == f"to-{mid}".encode()
        await coord.stop()

    run(body)


def test_follower_rejoin_with_same_metadata_in_stable_keeps_generation(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, joins = await stable_group(kit, 2)
        follower = next(j for j in joins if j.member_id != j.leader_id)
        again = await coord.join_group(kit.params(member_id=follower.member_id))
        assert again.error == E.NONE and again.generation_id == follower.generation_id
        assert coord.groups["g"].state == S.STABLE
        await coord.stop()

    run(body)


def test_static_member_restart_keeps_assignment_without_rebalance(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, _ = kit.make(initial_rebalance_delay_ms=50)
        await coord.start()
        joins = list(
            await asyncio.gather(
                kit.join(coord, instance="i-a", client_id="a"),
                kit.join(coord, instance="i-b", client_id="b"),
            )
        )
        # Static members are not asked to come back for an id.
        assert all(j.error == E.NONE for j in joins)
        await sync_all(coord, joins)
        group = coord.groups["g"]
        old = next(j for j in joins if j.member_id.startswith("i-b"))
        gen = group.generation_id
        # i-b restarts: a new process, no member id, same instance id.
        back = await coord.join_group(kit.params(instance="i-b", client_id="b"))
        assert back.error == E.NONE and back.member_id != old.member_id
        assert back.generation_id == gen and group.state == S.STABLE
        sync = await coord.sync_group("g", gen, back.member_id, "i-b", None, None, {})
        assert sync.assignment == f"to-{old.member_id}".encode()
        # The old incarnation is fenced.
        assert coord.heartbeat("g", old.member_id, "i-b", gen) == E.FENCED_INSTANCE_ID
        assert coord.leave_group("g", [(old.member_id, "i-b")]) == (
            E.NONE,
            [E.FENCED_INSTANCE_ID],
        )
        assert group.generation_id == gen and group.state == S.STABLE
        await coord.stop()

    run(body)


def test_pending_member_that_never_returns_does_not_block_the_round(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, joins = await stable_group(kit, 1)
        pending = await coord.join_group(kit.params(session_ms=50, client_id="gone"))
        assert pending.error == E.MEMBER_ID_REQUIRED
        # A rebalance now waits for the pending id too, until its session runs out.
        member_id = joins[0].member_id
        again = await coord.join_group(
            kit.params(member_id=member_id, protocols=[("range", b"v2")])
        )
        assert again.error == E.NONE and again.generation_id == 2
        assert [m.member_id for m in again.members] == [member_id]
        assert not coord.groups["g"].pending_members
        await coord.stop()

    run(body)


def test_describe_list_delete(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, joins = await stable_group(kit, 2)
        d = coord.describe_group("g")
        assert (d.state, d.protocol_type, d.protocol_name) == ("Stable", "consumer", "range")
        assert {m.member_id for m in d.members} == {j.member_id for j in joins}
        assert coord.describe_group("missing").state == "Dead"
        assert [(g.group_id, g.state) for g in coord.list_groups()] == [("g", "Stable")]
        assert coord.list_groups(["Empty"]) == []
        assert coord.delete_group("g") == E.NON_EMPTY_GROUP
        assert coord.delete_group("missing") == E.GROUP_ID_NOT_FOUND
        coord.leave_group("g", [(j.member_id, None) for j in joins])
        assert coord.groups["g"].state == S.EMPTY
        assert coord.delete_group("g") == E.NONE
        assert "g" not in coord.groups
        await coord.stop()

    run(body)


def test_requests_before_load_are_told_to_retry(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, _ = kit.make()
        assert (await coord.join_group(kit.params())).error == E.COORDINATOR_LOAD_IN_PROGRESS
        assert coord.heartbeat("g", "m", None, 1) == E.COORDINATOR_LOAD_IN_PROGRESS

    run(body)


def test_a_failed_load_is_retried(run: Any, kit: Any) -> None:
    async def body() -> None:
        from pystream.coordinator.store import MemoryStore

        class Flaky(MemoryStore):
            calls = 0

            def read_latest(self, partition: int) -> dict[bytes, bytes | None]:
                Flaky.calls += 1
                if Flaky.calls == 1:
                    raise OSError("disk went away")
                return super().read_latest(partition)

        coord, _ = kit.make(Flaky(4))
        try:
            await coord.start()
        except OSError:
            pass
        assert not coord.loaded
        await coord.start()
        assert coord.loaded
        await coord.stop()

    run(body)
