"""SyncGroup (key 14): the leader hands in the assignment; every member gets
its own once the leader's has arrived."""

from __future__ import annotations

from pystream.coordinator.service import group_coordinator
from pystream.protocol.api import ApiKey
from pystream.protocol.messages.sync_group import SyncGroupRequest, SyncGroupResponse
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler


async def handle(ctx: RequestContext, request: SyncGroupRequest) -> SyncGroupResponse:
    version = ctx.api_version
    result = await group_coordinator(ctx.broker).sync_group(
        request.group_id,
        request.generation_id,
        request.member_id,
        request.group_instance_id if version >= 3 else None,
        request.protocol_type if version >= 5 else None,
        request.protocol_name if version >= 5 else None,
        {a.member_id: bytes(a.assignment) for a in request.assignments},
    )
    return SyncGroupResponse(
        throttle_time_ms=0,
        error_code=int(result.error),
        protocol_type=result.protocol_type,
        protocol_name=result.protocol_name,
        assignment=result.assignment,
    )


HANDLER = Handler(ApiKey.SYNC_GROUP, 0, 5, handle)
