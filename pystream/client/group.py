"""Consumer groups for pystream's client: membership and group admin.

`GroupMember` takes part in a classic consumer group (the "consumer"
protocol with Kafka's range assignor), so several processes share a
topic's partitions: `join()` returns this member's assignment, a
background task heartbeats, and `rebalance_needed` / `poll_rebalance()`
tell the caller when to hand partitions back and rejoin. Offsets are
committed with the member's generation, so a member fenced out of the
group cannot overwrite its successor's progress.

`GroupAdmin` is what the `pystream groups` tool needs: list, describe
(with decoded assignments), delete, and fetch/commit/delete offsets.
Works against any Kafka-compatible broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pystream.client.cluster import Cluster, KafkaError
from pystream.client.connection import BrokerConnection, KafkaConnectionError
from pystream.protocol.api import ApiKey
from pystream.protocol.consumer_protocol import (
    decode_assignment,
    decode_subscription,
    encode_assignment,
    encode_subscription,
)
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.delete_groups import DeleteGroupsRequest
from pystream.protocol.messages.describe_groups import DescribeGroupsRequest
from pystream.protocol.messages.find_coordinator import FindCoordinatorRequest
from pystream.protocol.messages.heartbeat import HeartbeatRequest
from pystream.protocol.messages.join_group import JoinGroupRequest
from pystream.protocol.messages.leave_group import LeaveGroupRequest
from pystream.protocol.messages.list_groups import ListGroupsRequest
from pystream.protocol.messages.offset_commit import OffsetCommitRequest
from pystream.protocol.messages.offset_delete import OffsetDeleteRequest
from pystream.protocol.messages.offset_fetch import OffsetFetchRequest
from pystream.protocol.messages.sync_group import SyncGroupRequest

log = logging.getLogger(__name__)

E = ErrorCode
T = TypeVar("T")
TopicPartition = tuple[str, int]
RANGE = "range"
# Errors after which asking again (possibly another coordinator) helps.
RETRIABLE = {E.COORDINATOR_LOAD_IN_PROGRESS, E.COORDINATOR_NOT_AVAILABLE, E.NOT_COORDINATOR}


def range_assign(
    subscriptions: dict[str, set[str]],
    partitions: dict[str, int],
    sort_keys: dict[str, str] | None = None,
) -> dict[str, dict[str, list[int]]]:
    """Kafka's RangeAssignor: per topic, consecutive partition ranges to the
    subscribed members in order (static members by instance id), the first
    `n % members` getting one extra."""
    keys = sort_keys or {}
    out: dict[str, dict[str, list[int]]] = {m: {} for m in subscriptions}
    for topic, count in sorted(partitions.items()):
        members = sorted(
            (m for m, topics in subscriptions.items() if topic in topics),
            key=lambda m: (keys.get(m, m), m),
        )
        if not members:
            continue
        per, extra = divmod(count, len(members))
        start = 0
        for i, m in enumerate(members):
            n = per + (1 if i < extra else 0)
            if n:
                out[m][topic] = list(range(start, start + n))
            start += n
    return out


async def coordinator_address(
    cluster: Cluster, group_id: str, attempts: int = 50
) -> tuple[str, int]:
    """HOST, PORT of the group's coordinator (retrying while it loads)."""
    for attempt in range(attempts):
        conn = await cluster.any_connection()
        if conn.version_for(ApiKey.FIND_COORDINATOR) >= 4:
            resp = await conn.request(
                FindCoordinatorRequest(key_type=0, coordinator_keys=[group_id])
            )
            c = resp.coordinators[0]
            code, msg, host, port = c.error_code, c.error_message, c.host, c.port
        else:
            resp = await conn.request(FindCoordinatorRequest(key=group_id, key_type=0))
            code, msg, host, port = resp.error_code, resp.error_message, resp.host, resp.port
        if code == 0:
            return host, port
        if code not in RETRIABLE or attempt == attempts - 1:
            raise KafkaError(code, msg, context=f"find coordinator for group {group_id!r}")
        await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))
    raise AssertionError("unreachable")


