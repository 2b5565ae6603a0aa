"""Committed offsets: commit rules, fetch, delete, expiry, and reloading
groups and offsets from the store (what a broker restart does)."""

from __future__ import annotations

import asyncio
from typing import Any

from pystream.coordinator.group import GroupState
from pystream.coordinator.results import CommitRequestPartition
from pystream.coordinator.store import partition_for
from pystream.protocol.consumer_protocol import encode_subscription
from pystream.protocol.errors import ErrorCode

E = ErrorCode
S = GroupState


def tp(topic: str, partition: int, offset: int, metadata: str = "") -> CommitRequestPartition:
    return CommitRequestPartition(topic, partition, offset, metadata=metadata)


async def member_group(kit: Any, coord: Any, topics: list[str]) -> Any:
    sub = encode_subscription(topics)
    j = await kit.join(coord, protocols=[("range", sub)])
    await coord.sync_group("g", j.generation_id, j.member_id, None, None, None, {})
    return j


def test_simple_commit_creates_group_and_fetch_returns_it(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, _ = kit.make()
        await coord.start()
        errors = coord.commit_offsets("g", -1, "", None, [tp("t", 0, 5, "meta"), tp("t", 1, 9)])
        assert errors == [E.NONE, E.NONE]
        err, offsets = coord.fetch_offsets("g", [("t", 0), ("t", 1), ("t", 2)])
        assert err == E.NONE
        assert [(o.partition, o.offset, o.metadata) for o in offsets] == [
            (0, 5, "meta"),
            (1, 9, ""),
            (2, -1, ""),
        ]
        # All partitions of the group.
        _, every = coord.fetch_offsets("g", None)
        assert [(o.topic, o.partition) for o in every] == [("t", 0), ("t", 1)]
        # An unknown group has no offsets, and that is not an error.
        assert coord.fetch_offsets("nope", None) == (E.NONE, [])
        await coord.stop()

    run(body)


def test_commit_rules_for_members(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, _ = kit.make()
        await coord.start()
        j = await member_group(kit, coord, ["t"])
        gen, mid = j.generation_id, j.member_id
        assert coord.commit_offsets("g", gen, mid, None, [tp("t", 0, 1)]) == [E.NONE]
        assert coord.commit_offsets("g", gen + 1, mid, None, [tp("t", 0, 2)]) == [
            E.ILLEGAL_GENERATION
        ]
        assert coord.commit_offsets("g", gen, "nobody", None, [tp("t", 0, 2)]) == [
            E.UNKNOWN_MEMBER_ID
        ]
        # Without member info, a group with members refuses commits.
        assert coord.commit_offsets("g", -1, "", None, [tp("t", 0, 2)]) == [E.UNKNOWN_MEMBER_ID]
        # A generation for a group that does not exist.
        assert coord.commit_offsets("x", 3, "m", None, [tp("t", 0, 2)]) == [E.ILLEGAL_GENERATION]
        assert coord.commit_offsets("x", 3, "m", None, [tp("t", 0, 2)], api_version=9) == [
            E.GROUP_ID_NOT_FOUND
        ]
        big = "x" * (kit.config.offset_metadata_max_bytes + 1)
        assert coord.commit_offsets("g", gen, mid, None, [tp("t", 0, 7, big), tp("t", 1, 8)]) == [
            E.OFFSET_METADATA_TOO_LARGE,
            E.NONE,
        ]
        _, offsets = coord.fetch_offsets("g", [("t", 0), ("t", 1)])
        assert [o.offset for o in offsets] == [1, 8]  # refused commits changed nothing
        await coord.stop()

    run(body)


def test_commit_during_completing_rebalance_is_refused(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, _ = kit.make()
        await coord.start()
        j = await kit.join(coord)
        assert coord.groups["g"].state == S.COMPLETING_REBALANCE
        errors = coord.commit_offsets("g", j.generation_id, j.member_id, None, [tp("t", 0, 1)])
        assert errors == [E.REBALANCE_IN_PROGRESS]
        await coord.stop()

    run(body)


def test_offset_delete(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, _ = kit.make()
        await coord.start()
        j = await member_group(kit, coord, ["t"])
        coord.commit_offsets(
            "g", j.generation_id, j.member_id, None, [tp("t", 0, 1), tp("u", 0, 2)]
        )
        assert coord.delete_offsets("g", [("t", 0), ("u", 0)]) == (
            E.NONE,
            [E.GROUP_SUBSCRIBED_TO_TOPIC, E.NONE],
        )
        _, left = coord.fetch_offsets("g", None)
        assert [(o.topic, o.offset) for o in left] == [("t", 1)]
        assert coord.delete_offsets("missing", [("t", 0)]) == (E.GROUP_ID_NOT_FOUND, [])
        await coord.stop()

    run(body)


def test_expiry_of_an_empty_group(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, store = kit.make(offsets_retention_ms=1000)
        await coord.start()
        coord.commit_offsets("g", -1, "", None, [tp("t", 0, 5)])
        group = coord.groups["g"]
        commit_ts = group.offsets[("t", 0)].commit_timestamp
        assert coord.expire_offsets(commit_ts + 999) == 0
        assert coord.expire_offsets(commit_ts + 1000) == 1
        assert "g" not in coord.groups
        # Tombstones for the offset and the group were written.
        log = store.logs[partition_for("g", store.num_partitions)]
        assert [v for _, v in log[-2:]] == [None, None]
        await coord.stop()

    run(body)


def test_stable_group_offsets_do_not_expire_while_subscribed(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, _ = kit.make(offsets_retention_ms=1000)
        await coord.start()
        j = await member_group(kit, coord, ["t"])
        coord.commit_offsets(
            "g", j.generation_id, j.member_id, None, [tp("t", 0, 1), tp("old", 0, 1)]
        )
        ts = coord.groups["g"].offsets[("t", 0)].commit_timestamp
        assert coord.expire_offsets(ts + 10_000) == 1  # only the unsubscribed topic
        assert set(coord.groups["g"].offsets) == {("t", 0)}
        await coord.stop()

    run(body)


def test_restart_rebuilds_groups_and_offsets(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, store = kit.make()
        await coord.start()
        joins = await asyncio.gather(
            kit.join(coord, instance="i1", client_id="a"), kit.join(coord, client_id="b")
        )
        leader = next(j for j in joins if j.member_id == j.leader_id)
        await asyncio.gather(
            *(
                coord.sync_group(
                    "g",
                    j.generation_id,
                    j.member_id,
                    "i1" if j is joins[0] else None,
                    None,
                    None,
                    {m.member_id: m.member_id.encode() for m in leader.members}
                    if j is leader
                    else {},
                )
                for j in joins
            )
        )
        gen = joins[0].generation_id
        coord.commit_offsets("g", gen, joins[1].member_id, None, [tp("t", 0, 42, "m")])
        coord.commit_offsets("g", gen, joins[1].member_id, None, [tp("t", 0, 43, "n")])
        coord.commit_offsets("simple", -1, "", None, [tp("t", 1, 7)])
        coord.commit_offsets("gone", -1, "", None, [tp("t", 1, 7)])
        assert coord.delete_group("gone") == E.NONE
        await coord.stop()

        again, _ = kit.make(store)
        await again.start()
        assert set(again.groups) == {"g", "simple"}
        g = again.groups["g"]
        assert g.state == S.STABLE and g.generation_id == gen
        assert g.static_member_id("i1") == joins[0].member_id
        assert g.get(joins[1].member_id).assignment == joins[1].member_id.encode()
        _, offsets = again.fetch_offsets("g", [("t", 0)])
        assert (offsets[0].offset, offsets[0].metadata) == (43, "n")
        # Loaded members heartbeat as before.
        assert again.heartbeat("g", joins[1].member_id, None, gen) == E.NONE
        await again.stop()

    run(body)


def test_storage_failure_loses_nothing(run: Any, kit: Any) -> None:
    async def body() -> None:
        coord, store = kit.make()
        await coord.start()
        coord.commit_offsets("g", -1, "", None, [tp("t", 0, 5)])
        store.fail = E.NOT_ENOUGH_REPLICAS
        assert coord.commit_offsets("g", -1, "", None, [tp("t", 0, 6)]) == [E.NOT_ENOUGH_REPLICAS]
        _, offsets = coord.fetch_offsets("g", [("t", 0)])
        assert offsets[0].offset == 5
        await coord.stop()

    run(body)


def test_compaction_keeps_the_log_short_and_loses_nothing(
    run: Any, kit: Any, monkeypatch: Any
) -> None:
    import pystream.coordinator.compaction as compaction

    monkeypatch.setattr(compaction, "CHUNK_RECORDS", 3)  # several chunks, with commits between

    async def body() -> None:
        coord, store = kit.make(compaction_min_records=40)
        await coord.start()
        for round_ in range(100):
            for g in range(3):
                errors = coord.commit_offsets(
                    f"g{g}", -1, "", None, [tp("t", p, round_ * 10 + p) for p in range(4)]
                )
                assert errors == [E.NONE] * 4
            await asyncio.sleep(0)  # compaction chunks run between commits
        coord.delete_group("g2")
        coord.commit_offsets("g1", -1, "", None, [tp("t", 9, 1)])
        await asyncio.sleep(0.01)
        assert coord.compactor.compactions > 0
        for p in range(store.num_partitions):
            start, end = store.offsets(p)
            # Bounded by the live keys (and the compaction threshold), not by history.
            assert end - start < 2 * 40
        expected = {gid: dict(g.offsets) for gid, g in coord.groups.items()}
        await coord.stop()

        again, _ = kit.make(store)
        await again.start()
        assert {gid: dict(g.offsets) for gid, g in again.groups.items()} == expected
        assert "g2" not in again.groups
        await again.stop()

    run(body)
