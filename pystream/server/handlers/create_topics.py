"""CreateTopics (key 19)."""

from __future__ import annotations

from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.create_topics import CreateTopicsRequest, CreateTopicsResponse
from pystream.server.configs import describe_topic
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler
from pystream.server.topics import TopicError, validate_topic_name

Resp = CreateTopicsResponse


async def handle(ctx: RequestContext, request: CreateTopicsRequest) -> CreateTopicsResponse:
    broker = ctx.broker
    registry = broker.topics
    assert registry is not None
    results = []
    seen: set[str] = set()
    for t in request.topics:
        result = Resp.CreatableTopicResult(name=t.name, error_code=0, error_message=None)
        results.append(result)
        try:
            if t.name in seen:
                raise TopicError(ErrorCode.INVALID_REQUEST, f"topic {t.name!r} appears twice")
            seen.add(t.name)
            validate_topic_name(t.name)
            if registry.get(t.name) is not None:
                raise TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, f"topic {t.name!r} already exists")
            if t.assignments:
                num = len(t.assignments)
                for a in t.assignments:
                    if any(b != broker.node_id for b in a.broker_ids):
                        raise TopicError(
                            ErrorCode.INVALID_REPLICA_ASSIGNMENT,
                            f"only broker {broker.node_id} exists",
                        )
            else:
                num = (
                    t.num_partitions if t.num_partitions != -1 else broker.config["num.partitions"]
                )
            rf = t.replication_factor
            if rf == -1:
                rf = 1
            if rf != 1:
                raise TopicError(
                    ErrorCode.INVALID_REPLICATION_FACTOR,
                    f"replication factor {rf} is larger than the 1 available broker",
                )
            registry.check_partition_count(num)
            configs = {c.name: c.value for c in t.configs if c.value is not None}
            if request.validate_only:
                registry.logs.validate_topic_config(configs)
            else:
                topic = await registry.create_async(t.name, num, configs, ctx.broker.run_blocking)
                result.topic_id = topic.topic_id
            result.num_partitions = num
            result.replication_factor = 1
            if ctx.api_version >= 5 and not request.validate_only:
                result.configs = [
                    Resp.CreatableTopicResult.CreatableTopicConfigs(
                        name=e.name,
                        value=e.value,
                        read_only=e.read_only,
                        config_source=int(e.source),
                        is_sensitive=False,
                    )
                    for e in describe_topic(registry, t.name, None)
                ]
        except TopicError as e:
            result.error_code = int(e.code)
            result.error_message = e.message
        except ValueError as e:
            result.error_code = int(ErrorCode.INVALID_CONFIG)
            result.error_message = str(e)
    return Resp(throttle_time_ms=0, topics=results)


HANDLER = Handler(ApiKey.CREATE_TOPICS, 0, 7, handle)
