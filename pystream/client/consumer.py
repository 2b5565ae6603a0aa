"""A consumer over manually assigned partitions (no group membership).

`poll()` sends one Fetch per leader for all assigned partitions and decodes
the returned batches natively (`pystream.record.iter_records`), skipping
records before each partition's position (a fetch starts at the batch that
holds the position). Positions start from earliest, latest, an offset or a
timestamp (ListOffsets).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pystream.client.cluster import Cluster, KafkaError
from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.fetch import FetchRequest
from pystream.protocol.messages.list_offsets import ListOffsetsRequest
from pystream.record import iter_records

EARLIEST, LATEST = -2, -1
ZERO_UUID = uuid.UUID(int=0)


@dataclass
class ConsumerRecord:
    topic: str
    partition: int
    offset: int
    timestamp: int
    timestamp_type: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]


class Consumer:
    def __init__(
        self,
        cluster: Cluster,
        max_wait_ms: int = 500,
        min_bytes: int = 1,
        max_bytes: int = 50 << 20,
        max_partition_bytes: int = 8 << 20,
        isolation_level: int = 0,
    ) -> None:
        self.cluster = cluster
        self.max_wait_ms = max_wait_ms
        self.min_bytes = min_bytes
        self.max_bytes = max_bytes
        self.max_partition_bytes = max_partition_bytes
        self.isolation_level = isolation_level
        self.positions: dict[tuple[str, int], int] = {}
        self.high_watermarks: dict[tuple[str, int], int] = {}

    async def assign(
        self, topic: str, partitions: list[int] | None = None, start: int = EARLIEST
    ) -> None:
        """Assigns partitions and positions them at `start` (EARLIEST, LATEST or an offset)."""
        info = await self.cluster.topic(topic)
        parts = sorted(info.partitions) if partitions is None else partitions
        if start >= 0:
            for p in parts:
                self.positions[(topic, p)] = start
        else:
            offsets = await self.list_offsets(topic, parts, start)
            self.positions.update({(topic, p): o for p, o in offsets.items()})

    async def assign_at_timestamp(self, topic: str, timestamp_ms: int) -> None:
        info = await self.cluster.topic(topic)
        parts = sorted(info.partitions)
        offsets = await self.list_offsets(topic, parts, timestamp_ms)
        ends = await self.list_offsets(topic, parts, LATEST)
        for p in parts:
            self.positions[(topic, p)] = offsets[p] if offsets[p] >= 0 else ends[p]

    async def list_offsets(
        self, topic: str, partitions: list[int], timestamp: int
    ) -> dict[int, int]:
        out: dict[int, int] = {}
        by_leader: dict[int, list[int]] = {}
        info = await self.cluster.topic(topic)
        for p in partitions:
            by_leader.setdefault(info.partitions.get(p, -1), []).append(p)
        for leader, parts in by_leader.items():
            conn = await self.cluster.broker_connection(leader)
            req = ListOffsetsRequest(
                replica_id=-1,
                isolation_level=self.isolation_level,
                topics=[
                    ListOffsetsRequest.ListOffsetsTopic(
                        name=topic,
                        partitions=[
                            ListOffsetsRequest.ListOffsetsTopic.ListOffsetsPartition(
                                partition_index=p, timestamp=timestamp, max_num_offsets=1
                            )
                            for p in parts
                        ],
                    )
                ],
            )
            resp = await conn.request(req)
            for t in resp.topics:
                for pr in t.partitions:
                    if pr.error_code:
                        raise KafkaError(
                            pr.error_code, context=f"list offsets {topic}-{pr.partition_index}"
                        )
                    offset = pr.offset
                    if conn.version_for(ApiKey.LIST_OFFSETS) == 0:
                        offset = pr.old_style_offsets[0] if pr.old_style_offsets else -1
                    out[pr.partition_index] = offset
        return out

    def lag(self) -> int:
        return sum(
            max(self.high_watermarks.get(tp, pos) - pos, 0) for tp, pos in self.positions.items()
        )

    async def poll(self, max_wait_ms: int | None = None) -> list[ConsumerRecord]:
        by_leader: dict[int, list[tuple[str, int]]] = {}
        for tp in self.positions:
            info = await self.cluster.topic(tp[0])
            by_leader.setdefault(info.partitions.get(tp[1], -1), []).append(tp)
        records: list[ConsumerRecord] = []
        for leader, tps in by_leader.items():
            conn = await self.cluster.broker_connection(leader)
            topics: dict[str, list[FetchRequest.FetchTopic.FetchPartition]] = {}
            for topic, p in tps:
                topics.setdefault(topic, []).append(
                    FetchRequest.FetchTopic.FetchPartition(
                        partition=p,
                        fetch_offset=self.positions[(topic, p)],
                        partition_max_bytes=self.max_partition_bytes,
                    )
                )
            req = FetchRequest(
                replica_id=-1,
                max_wait_ms=self.max_wait_ms if max_wait_ms is None else max_wait_ms,
                min_bytes=self.min_bytes,
                max_bytes=self.max_bytes,
                isolation_level=self.isolation_level,
                session_id=0,
                session_epoch=-1,
                topics=[
                    FetchRequest.FetchTopic(
                        topic=t, topic_id=self.cluster.topics[t].topic_id, partitions=ps
                    )
                    for t, ps in topics.items()
                ],
                forgotten_topics_data=[],
                rack_id="",
            )
            resp = await conn.request(req)
            if resp.error_code:
                raise KafkaError(resp.error_code, context="fetch")
            for tr in resp.responses:
                topic = tr.topic or self._name_for_id(tr.topic_id)
                for pd in tr.partitions:
                    tp = (topic, pd.partition_index)
                    if pd.error_code == ErrorCode.OFFSET_OUT_OF_RANGE:
                        await self.assign(topic, [pd.partition_index], EARLIEST)
                        continue
                    if pd.error_code:
                        raise KafkaError(
                            pd.error_code, context=f"fetch {topic}-{pd.partition_index}"
                        )
                    self.high_watermarks[tp] = pd.high_watermark
                    if not pd.records:
                        continue
                    position = self.positions[tp]
                    for rec in iter_records(bytes(pd.records)):
                        if rec.offset < position:
                            continue
                        position = rec.offset + 1
                        if rec.batch is not None and rec.batch.is_control:
                            continue
                        records.append(
                            ConsumerRecord(
                                topic,
                                pd.partition_index,
                                rec.offset,
                                rec.timestamp,
                                int(rec.timestamp_type),
                                rec.key,
                                rec.value,
                                list(rec.headers),
                            )
                        )
                    self.positions[tp] = position
        return records

    def _name_for_id(self, topic_id: object) -> str:
        for info in self.cluster.topics.values():
            if info.topic_id == topic_id:
                return info.name
        return ""
