"""DescribeGroups (key 15): state, protocol, members and their assignments.
An unknown group is described as Dead, as Kafka does before v6."""

from __future__ import annotations

from pystream.coordinator.service import group_coordinator
from pystream.protocol.api import ApiKey
from pystream.protocol.messages.describe_groups import (
    DescribeGroupsRequest,
    DescribeGroupsResponse,
)
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler

Described = DescribeGroupsResponse.DescribedGroup
DescribedMember = Described.DescribedGroupMember
AUTHORIZED_OPS_UNKNOWN = -2147483648


async def handle(ctx: RequestContext, request: DescribeGroupsRequest) -> DescribeGroupsResponse:
    coordinator = group_coordinator(ctx.broker)
    groups = []
    for group_id in request.groups:
        d = coordinator.describe_group(group_id)
        groups.append(
            Described(
                error_code=int(d.error),
                group_id=d.group_id,
                group_state=d.state,
                protocol_type=d.protocol_type,
                protocol_data=d.protocol_name,
                members=[
                    DescribedMember(
                        member_id=m.member_id,
                        group_instance_id=m.group_instance_id,
                        client_id=m.client_id,
                        client_host=m.client_host,
                        member_metadata=m.metadata,
                        member_assignment=m.assignment,
                    )
                    for m in d.members
                ],
                authorized_operations=AUTHORIZED_OPS_UNKNOWN,
            )
        )
    return DescribeGroupsResponse(throttle_time_ms=0, groups=groups)


HANDLER = Handler(ApiKey.DESCRIBE_GROUPS, 0, 5, handle)
