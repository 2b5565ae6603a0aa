"""DeleteGroups (key 42): removes empty groups and their offsets
(NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND if unknown)."""

from __future__ import annotations

from pystream.coordinator.service import group_coordinator
from pystream.protocol.api import ApiKey
from pystream.protocol.messages.delete_groups import DeleteGroupsRequest, DeleteGroupsResponse
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler

Result = DeleteGroupsResponse.DeletableGroupResult


async def handle(ctx: RequestContext, request: DeleteGroupsRequest) -> DeleteGroupsResponse:
    coordinator = group_coordinator(ctx.broker)
    return DeleteGroupsResponse(
        throttle_time_ms=0,
        results=[
            Result(group_id=g, error_code=int(coordinator.delete_group(g)))
            for g in request.groups_names
        ],
    )


HANDLER = Handler(ApiKey.DELETE_GROUPS, 0, 2, handle)
