"""OffsetDelete (key 47): removes a group's committed offsets, refused for
topics its members still subscribe to (GROUP_SUBSCRIBED_TO_TOPIC)."""

from __future__ import annotations

from pystream.coordinator.service import group_coordinator
from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.offset_delete import OffsetDeleteRequest, OffsetDeleteResponse
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler

TopicResp = OffsetDeleteResponse.OffsetDeleteResponseTopic
PartResp = TopicResp.OffsetDeleteResponsePartition


async def handle(ctx: RequestContext, request: OffsetDeleteRequest) -> OffsetDeleteResponse:
    wanted = [(t.name, p.partition_index) for t in request.topics for p in t.partitions]
    top, errors = group_coordinator(ctx.broker).delete_offsets(request.group_id, wanted)
    if top != ErrorCode.NONE:
        return OffsetDeleteResponse(error_code=int(top), throttle_time_ms=0, topics=[])
    it = iter(errors)
    return OffsetDeleteResponse(
        error_code=0,
        throttle_time_ms=0,
        topics=[
            TopicResp(
                name=t.name,
                partitions=[
                    PartResp(partition_index=p.partition_index, error_code=int(next(it)))
                    for p in t.partitions
                ],
            )
            for t in request.topics
        ],
    )


HANDLER = Handler(ApiKey.OFFSET_DELETE, 0, 0, handle)
