"""DeleteTopics (key 20): by name (all versions) or by topic id (v6+)."""

from __future__ import annotations

import uuid

from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.delete_topics import DeleteTopicsRequest, DeleteTopicsResponse
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler
from pystream.server.topics import TopicError

Resp = DeleteTopicsResponse
ZERO_UUID = uuid.UUID(int=0)


async def handle(ctx: RequestContext, request: DeleteTopicsRequest) -> DeleteTopicsResponse:
    broker = ctx.broker
    registry = broker.topics
    assert registry is not None
    wanted: list[tuple[str | None, uuid.UUID]] = (
        [(t.name, t.topic_id) for t in request.topics]
        if ctx.api_version >= 6
        else [(name, ZERO_UUID) for name in request.topic_names]
    )
    results = []
    for name, topic_id in wanted:
        result = Resp.DeletableTopicResult(name=name, topic_id=topic_id, error_code=0)
        results.append(result)
        try:
            if name is None:
                topic = registry.by_id(topic_id)
                if topic is None:
                    raise TopicError(ErrorCode.UNKNOWN_TOPIC_ID, f"no topic with id {topic_id}")
                name = result.name = topic.name
            if not broker.config["delete.topic.enable"]:
                raise TopicError(ErrorCode.TOPIC_DELETION_DISABLED, "delete.topic.enable is false")
            topic = await broker.run_blocking(registry.delete, name)
            result.topic_id = topic.topic_id
        except TopicError as e:
            result.error_code = int(e.code)
            result.error_message = e.message
    return Resp(throttle_time_ms=0, responses=results)


HANDLER = Handler(ApiKey.DELETE_TOPICS, 0, 6, handle)
