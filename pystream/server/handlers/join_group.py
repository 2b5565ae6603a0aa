"""JoinGroup (key 11): a member joins (or rejoins) a classic group.

The response waits for the join round to end; see pystream.coordinator.
v4+ new members first get MEMBER_ID_REQUIRED with their id; v5+ carry
group.instance.id (static membership); v9 may tell a returning static
leader to skip the assignment.
"""

from __future__ import annotations

from pystream.coordinator.results import JoinParams
from pystream.coordinator.service import client_host, group_coordinator
from pystream.protocol.api import ApiKey
from pystream.protocol.messages.join_group import JoinGroupRequest, JoinGroupResponse
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler

Member = JoinGroupResponse.JoinGroupResponseMember


async def handle(ctx: RequestContext, request: JoinGroupRequest) -> JoinGroupResponse:
    version = ctx.api_version
    params = JoinParams(
        group_id=request.group_id,
        member_id=request.member_id,
        group_instance_id=request.group_instance_id if version >= 5 else None,
        client_id=ctx.client_id,
        client_host=client_host(ctx),
        session_timeout_ms=request.session_timeout_ms,
        # v0 has no rebalance timeout: Kafka uses the session timeout.
        rebalance_timeout_ms=request.rebalance_timeout_ms if version >= 1 else -1,
        protocol_type=request.protocol_type,
        protocols=[(p.name, bytes(p.metadata)) for p in request.protocols],
        require_known_member_id=version >= 4,
        supports_skip_assignment=version >= 9,
        reason=request.reason if version >= 8 else None,
    )
    result = await group_coordinator(ctx.broker).join_group(params)
    return JoinGroupResponse(
        throttle_time_ms=0,
        error_code=int(result.error),
        generation_id=result.generation_id,
        protocol_type=result.protocol_type,
        protocol_name=result.protocol_name if version >= 7 else (result.protocol_name or ""),
        leader=result.leader_id,
        skip_assignment=result.skip_assignment and version >= 9,
        member_id=result.member_id,
        members=[
            Member(
                member_id=m.member_id, group_instance_id=m.group_instance_id, metadata=m.metadata
            )
            for m in result.members
        ],
    )


HANDLER = Handler(ApiKey.JOIN_GROUP, 0, 9, handle)
