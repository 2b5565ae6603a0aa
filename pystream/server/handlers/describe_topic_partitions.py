"""DescribeTopicPartitions (key 75): paginated topic descriptions (KIP-966).

Admin clients 3.7+ use it for describeTopics. Topics are served in name
order from the cursor; at most `response_partition_limit` partitions per
response, with a `next_cursor` where the listing stopped.
"""

from __future__ import annotations

from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.describe_topic_partitions import (
    DescribeTopicPartitionsRequest,
    DescribeTopicPartitionsResponse,
)
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler
from pystream.server.topics import TopicError, validate_topic_name

Resp = DescribeTopicPartitionsResponse
TopicResp = Resp.DescribeTopicPartitionsResponseTopic
PartResp = TopicResp.DescribeTopicPartitionsResponsePartition
AUTHORIZED_OPS_UNKNOWN = -2147483648
MAX_LIMIT = 2000


async def handle(
    ctx: RequestContext, request: DescribeTopicPartitionsRequest
) -> DescribeTopicPartitionsResponse:
    registry = ctx.broker.topics
    assert registry is not None
    node = ctx.broker.node_id
    names = sorted({t.name for t in request.topics} if request.topics else registry.topics)
    cursor = request.cursor
    if cursor is not None:
        names = [n for n in names if n >= cursor.topic_name]
    budget = max(1, min(request.response_partition_limit, MAX_LIMIT))
    topics = []
    next_cursor = None
    for name in names:
        topic = registry.get(name)
        if topic is None:
            try:
                validate_topic_name(name)
                code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            except TopicError as e:
                code = e.code
            topics.append(TopicResp(error_code=int(code), name=name, partitions=[]))
            continue
        start = cursor.partition_index if cursor is not None and name == cursor.topic_name else 0
        parts = []
        for p in topic.partitions[max(start, 0) :]:
            if budget == 0:
                next_cursor = Resp.Cursor(topic_name=name, partition_index=p.index)
                break
            parts.append(
                PartResp(
                    error_code=0,
                    partition_index=p.index,
                    leader_id=node,
                    leader_epoch=p.leader_epoch,
                    replica_nodes=[node],
                    isr_nodes=[node],
                    eligible_leader_replicas=[],
                    last_known_elr=[],
                    offline_replicas=[],
                )
            )
            budget -= 1
        topics.append(
            TopicResp(
                error_code=0,
                name=name,
                topic_id=topic.topic_id,
                is_internal=topic.is_internal,
                partitions=parts,
                topic_authorized_operations=AUTHORIZED_OPS_UNKNOWN,
            )
        )
        if next_cursor is not None:
            break
    return Resp(throttle_time_ms=0, topics=topics, next_cursor=next_cursor)


HANDLER = Handler(ApiKey.DESCRIBE_TOPIC_PARTITIONS, 0, 0, handle)
