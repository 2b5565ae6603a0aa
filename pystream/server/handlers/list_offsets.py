"""ListOffsets (key 2): earliest, latest, max timestamp, or offset by timestamp."""

from __future__ import annotations

from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.list_offsets import ListOffsetsRequest, ListOffsetsResponse
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler
from pystream.server.partition import Partition

Resp = ListOffsetsResponse
TopicResp = ListOffsetsResponse.ListOffsetsTopicResponse
PartResp = TopicResp.ListOffsetsPartitionResponse
LATEST, EARLIEST, MAX_TIMESTAMP, EARLIEST_LOCAL, LATEST_TIERED = -1, -2, -3, -4, -5


def lookup(partition: Partition, timestamp: int, read_committed: bool) -> tuple[int, int]:
    """(offset, timestamp) for a ListOffsets query; (-1, -1) when none matches."""
    end = partition.last_stable_offset if read_committed else partition.high_watermark
    if timestamp == LATEST:
        return end, -1
    if timestamp in (EARLIEST, EARLIEST_LOCAL):
        return partition.log_start_offset, -1
    if timestamp == LATEST_TIERED:
        return partition.log_start_offset - 1, -1
    if timestamp == MAX_TIMESTAMP:
        found = partition.log.offset_for_timestamp(MAX_TIMESTAMP)
        return found if found is not None else (-1, -1)
    found = partition.log.offset_for_timestamp(timestamp)
    if found is None or found[0] >= end:
        return -1, -1
    offset, ts = found
    return offset, ts


async def handle(ctx: RequestContext, request: ListOffsetsRequest) -> ListOffsetsResponse:
    registry = ctx.broker.topics
    assert registry is not None
    read_committed = request.isolation_level == 1
    topics = []
    for t in request.topics:
        parts = []
        for p in t.partitions:
            partition = registry.partition(t.name, p.partition_index)
            if partition is None:
                parts.append(
                    PartResp(
                        partition_index=p.partition_index,
                        error_code=int(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION),
                    )
                )
                continue
            if p.current_leader_epoch > partition.leader_epoch:
                parts.append(
                    PartResp(
                        partition_index=p.partition_index,
                        error_code=int(ErrorCode.UNKNOWN_LEADER_EPOCH),
                    )
                )
                continue
            offset, ts = lookup(partition, p.timestamp, read_committed)
            parts.append(
                PartResp(
                    partition_index=p.partition_index,
                    error_code=0,
                    old_style_offsets=[offset] if offset >= 0 and ctx.api_version == 0 else [],
                    timestamp=ts,
                    offset=offset,
                    leader_epoch=partition.leader_epoch
                    if offset >= 0 and ctx.api_version >= 4
                    else -1,
                )
            )
        topics.append(TopicResp(name=t.name, partitions=parts))
    return Resp(throttle_time_ms=0, topics=topics)


HANDLER = Handler(ApiKey.LIST_OFFSETS, 0, 10, handle)
