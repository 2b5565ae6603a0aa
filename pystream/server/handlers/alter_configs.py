"""AlterConfigs (key 33): replace a topic's config overrides as a whole."""

from __future__ import annotations

from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.alter_configs import AlterConfigsRequest, AlterConfigsResponse
from pystream.server.configs import ResourceType
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler
from pystream.server.topics import TopicError

Resp = AlterConfigsResponse


def resource_result(
    resource_type: int, name: str, err: TopicError | None
) -> AlterConfigsResponse.AlterConfigsResourceResponse:
    return Resp.AlterConfigsResourceResponse(
        error_code=int(err.code) if err else 0,
        error_message=err.message if err else None,
        resource_type=resource_type,
        resource_name=name,
    )


async def handle(ctx: RequestContext, request: AlterConfigsRequest) -> AlterConfigsResponse:
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
            new = {c.name: c.value for c in res.configs if c.value is not None}
            if request.validate_only:
                registry.logs.validate_topic_config(new)
            else:
                registry.set_topic_config(res.resource_name, new)
        except TopicError as e:
            err = e
        except ValueError as e:
            err = TopicError(ErrorCode.INVALID_CONFIG, str(e))
        responses.append(resource_result(res.resource_type, res.resource_name, err))
    return Resp(throttle_time_ms=0, responses=responses)


HANDLER = Handler(ApiKey.ALTER_CONFIGS, 0, 2, handle)
