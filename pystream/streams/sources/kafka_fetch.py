"""Raw Fetch for the Kafka source: record bytes per partition, not decoded records.

`pystream.client.Consumer.poll` decodes every record into a Python object; the stream
source wants the batch bytes instead, to decode a whole partition chunk into columns with
one native call. `fetch_raw` sends one Fetch per leader (concurrently) for the given
positions and returns each partition's error code, high watermark, log start offset and
records (a zero-copy slice of the response frame).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from pystream.client.cluster import Cluster
from pystream.protocol.messages.fetch import FetchRequest

Part = FetchRequest.FetchTopic.FetchPartition


@dataclass
class FetchedPartition:
    partition: int
    error_code: int
    high_watermark: int
    log_start_offset: int
    records: memoryview | bytes | None


async def _fetch_leader(
    cluster: Cluster,
    leader: int,
    topic: str,
    positions: dict[int, int],
    max_wait_ms: int,
    max_bytes: int,
    partition_max_bytes: int,
    isolation_level: int,
) -> list[FetchedPartition]:
    conn = await cluster.broker_connection(leader)
    info = await cluster.topic(topic)
    request = FetchRequest(
        replica_id=-1,
        max_wait_ms=max_wait_ms,
        min_bytes=1,
        max_bytes=max_bytes,
        isolation_level=isolation_level,
        session_id=0,
        session_epoch=-1,
        topics=[
            FetchRequest.FetchTopic(
                topic=topic,
                topic_id=info.topic_id,
                partitions=[
                    Part(partition=p, fetch_offset=off, partition_max_bytes=partition_max_bytes)
                    for p, off in sorted(positions.items())
                ],
            )
        ],
        forgotten_topics_data=[],
        rack_id="",
    )
    response = await conn.request(request)
    if response.error_code:
        from pystream.client.cluster import KafkaError

        raise KafkaError(response.error_code, context=f"fetch {topic}")
    out = []
    for topic_data in response.responses:
        for pd in topic_data.partitions:
            out.append(
                FetchedPartition(
                    pd.partition_index,
                    pd.error_code,
                    pd.high_watermark,
                    pd.log_start_offset,
                    pd.records,
                )
            )
    return out


async def fetch_raw(
    cluster: Cluster,
    topic: str,
    positions: dict[int, int],
    *,
    max_wait_ms: int = 0,
    max_bytes: int = 64 << 20,
    partition_max_bytes: int = 8 << 20,
    isolation_level: int = 0,
) -> dict[int, FetchedPartition]:
    """One Fetch per partition leader; the answers by partition."""
    info = await cluster.topic(topic)
    by_leader: dict[int, dict[int, int]] = {}
    for p, off in positions.items():
        by_leader.setdefault(info.partitions.get(p, -1), {})[p] = off
    answers = await asyncio.gather(
        *(
            _fetch_leader(
                cluster,
                leader,
                topic,
                parts,
                max_wait_ms,
                max_bytes,
                partition_max_bytes,
                isolation_level,
            )
            for leader, parts in by_leader.items()
        )
    )
    return {fp.partition: fp for answer in answers for fp in answer}
