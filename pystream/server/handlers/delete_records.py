"""DeleteRecords (key 21): advance a partition's log start offset."""

from __future__ import annotations

from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.delete_records import DeleteRecordsRequest, DeleteRecordsResponse
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler

Resp = DeleteRecordsResponse
TopicResp = DeleteRecordsResponse.DeleteRecordsTopicResult
PartResp = TopicResp.DeleteRecordsPartitionResult
HIGH_WATERMARK = -1


async def handle(ctx: RequestContext, request: DeleteRecordsRequest) -> DeleteRecordsResponse:
    registry = ctx.broker.topics
    assert registry is not None
    topics = []
    for t in request.topics:
        parts = []
        for p in t.partitions:
            partition = registry.partition(t.name, p.partition_index)
            result = PartResp(partition_index=p.partition_index, low_watermark=-1, error_code=0)
            if partition is None:
                result.error_code = int(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION)
            else:
                target = partition.high_watermark if p.offset == HIGH_WATERMARK else p.offset
                if target < 0 or target > partition.high_watermark:
                    result.error_code = int(ErrorCode.OFFSET_OUT_OF_RANGE)
                else:
                    if target > partition.log_start_offset:
                        await ctx.broker.run_blocking(partition.log.delete_records, target)
                    result.low_watermark = partition.log_start_offset
            parts.append(result)
        topics.append(TopicResp(name=t.name, partitions=parts))
    return Resp(throttle_time_ms=0, topics=topics)


HANDLER = Handler(ApiKey.DELETE_RECORDS, 0, 2, handle)