async def find_coordinator(cluster: Cluster, group_id: str) -> BrokerConnection:
    """The cluster's (shared) connection to the group's coordinator."""
    return await cluster.connection(*await coordinator_address(cluster, group_id))


async def _retry(fn: Callable[[], Awaitable[T]], attempts: int = 50) -> T:
    for attempt in range(attempts):
        try:
            return await fn()
        except KafkaError as e:
            if e.code not in RETRIABLE or attempt == attempts - 1:
                raise
            await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))
    raise AssertionError("unreachable")


@dataclass
class MemberInfo:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    assignment: dict[str, list[int]]


@dataclass
class GroupInfo:
    group_id: str
    state: str
    protocol_type: str
    protocol: str
    members: list[MemberInfo] = field(default_factory=list)


class GroupAdmin:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    async def _coordinator(self, group_id: str) -> BrokerConnection:
        return await find_coordinator(self.cluster, group_id)

    async def list_groups(self) -> list[tuple[str, str, str]]:
        """(group id, protocol type, state) of every group on every broker."""
        await self.cluster.refresh([])
        out: list[tuple[str, str, str]] = []
        for node in sorted(self.cluster.brokers):
            conn = await self.cluster.broker_connection(node)
            resp = await conn.request(ListGroupsRequest(states_filter=[], types_filter=[]))
            if resp.error_code:
                raise KafkaError(resp.error_code, context="list groups")
            out.extend((g.group_id, g.protocol_type, g.group_state or "") for g in resp.groups)
        return sorted(out)

    async def describe_group(self, group_id: str) -> GroupInfo:
        async def once() -> GroupInfo:
            conn = await self._coordinator(group_id)
            resp = await conn.request(DescribeGroupsRequest(groups=[group_id]))
            g = resp.groups[0]
            if g.error_code:
                raise KafkaError(g.error_code, context=f"describe group {group_id!r}")
            consumer = g.protocol_type == "consumer"
            return GroupInfo(
                group_id=g.group_id,
                state=g.group_state,
                protocol_type=g.protocol_type,
                protocol=g.protocol_data,
                members=[
                    MemberInfo(
                        member_id=m.member_id,
                        group_instance_id=m.group_instance_id,
                        client_id=m.client_id,
                        client_host=m.client_host,
                        assignment=(decode_assignment(bytes(m.member_assignment)) or {})
                        if consumer
                        else {},
                    )
                    for m in g.members
                ],
            )

        return await _retry(once)

    async def delete_groups(self, group_ids: list[str]) -> dict[str, int]:
        """Group id -> error code (0 when deleted)."""
        out: dict[str, int] = {}
        for group_id in group_ids:

            async def once(gid: str = group_id) -> int:
                conn = await self._coordinator(gid)
                resp = await conn.request(DeleteGroupsRequest(groups_names=[gid]))
                code = resp.results[0].error_code
                if code in RETRIABLE:
                    raise KafkaError(code)
                return int(code)

            out[group_id] = await _retry(once)
        return out

    async def fetch_offsets(
        self, group_id: str, partitions: list[TopicPartition] | None = None
    ) -> dict[TopicPartition, int]:
        """Committed offsets (-1 where none); every committed partition when None."""

        async def once() -> dict[TopicPartition, int]:
            conn = await self._coordinator(group_id)
            return await fetch_offsets_on(conn, group_id, partitions)

        return await _retry(once)

    async def commit_offsets(self, group_id: str, offsets: dict[TopicPartition, int]) -> None:
        """Commits as an admin (no generation): the group must have no members."""

        async def once() -> None:
            conn = await self._coordinator(group_id)
            await commit_offsets_on(conn, group_id, offsets, -1, "", None)

        await _retry(once)

    async def delete_offsets(self, group_id: str, partitions: list[TopicPartition]) -> None:
        by_topic: dict[str, list[int]] = {}
        for t, p in partitions:
            by_topic.setdefault(t, []).append(p)
        Topic = OffsetDeleteRequest.OffsetDeleteRequestTopic
        req = OffsetDeleteRequest(
            group_id=group_id,
            topics=[
                Topic(
                    name=t,
                    partitions=[Topic.OffsetDeleteRequestPartition(partition_index=p) for p in ps],
                )
                for t, ps in by_topic.items()
            ],
        )

        async def once() -> None:
            conn = await self._coordinator(group_id)
            resp = await conn.request(req)
            if resp.error_code:
                raise KafkaError(resp.error_code, context=f"delete offsets of {group_id!r}")
            for t in resp.topics:
                for p in t.partitions:
                    if p.error_code:
                        raise KafkaError(
                            p.error_code, context=f"delete offset {t.name}-{p.partition_index}"
                        )

        await _retry(once)


