"""FindCoordinator (key 10): this broker coordinates every group.

Batched keys from v4. Group keys start the group coordinator (and create
`__consumer_offsets`) on first use. Transaction keys are answered only
once a transaction coordinator is registered; until then
COORDINATOR_NOT_AVAILABLE, which clients retry.
"""

from __future__ import annotations

import logging

from pystream.coordinator.service import group_coordinator
from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.find_coordinator import (
    FindCoordinatorRequest,
    FindCoordinatorResponse,
)
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler

log = logging.getLogger(__name__)

GROUP, TRANSACTION = 0, 1
Coordinator = FindCoordinatorResponse.Coordinator


def _find(ctx: RequestContext, key: str, key_type: int) -> Coordinator:
    broker = ctx.broker
    code, message = ErrorCode.NONE, None
    if key_type == GROUP:
        try:
            group_coordinator(broker)
        except Exception as e:  # e.g. the offsets topic could not be created
            log.warning("group coordinator unavailable: %s", e)
            code, message = ErrorCode.COORDINATOR_NOT_AVAILABLE, str(e)
    elif key_type == TRANSACTION:
        if "transaction_coordinator" not in broker.services:
            code = ErrorCode.COORDINATOR_NOT_AVAILABLE
    else:
        code, message = ErrorCode.INVALID_REQUEST, f"unknown key type {key_type}"
    if code != ErrorCode.NONE:
        return Coordinator(
            key=key, node_id=-1, host="", port=-1, error_code=int(code), error_message=message
        )
    host, port = broker.advertised_host_port
    return Coordinator(
        key=key, node_id=broker.node_id, host=host, port=port, error_code=0, error_message=None
    )


async def handle(ctx: RequestContext, request: FindCoordinatorRequest) -> FindCoordinatorResponse:
    version = ctx.api_version
    key_type = request.key_type if version >= 1 else GROUP
    if version >= 4:
        found = [_find(ctx, key, key_type) for key in request.coordinator_keys]
        return FindCoordinatorResponse(throttle_time_ms=0, coordinators=found)
    one = _find(ctx, request.key, key_type)
    return FindCoordinatorResponse(
        throttle_time_ms=0,
        error_code=one.error_code,
        error_message=one.error_message,
        node_id=one.node_id,
        host=one.host,
        port=one.port,
    )


HANDLER = Handler(ApiKey.FIND_COORDINATOR, 0, 6, handle)
