"""OffsetCommit (key 8): stores committed offsets (with metadata) in
`__consumer_offsets`. Partitions of topics the broker does not have get
UNKNOWN_TOPIC_OR_PARTITION; the rest are committed as one write."""

from __future__ import annotations

from pystream.coordinator.results import CommitRequestPartition
from pystream.coordinator.service import group_coordinator
from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.offset_commit import OffsetCommitRequest, OffsetCommitResponse
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler

TopicResp = OffsetCommitResponse.OffsetCommitResponseTopic
PartResp = TopicResp.OffsetCommitResponsePartition


async def handle(ctx: RequestContext, request: OffsetCommitRequest) -> OffsetCommitResponse:
    version = ctx.api_version
    registry = ctx.broker.topics
    assert registry is not None
    # (topic index, partition index, error) per requested partition, in order.
    results: list[list[int]] = []
    wanted: list[CommitRequestPartition] = []
    slots: list[tuple[int, int]] = []
    for ti, topic in enumerate(request.topics):
        row = []
        for pi, p in enumerate(topic.partitions):
            if registry.partition(topic.name, p.partition_index) is None:
                row.append(int(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION))
                continue
            row.append(0)
            slots.append((ti, pi))
            wanted.append(
                CommitRequestPartition(
                    topic=topic.name,
                    partition=p.partition_index,
                    offset=p.committed_offset,
                    leader_epoch=p.committed_leader_epoch if version >= 6 else -1,
                    metadata=p.committed_metadata,
                    commit_timestamp=p.commit_timestamp if version == 1 else -1,
                )
            )
        results.append(row)
    if wanted:
        errors = group_coordinator(ctx.broker).commit_offsets(
            request.group_id,
            request.generation_id_or_member_epoch if version >= 1 else -1,
            request.member_id if version >= 1 else "",
            request.group_instance_id if version >= 7 else None,
            wanted,
            retention_ms=request.retention_time_ms if 2 <= version <= 4 else -1,
            api_version=version,
        )
        for (ti, pi), err in zip(slots, errors, strict=True):
            results[ti][pi] = int(err)
    return OffsetCommitResponse(
        throttle_time_ms=0,
        topics=[
            TopicResp(
                name=topic.name,
                partitions=[
                    PartResp(partition_index=p.partition_index, error_code=err)
                    for p, err in zip(topic.partitions, row, strict=True)
                ],
            )
            for topic, row in zip(request.topics, results, strict=True)
        ],
    )


HANDLER = Handler(ApiKey.OFFSET_COMMIT, 0, 9, handle)
