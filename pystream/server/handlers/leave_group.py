"""LeaveGroup (key 13): members leave at once, starting a rebalance for the
rest. v3+ remove several members (by member id or group.instance.id)."""

from __future__ import annotations

from pystream.coordinator.service import group_coordinator
from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.leave_group import LeaveGroupRequest, LeaveGroupResponse
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler

MemberResponse = LeaveGroupResponse.MemberResponse


async def handle(ctx: RequestContext, request: LeaveGroupRequest) -> LeaveGroupResponse:
    coordinator = group_coordinator(ctx.broker)
    if ctx.api_version < 3:
        top, errors = coordinator.leave_group(request.group_id, [(request.member_id, None)])
        code = top if top != ErrorCode.NONE else errors[0]
        return LeaveGroupResponse(throttle_time_ms=0, error_code=int(code))
    leaving = [(m.member_id, m.group_instance_id) for m in request.members]
    top, errors = coordinator.leave_group(request.group_id, leaving)
    members = (
        [
            MemberResponse(member_id=mid, group_instance_id=iid, error_code=int(err))
            for (mid, iid), err in zip(leaving, errors, strict=True)
        ]
        if top == ErrorCode.NONE
        else []
    )
    return LeaveGroupResponse(throttle_time_ms=0, error_code=int(top), members=members)


HANDLER = Handler(ApiKey.LEAVE_GROUP, 0, 5, handle)
