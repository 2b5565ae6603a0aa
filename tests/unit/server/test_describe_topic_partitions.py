import asyncio
from typing import Any

from pystream.protocol.messages.describe_topic_partitions import (
    DescribeTopicPartitionsRequest as Req,
)
from pystream.server.handlers.describe_topic_partitions import handle


def _call(broker: Any, make_ctx: Any, request: Req) -> Any:
    return asyncio.run(handle(make_ctx(broker, 75, 0), request))


def test_pages_through_partitions_with_cursors(broker: Any, make_ctx: Any) -> None:
    if broker.topics.get("paged") is None:
        broker.topics.create("paged", 5)
    seen = []
    cursor = None
    for _ in range(10):
        resp = _call(
            broker,
            make_ctx,
            Req(topics=[Req.TopicRequest(name="paged")], response_partition_limit=2, cursor=cursor),
        )
        [topic] = resp.topics
        assert topic.error_code == 0
        seen += [p.partition_index for p in topic.partitions]
        if resp.next_cursor is None:
            break
        cursor = Req.Cursor(
            topic_name=resp.next_cursor.topic_name,
            partition_index=resp.next_cursor.partition_index,
        )
    assert seen == [0, 1, 2, 3, 4]


def test_unknown_and_invalid_names(broker: Any, make_ctx: Any) -> None:
    resp = _call(
        broker, make_ctx, Req(topics=[Req.TopicRequest(name="nope"), Req.TopicRequest(name="a/b")])
    )
    codes = {t.name: t.error_code for t in resp.topics}
    assert codes == {"nope": 3, "a/b": 17}