async def fetch_offsets_on(
    conn: BrokerConnection, group_id: str, partitions: list[TopicPartition] | None
) -> dict[TopicPartition, int]:
    by_topic: dict[str, list[int]] = {}
    for t, p in partitions or []:
        by_topic.setdefault(t, []).append(p)
    out: dict[TopicPartition, int] = {}
    if conn.version_for(ApiKey.OFFSET_FETCH) >= 8:
        G = OffsetFetchRequest.OffsetFetchRequestGroup
        topics = (
            None
            if partitions is None
            else [
                G.OffsetFetchRequestTopics(name=t, partition_indexes=ps)
                for t, ps in by_topic.items()
            ]
        )
        resp = await conn.request(
            OffsetFetchRequest(groups=[G(group_id=group_id, topics=topics)], require_stable=True)
        )
        group = resp.groups[0]
        if group.error_code:
            raise KafkaError(group.error_code, context=f"fetch offsets of {group_id!r}")
        results = [(t.name, p) for t in group.topics for p in t.partitions]
    else:
        Old = OffsetFetchRequest.OffsetFetchRequestTopic
        resp = await conn.request(
            OffsetFetchRequest(
                group_id=group_id,
                topics=None
                if partitions is None
                else [Old(name=t, partition_indexes=ps) for t, ps in by_topic.items()],
            ),
            max_version=7,
        )
        if resp.error_code:
            raise KafkaError(resp.error_code, context=f"fetch offsets of {group_id!r}")
        results = [(t.name, p) for t in resp.topics for p in t.partitions]
    for topic, p in results:
        if p.error_code:
            raise KafkaError(p.error_code, context=f"fetch offset {topic}-{p.partition_index}")
        out[(topic, p.partition_index)] = p.committed_offset
    return out


async def commit_offsets_on(
    conn: BrokerConnection,
    group_id: str,
    offsets: dict[TopicPartition, int],
    generation_id: int,
    member_id: str,
    instance_id: str | None,
    metadata: str = "",
) -> None:
    Topic = OffsetCommitRequest.OffsetCommitRequestTopic
    Part = Topic.OffsetCommitRequestPartition
    by_topic: dict[str, list[Any]] = {}
    for (t, p), offset in sorted(offsets.items()):
        by_topic.setdefault(t, []).append(
            Part(partition_index=p, committed_offset=offset, committed_metadata=metadata)
        )
    resp = await conn.request(
        OffsetCommitRequest(
            group_id=group_id,
            generation_id_or_member_epoch=generation_id,
            member_id=member_id,
            group_instance_id=instance_id,
            topics=[Topic(name=t, partitions=ps) for t, ps in by_topic.items()],
        )
    )
    for t in resp.topics:
        for p in t.partitions:
            if p.error_code:
                raise KafkaError(p.error_code, context=f"commit {t.name}-{p.partition_index}")


