"""The group APIs over a real socket with pystream's own client: its
GroupMember (two members share a topic; leaving hands off; commits are
fenced by generation), and Kafka's error codes for bad requests at old
and new API versions, leaving the group undisturbed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from pystream.client import Admin, Cluster, KafkaError
from pystream.client.group import GroupAdmin, GroupMember, find_coordinator, range_assign
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.heartbeat import HeartbeatRequest
from pystream.protocol.messages.join_group import JoinGroupRequest
from pystream.protocol.messages.leave_group import LeaveGroupRequest
from pystream.protocol.messages.offset_commit import OffsetCommitRequest
from pystream.protocol.messages.offset_fetch import OffsetFetchRequest
from pystream.protocol.messages.sync_group import SyncGroupRequest
from pystream.testing import EmbeddedBroker

pytestmark = pytest.mark.integration
E = ErrorCode


def run(broker: EmbeddedBroker, body: Callable[[Cluster], Awaitable[Any]]) -> Any:
    async def main() -> Any:
        cluster = Cluster(broker.bootstrap)
        try:
            return await asyncio.wait_for(body(cluster), 60)
        finally:
            await cluster.close()

    return asyncio.run(main())


def test_range_assign_matches_kafka() -> None:
    plan = range_assign({"b": {"t"}, "a": {"t"}, "c": {"t", "u"}}, {"t": 7, "u": 2})
    assert plan == {"a": {"t": [0, 1, 2]}, "b": {"t": [3, 4]}, "c": {"t": [5, 6], "u": [0, 1]}}
    # Static members are ordered by instance id.
    plan = range_assign({"x": {"t"}, "y": {"t"}}, {"t": 2}, {"x": "2", "y": "1"})
    assert plan == {"y": {"t": [0]}, "x": {"t": [1]}}


def test_group_member_share_leave_and_fenced_commit(pystream_broker: EmbeddedBroker) -> None:
    async def body(cluster: Cluster) -> None:
        await Admin(cluster).create_topic("t", 4)
        # Both share one Cluster: each member still talks to the coordinator
        # on a connection of its own, so one's JoinGroup does not hold up the
        # other's heartbeats.
        a = GroupMember(cluster, "g", ["t"], heartbeat_interval_ms=100)
        b = GroupMember(cluster, "g", ["t"], heartbeat_interval_ms=100)
        await a.join()
        # b's join starts a rebalance; a learns of it from its heartbeat.
        joined_b = asyncio.ensure_future(b.join())
        while not a.rebalance_needed:
            await asyncio.sleep(0.05)
        old_generation = a.generation_id
        await asyncio.gather(a.poll_rebalance(), joined_b)
        assert sorted(a.partitions + b.partitions) == [("t", p) for p in range(4)]
        assert len(a.partitions) == len(b.partitions) == 2
        await a.commit({tp: 5 for tp in a.partitions})
        assert await a.committed() == {tp: 5 for tp in a.partitions}
        # A commit with a stale generation is refused.
        stale = GroupMember(cluster, "g", ["t"])
        stale.member_id, stale.generation_id = a.member_id, old_generation
        with pytest.raises(KafkaError) as err:
            await stale.commit({("t", 0): 99})
        assert err.value.code == E.ILLEGAL_GENERATION
        await a.leave()
        while not b.rebalance_needed:
            await asyncio.sleep(0.05)
        await b.poll_rebalance()
        assert b.partitions == [("t", p) for p in range(4)]
        info = await GroupAdmin(cluster).describe_group("g")
        assert info.state == "Stable" and len(info.members) == 1
        assert info.members[0].assignment == {"t": [0, 1, 2, 3]}
        await b.leave()

    run(pystream_broker, body)


@pytest.mark.parametrize("old", [False, True])
def test_bad_requests_get_kafka_errors(pystream_broker: EmbeddedBroker, old: bool) -> None:
    """Old versions (v0-v2 style) and the newest answer with the same codes."""
    join_v, sync_v, hb_v, leave_v, commit_v, fetch_v = (
        (3, 2, 2, 2, 2, 3) if old else (9, 5, 4, 5, 9, 9)
    )

    async def body(cluster: Cluster) -> None:
        await Admin(cluster).create_topic("t", 2)
        conn = await find_coordinator(cluster, "g")
        member = GroupMember(cluster, "g", ["t"], heartbeat_interval_ms=100)
        await member.join()
        gen, mid = member.generation_id, member.member_id

        def join(**kw: Any) -> Any:
            fields: dict[str, Any] = {
                "group_id": "g",
                "session_timeout_ms": 10000,
                "rebalance_timeout_ms": 10000,
                "member_id": "",
                "protocol_type": "consumer",
                "protocols": [
                    JoinGroupRequest.JoinGroupRequestProtocol(name="range", metadata=b"")
                ],
            }
            fields.update(kw)
            return conn.request(JoinGroupRequest(**fields), max_version=join_v)

        assert (await join(group_id="")).error_code == E.INVALID_GROUP_ID
        assert (await join(member_id="nobody")).error_code == E.UNKNOWN_MEMBER_ID
        assert (await join(protocol_type="connect")).error_code == E.INCONSISTENT_GROUP_PROTOCOL
        assert (await join(session_timeout_ms=1)).error_code == E.INVALID_SESSION_TIMEOUT
        bad_protocol = [JoinGroupRequest.JoinGroupRequestProtocol(name="other", metadata=b"")]
        assert (await join(protocols=bad_protocol)).error_code == E.INCONSISTENT_GROUP_PROTOCOL

        def heartbeat(member_id: str, generation: int, group: str = "g") -> Any:
            req = HeartbeatRequest(group_id=group, generation_id=generation, member_id=member_id)
            return conn.request(req, max_version=hb_v)

        assert (await heartbeat("nobody", gen)).error_code == E.UNKNOWN_MEMBER_ID
        assert (await heartbeat(mid, gen + 3)).error_code == E.ILLEGAL_GENERATION
        assert (await heartbeat(mid, gen, group="")).error_code == E.INVALID_GROUP_ID

        sync = SyncGroupRequest(group_id="g", generation_id=gen - 1, member_id=mid, assignments=[])
        assert (await conn.request(sync, max_version=sync_v)).error_code == E.ILLEGAL_GENERATION

        Topic = OffsetCommitRequest.OffsetCommitRequestTopic
        Part = Topic.OffsetCommitRequestPartition
        commit = OffsetCommitRequest(
            group_id="g",
            generation_id_or_member_epoch=gen,
            member_id=mid,
            topics=[
                Topic(
                    name="t",
                    partitions=[
                        Part(partition_index=0, committed_offset=3),
                        Part(partition_index=9, committed_offset=3),
                    ],
                ),
                Topic(name="missing", partitions=[Part(partition_index=0, committed_offset=3)]),
            ],
        )
        resp = await conn.request(commit, max_version=commit_v)
        codes = [p.error_code for t in resp.topics for p in t.partitions]
        assert codes == [E.NONE, E.UNKNOWN_TOPIC_OR_PARTITION, E.UNKNOWN_TOPIC_OR_PARTITION]

        if old:
            leave = LeaveGroupRequest(group_id="g", member_id="nobody")
            assert (
                await conn.request(leave, max_version=leave_v)
            ).error_code == E.UNKNOWN_MEMBER_ID
            fetch = OffsetFetchRequest(
                group_id="g",
                topics=[
                    OffsetFetchRequest.OffsetFetchRequestTopic(name="t", partition_indexes=[0, 1])
                ],
            )
            resp = await conn.request(fetch, max_version=fetch_v)
            got = [
                (p.partition_index, p.committed_offset) for t in resp.topics for p in t.partitions
            ]
        else:
            leave = LeaveGroupRequest(
                group_id="g", members=[LeaveGroupRequest.MemberIdentity(member_id="nobody")]
            )
            resp = await conn.request(leave, max_version=leave_v)
            assert resp.error_code == 0 and resp.members[0].error_code == E.UNKNOWN_MEMBER_ID
            G = OffsetFetchRequest.OffsetFetchRequestGroup
            fetch = OffsetFetchRequest(
                groups=[G(group_id="g", topics=None), G(group_id="none", topics=None)]
            )
            resp = await conn.request(fetch, max_version=fetch_v)
            got = [
                (p.partition_index, p.committed_offset)
                for t in resp.groups[0].topics
                for p in t.partitions
            ]
            assert resp.groups[1].topics == []
        assert got[0] == (0, 3)

        # None of it disturbed the member.
        assert (await heartbeat(mid, gen)).error_code == E.NONE
        assert not member.rebalance_needed
        info = await GroupAdmin(cluster).describe_group("g")
        assert info.state == "Stable" and [m.member_id for m in info.members] == [mid]
        await member.leave()

    run(pystream_broker, body)
