"""OffsetForLeaderEpoch (key 23): end offset of a leader epoch (KIP-101/279).

A single node has one leader epoch per partition; a later epoch than the
current one is UNDEFINED (-1, -1), as Kafka answers.
"""

from __future__ import annotations

from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.offset_for_leader_epoch import (
    OffsetForLeaderEpochRequest,
    OffsetForLeaderEpochResponse,
)
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler

Resp = OffsetForLeaderEpochResponse
TopicResp = OffsetForLeaderEpochResponse.OffsetForLeaderTopicResult
PartResp = TopicResp.EpochEndOffset


async def handle(
    ctx: RequestContext, request: OffsetForLeaderEpochRequest
) -> OffsetForLeaderEpochResponse:
    registry = ctx.broker.topics
    assert registry is not None
    topics = []
    for t in request.topics:
        parts = []
        for p in t.partitions:
            partition = registry.partition(t.topic, p.partition)
            if partition is None:
                parts.append(
                    PartResp(
                        partition=p.partition, error_code=int(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
                    )
                )
            elif p.current_leader_epoch > partition.leader_epoch:
                parts.append(
                    PartResp(partition=p.partition, error_code=int(ErrorCode.UNKNOWN_LEADER_EPOCH))
                )
            elif p.current_leader_epoch >= 0 and p.current_leader_epoch < partition.leader_epoch:
                parts.append(
                    PartResp(partition=p.partition, error_code=int(ErrorCode.FENCED_LEADER_EPOCH))
                )
            elif p.leader_epoch > partition.leader_epoch:
                parts.append(PartResp(partition=p.partition, error_code=0))
            else:
                parts.append(
                    PartResp(
                        partition=p.partition,
                        error_code=0,
                        leader_epoch=partition.leader_epoch,
                        end_offset=partition.log_end_offset,
                    )
                )
        topics.append(TopicResp(topic=t.topic, partitions=parts))
    return Resp(throttle_time_ms=0, topics=topics)


HANDLER = Handler(ApiKey.OFFSET_FOR_LEADER_EPOCH, 0, 4, handle)