class GroupMember:
    """One member of a consumer group (see the module docstring)."""

    def __init__(
        self,
        cluster: Cluster,
        group_id: str,
        topics: list[str],
        *,
        session_timeout_ms: int = 10000,
        rebalance_timeout_ms: int = 30000,
        heartbeat_interval_ms: int = 3000,
        group_instance_id: str | None = None,
    ) -> None:
        self.cluster = cluster
        self.group_id = group_id
        self.topics = sorted(topics)
        self.session_timeout_ms = session_timeout_ms
        self.rebalance_timeout_ms = rebalance_timeout_ms
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.group_instance_id = group_instance_id
        self.member_id = ""
        self.generation_id = -1
        self.leader_id = ""
        self.assignment: dict[str, list[int]] = {}
        self.rebalance_needed = False
        self._conn: BrokerConnection | None = None
        self._stale = False  # the coordinator moved or the connection broke
        self._heartbeat: asyncio.Task[None] | None = None

    @property
    def partitions(self) -> list[TopicPartition]:
        return sorted((t, p) for t, ps in self.assignment.items() for p in ps)

    async def _coordinator(self) -> BrokerConnection:
        # A connection of its own: a broker answers a connection's requests in
        # order, so a JoinGroup waiting for the rebalance must not hold up
        # anyone's fetches (or another member's heartbeats) behind it.
        if self._conn is None or self._conn._closed or self._stale:
            old, self._conn, self._stale = self._conn, None, False
            if old is not None:
                await old.close()
            host, port = await coordinator_address(self.cluster, self.group_id)
            self._conn = await BrokerConnection(host, port, self.cluster.client_id).connect()
        return self._conn

    async def join(self) -> dict[str, list[int]]:
        """Joins (or rejoins) the group; returns this member's assignment."""
        await self._stop_heartbeat()
        self.rebalance_needed = False
        for attempt in range(100):
            try:
                done = await self._join_once()
            except KafkaConnectionError:
                self._stale = True
                done = False
            if done:
                self._heartbeat = asyncio.get_running_loop().create_task(self._heartbeat_loop())
                return self.assignment
            await asyncio.sleep(min(0.02 * attempt, 0.5))
        raise KafkaError(E.REBALANCE_IN_PROGRESS, context=f"joining group {self.group_id!r}")

    async def _join_once(self) -> bool:
        conn = await self._coordinator()
        subscription = encode_subscription(self.topics)
        resp = await conn.request(
            JoinGroupRequest(
                group_id=self.group_id,
                session_timeout_ms=self.session_timeout_ms,
                rebalance_timeout_ms=self.rebalance_timeout_ms,
                member_id=self.member_id,
                group_instance_id=self.group_instance_id,
                protocol_type="consumer",
                protocols=[
                    JoinGroupRequest.JoinGroupRequestProtocol(name=RANGE, metadata=subscription)
                ],
            )
        )
        code = resp.error_code
        if code == E.MEMBER_ID_REQUIRED:
            self.member_id = resp.member_id
            return False
        if not self._retriable(code, "join"):
            return False
        self.member_id, self.generation_id = resp.member_id, resp.generation_id
        self.leader_id = resp.leader
        assignments: dict[str, bytes] = {}
        if resp.leader == resp.member_id and not resp.skip_assignment:
            assignments = await self._assign(resp.members)
        Assignment = SyncGroupRequest.SyncGroupRequestAssignment
        sync = await conn.request(
            SyncGroupRequest(
                group_id=self.group_id,
                generation_id=self.generation_id,
                member_id=self.member_id,
                group_instance_id=self.group_instance_id,
                protocol_type="consumer",
                protocol_name=resp.protocol_name,
                assignments=[Assignment(member_id=m, assignment=a) for m, a in assignments.items()],
            )
        )
        if not self._retriable(sync.error_code, "sync"):
            return False
        self.assignment = decode_assignment(bytes(sync.assignment)) or {}
        log.info(
            "group %s: member %s generation %d assigned %s",
            self.group_id,
            self.member_id,
            self.generation_id,
            self.assignment,
        )
        return True

    def _retriable(self, code: int, what: str) -> bool:
        """True when `code` is success; False to try again; raises otherwise."""
        if code == 0:
            return True
        if code in (E.UNKNOWN_MEMBER_ID, E.ILLEGAL_GENERATION):
            if code == E.UNKNOWN_MEMBER_ID:
                self.member_id = ""
            return False
        if code == E.REBALANCE_IN_PROGRESS:
            return False
        if code in RETRIABLE:
            self._stale = True
            return False
        raise KafkaError(code, context=f"{what} group {self.group_id!r}")

    async def _assign(self, members: list[Any]) -> dict[str, bytes]:
        subscriptions: dict[str, set[str]] = {}
        sort_keys: dict[str, str] = {}
        for m in members:
            sub = decode_subscription(bytes(m.metadata))
            subscriptions[m.member_id] = set(sub.topics) if sub is not None else set()
            if m.group_instance_id:
                sort_keys[m.member_id] = m.group_instance_id
        counts: dict[str, int] = {}
        for topic in sorted(set().union(*subscriptions.values())):
            try:
                counts[topic] = len((await self.cluster.topic(topic)).partitions)
            except KafkaError:
                continue  # not there (yet): assigned once it exists
        plan = range_assign(subscriptions, counts, sort_keys)
        return {m: encode_assignment(parts) for m, parts in plan.items()}

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_interval_ms / 1000)
            try:
                conn = await self._coordinator()
                resp = await conn.request(
                    HeartbeatRequest(
                        group_id=self.group_id,
                        generation_id=self.generation_id,
                        member_id=self.member_id,
                        group_instance_id=self.group_instance_id,
                    )
                )
                code = resp.error_code
            except (KafkaConnectionError, KafkaError):
                self._stale = True
                continue
            if code == 0:
                continue
            if code == E.UNKNOWN_MEMBER_ID:
                self.member_id = ""
            elif code in RETRIABLE:
                self._stale = True
                continue
            self.rebalance_needed = True
            return

    async def poll_rebalance(self) -> bool:
        """Rejoins if the group is rebalancing; True when it did."""
        if not self.rebalance_needed:
            return False
        await self.join()
        return True

    async def commit(self, offsets: dict[TopicPartition, int], metadata: str = "") -> None:
        conn = await self._coordinator()
        try:
            await commit_offsets_on(
                conn,
                self.group_id,
                offsets,
                self.generation_id,
                self.member_id,
                self.group_instance_id,
                metadata,
            )
        except KafkaError as e:
            if e.code in (E.REBALANCE_IN_PROGRESS, E.ILLEGAL_GENERATION, E.UNKNOWN_MEMBER_ID):
                self.rebalance_needed = True
            raise

    async def committed(
        self, partitions: list[TopicPartition] | None = None
    ) -> dict[TopicPartition, int]:
        conn = await self._coordinator()
        return await fetch_offsets_on(conn, self.group_id, partitions or self.partitions)

    async def _stop_heartbeat(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
            self._heartbeat = None

    async def leave(self) -> None:
        """Leaves the group at once (static members stay until their session ends)."""
        await self._stop_heartbeat()
        if not self.member_id or self.group_instance_id is not None:
            await self.close()
            return
        with contextlib.suppress(KafkaConnectionError, KafkaError):
            conn = await self._coordinator()
            if conn.version_for(ApiKey.LEAVE_GROUP) >= 3:
                identity = LeaveGroupRequest.MemberIdentity(member_id=self.member_id)
                request = LeaveGroupRequest(group_id=self.group_id, members=[identity])
            else:
                request = LeaveGroupRequest(group_id=self.group_id, member_id=self.member_id)
            await conn.request(request)
        self.member_id = ""
        self.assignment = {}
        await self.close()

    async def close(self) -> None:
        """Stops heartbeating and closes the coordinator connection (no LeaveGroup)."""
        await self._stop_heartbeat()
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
