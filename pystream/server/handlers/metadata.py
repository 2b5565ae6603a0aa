"""Metadata (key 3): brokers, topics and partition leaders; auto-creates topics."""

from __future__ import annotations

import uuid

from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.metadata import MetadataRequest, MetadataResponse
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler
from pystream.server.topics import Topic, TopicError, validate_topic_name

Resp = MetadataResponse
TopicResp = MetadataResponse.MetadataResponseTopic
PartResp = TopicResp.MetadataResponsePartition
ZERO_UUID = uuid.UUID(int=0)
AUTHORIZED_OPS_UNKNOWN = -2147483648


def topic_entry(ctx: RequestContext, topic: Topic) -> TopicResp:
    node = ctx.broker.node_id
    return TopicResp(
        error_code=0,
        name=topic.name,
        topic_id=topic.topic_id,
        is_internal=topic.is_internal,
        partitions=[
            PartResp(
                error_code=0,
                partition_index=p.index,
                leader_id=node,
                leader_epoch=p.leader_epoch,
                replica_nodes=[node],
                isr_nodes=[node],
                offline_replicas=[],
            )
            for p in topic.partitions
        ],
        topic_authorized_operations=AUTHORIZED_OPS_UNKNOWN,
    )


def error_entry(name: str | None, code: ErrorCode, topic_id: uuid.UUID = ZERO_UUID) -> TopicResp:
    return TopicResp(
        error_code=int(code), name=name, topic_id=topic_id, is_internal=False, partitions=[]
    )


async def handle(ctx: RequestContext, request: MetadataRequest) -> MetadataResponse:
    broker = ctx.broker
    registry = broker.topics
    assert registry is not None
    version = ctx.api_version
    wanted = request.topics
    if wanted is None or (version == 0 and not wanted):
        entries = [topic_entry(ctx, t) for t in registry.topics.values()]
    else:
        entries = []
        auto = request.allow_auto_topic_creation and broker.config["auto.create.topics.enable"]
        for req in wanted:
            name = req.name
            if name is None:
                found = registry.by_id(req.topic_id)
                entries.append(
                    topic_entry(ctx, found)
                    if found
                    else error_entry(
                        None if version >= 12 else "", ErrorCode.UNKNOWN_TOPIC_ID, req.topic_id
                    )
                )
                continue
            topic = registry.get(name)
            if topic is None and auto:
                try:
                    validate_topic_name(name)
                    topic = await registry.create_async(
                        name, broker.config["num.partitions"], None, broker.run_blocking
                    )
                except TopicError as e:
                    # Another request is creating it right now: retriable, as in Kafka.
                    busy: ErrorCode = (
                        ErrorCode.LEADER_NOT_AVAILABLE
                        if e.code == ErrorCode.TOPIC_ALREADY_EXISTS
                        else e.code
                    )
                    entries.append(error_entry(name, busy))
                    continue
            if topic is None:
                try:
                    validate_topic_name(name)
                    code = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                except TopicError as e:
                    code = e.code
                entries.append(error_entry(name, code))
            else:
                entries.append(topic_entry(ctx, topic))
    host, port = broker.advertised_host_port
    return Resp(
        throttle_time_ms=0,
        brokers=[
            Resp.MetadataResponseBroker(node_id=broker.node_id, host=host, port=port, rack=None)
        ],
        cluster_id=broker.cluster_id,
        controller_id=broker.node_id,
        topics=entries,
        cluster_authorized_operations=AUTHORIZED_OPS_UNKNOWN,
    )


HANDLER = Handler(ApiKey.METADATA, 0, 12, handle)
