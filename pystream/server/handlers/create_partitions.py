"""CreatePartitions (key 37): grow a topic's partition count."""

from __future__ import annotations

from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.create_partitions import (
    CreatePartitionsRequest,
    CreatePartitionsResponse,
)
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler
from pystream.server.topics import TopicError

Resp = CreatePartitionsResponse


async def handle(ctx: RequestContext, request: CreatePartitionsRequest) -> CreatePartitionsResponse:
    registry = ctx.broker.topics
    assert registry is not None
    results = []
    for t in request.topics:
        result = Resp.CreatePartitionsTopicResult(name=t.name, error_code=0, error_message=None)
        results.append(result)
        try:
            topic = registry.get(t.name)
            if topic is None:
                raise TopicError(
                    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"topic {t.name!r} does not exist"
                )
            if t.count <= len(topic.partitions):
                raise TopicError(
                    ErrorCode.INVALID_PARTITIONS,
                    f"topic {t.name!r} has {len(topic.partitions)} partitions; {t.count} is not more",
                )
            if t.assignments is not None and len(t.assignments) != t.count - len(topic.partitions):
                raise TopicError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, "assignment count mismatch")
            if not request.validate_only:
                registry.add_partitions(t.name, t.count)
        except TopicError as e:
            result.error_code = int(e.code)
            result.error_message = e.message
    return Resp(throttle_time_ms=0, results=results)


HANDLER = Handler(ApiKey.CREATE_PARTITIONS, 0, 3, handle)
