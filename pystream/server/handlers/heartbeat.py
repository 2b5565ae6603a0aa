"""Heartbeat (key 12): keeps a member's session alive and tells it when a
rebalance has begun (REBALANCE_IN_PROGRESS)."""

from __future__ import annotations

from pystream.coordinator.service import group_coordinator
from pystream.protocol.api import ApiKey
from pystream.protocol.messages.heartbeat import HeartbeatRequest, HeartbeatResponse
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler


async def handle(ctx: RequestContext, request: HeartbeatRequest) -> HeartbeatResponse:
    code = group_coordinator(ctx.broker).heartbeat(
        request.group_id,
        request.member_id,
        request.group_instance_id if ctx.api_version >= 3 else None,
        request.generation_id,
    )
    return HeartbeatResponse(throttle_time_ms=0, error_code=int(code))


HANDLER = Handler(ApiKey.HEARTBEAT, 0, 4, handle)
