"""DescribeConfigs (key 32): topic and broker configs with their sources."""

from __future__ import annotations

from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.describe_configs import (
    DescribeConfigsRequest,
    DescribeConfigsResponse,
)
from pystream.server.configs import ConfigEntry, ResourceType, describe_broker, describe_topic
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler
from pystream.server.topics import TopicError

Resp = DescribeConfigsResponse
ResultEntry = DescribeConfigsResponse.DescribeConfigsResult.DescribeConfigsResourceResult


def _entry(e: ConfigEntry, synonyms: bool, version: int) -> ResultEntry:
    entry = ResultEntry(name=e.name, value=e.value, read_only=e.read_only, is_sensitive=False)
    if version == 0:
        entry.is_default = e.is_default
    else:
        entry.config_source = int(e.source)
        if synonyms:
            entry.synonyms = [
                ResultEntry.DescribeConfigsSynonym(name=e.name, value=e.value, source=int(e.source))
            ]
    if version >= 3:
        entry.config_type = int(e.config_type)
    return entry


async def handle(ctx: RequestContext, request: DescribeConfigsRequest) -> DescribeConfigsResponse:
    broker = ctx.broker
    registry = broker.topics
    assert registry is not None
    results = []
    for res in request.resources:
        result = Resp.DescribeConfigsResult(
            error_code=0,
            error_message=None,
            resource_type=res.resource_type,
            resource_name=res.resource_name,
            configs=[],
        )
        results.append(result)
        keys = res.configuration_keys
        try:
            if res.resource_type == ResourceType.TOPIC:
                entries = describe_topic(registry, res.resource_name, keys)
            elif res.resource_type == ResourceType.BROKER:
                if res.resource_name not in ("", str(broker.node_id)):
                    raise TopicError(
                        ErrorCode.INVALID_REQUEST, f"unknown broker {res.resource_name!r}"
                    )
                entries = describe_broker(broker.config, keys)
            else:
                raise TopicError(
                    ErrorCode.INVALID_REQUEST,
                    f"resource type {res.resource_type} is not supported",
                )
            result.configs = [_entry(e, request.include_synonyms, ctx.api_version) for e in entries]
        except TopicError as e:
            result.error_code = int(e.code)
            result.error_message = e.message
    return Resp(throttle_time_ms=0, results=results)


HANDLER = Handler(ApiKey.DESCRIBE_CONFIGS, 0, 4, handle)
