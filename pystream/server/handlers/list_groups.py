"""ListGroups (key 16): every group, optionally filtered by state (v4+)
and type (v5+; all groups here are "classic")."""

from __future__ import annotations

from pystream.coordinator.results import CoordinatorError
from pystream.coordinator.service import group_coordinator
from pystream.protocol.api import ApiKey
from pystream.protocol.messages.list_groups import ListGroupsRequest, ListGroupsResponse
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler

Listed = ListGroupsResponse.ListedGroup
GROUP_TYPE = "classic"


async def handle(ctx: RequestContext, request: ListGroupsRequest) -> ListGroupsResponse:
    version = ctx.api_version
    types = {t.lower() for t in request.types_filter} if version >= 5 else set()
    if types and GROUP_TYPE not in types:
        return ListGroupsResponse(throttle_time_ms=0, error_code=0, groups=[])
    try:
        listing = group_coordinator(ctx.broker).list_groups(
            request.states_filter if version >= 4 else None
        )
    except CoordinatorError as e:
        return ListGroupsResponse(throttle_time_ms=0, error_code=int(e.code), groups=[])
    return ListGroupsResponse(
        throttle_time_ms=0,
        error_code=0,
        groups=[
            Listed(
                group_id=g.group_id,
                protocol_type=g.protocol_type,
                group_state=g.state,
                group_type=GROUP_TYPE,
            )
            for g in listing
        ],
    )


HANDLER = Handler(ApiKey.LIST_GROUPS, 0, 5, handle)
