"""IncrementalAlterConfigs (key 44): SET/DELETE/APPEND/SUBTRACT on topic configs."""

from __future__ import annotations

from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.incremental_alter_configs import (
    IncrementalAlterConfigsRequest,
    IncrementalAlterConfigsResponse,
)
from pystream.server.configs import ResourceType, apply_incremental
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler
from pystream.server.topics import TopicError

Resp = IncrementalAlterConfigsResponse


async def handle(
    ctx: RequestContext, request: IncrementalAlterConfigsRequest
) -> IncrementalAlterConfigsResponse:
    registry = ctx.broker.topics
    assert registry is not None
    responses = []
    for res in request.resources:
        err = None
        try:
            if res.resource_type != ResourceType.TOPIC:
                raise TopicError(
                    ErrorCode.INVALID_REQUEST, "only topic configs can be altered on this broker"
                )
            if registry.get(res.resource_name) is None:
                raise TopicError(
                    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
                    f"topic {res.resource_name!r} does not exist",
                )
            current = registry.logs.topic_overrides(res.resource_name)
            new = apply_incremental(
                {k: str(v) for k, v in current.items()},
                [(c.name, c.config_operation, c.value) for c in res.configs],
            )
            if request.validate_only:
                registry.logs.validate_topic_config(new)
            else:
                registry.set_topic_config(res.resource_name, new)
        except TopicError as e:
            err = e
        except ValueError as e:
            err = TopicError(ErrorCode.INVALID_CONFIG, str(e))
        responses.append(
            Resp.AlterConfigsResourceResponse(
                error_code=int(err.code) if err else 0,
                error_message=err.message if err else None,
                resource_type=res.resource_type,
                resource_name=res.resource_name,
            )
        )
    return Resp(throttle_time_ms=0, responses=responses)


HANDLER = Handler(ApiKey.INCREMENTAL_ALTER_CONFIGS, 0, 1, handle)
