"""OffsetFetch (key 9): committed offsets of a group (v8+: of several
groups), for the partitions asked or, with a null topic list, all of them.
A partition without a committed offset answers -1."""

from __future__ import annotations

from pystream.coordinator.results import PartitionOffset
from pystream.coordinator.service import group_coordinator
from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.offset_fetch import OffsetFetchRequest, OffsetFetchResponse
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler

Resp = OffsetFetchResponse
OldTopic = Resp.OffsetFetchResponseTopic
OldPart = OldTopic.OffsetFetchResponsePartition
Group = Resp.OffsetFetchResponseGroup
NewTopic = Group.OffsetFetchResponseTopics
NewPart = NewTopic.OffsetFetchResponsePartitions


def _by_topic(offsets: list[PartitionOffset]) -> dict[str, list[PartitionOffset]]:
    out: dict[str, list[PartitionOffset]] = {}
    for o in offsets:
        out.setdefault(o.topic, []).append(o)
    return out


async def handle(ctx: RequestContext, request: OffsetFetchRequest) -> OffsetFetchResponse:
    coordinator = group_coordinator(ctx.broker)
    version = ctx.api_version
    if version < 8:
        wanted = (
            None
            if request.topics is None
            else [(t.name, p) for t in request.topics for p in t.partition_indexes]
        )
        code, offsets = coordinator.fetch_offsets(request.group_id, wanted)
        if code != ErrorCode.NONE and version < 2:
            # v0-1 have no group-level error: it goes on every partition.
            offsets = [PartitionOffset(t, p, error=code) for t, p in wanted or []]
        topics = [
            OldTopic(
                name=name,
                partitions=[
                    OldPart(
                        partition_index=o.partition,
                        committed_offset=o.offset,
                        committed_leader_epoch=o.leader_epoch,
                        metadata=o.metadata,
                        error_code=int(o.error),
                    )
                    for o in parts
                ],
            )
            for name, parts in _by_topic(offsets).items()
        ]
        return Resp(throttle_time_ms=0, topics=topics, error_code=int(code))
    groups = []
    for g in request.groups:
        wanted = (
            None
            if g.topics is None
            else [(t.name, p) for t in g.topics for p in t.partition_indexes]
        )
        code, offsets = coordinator.fetch_offsets(g.group_id, wanted)
        groups.append(
            Group(
                group_id=g.group_id,
                error_code=int(code),
                topics=[
                    NewTopic(
                        name=name,
                        partitions=[
                            NewPart(
                                partition_index=o.partition,
                                committed_offset=o.offset,
                                committed_leader_epoch=o.leader_epoch,
                                metadata=o.metadata,
                                error_code=int(o.error),
                            )
                            for o in parts
                        ],
                    )
                    for name, parts in _by_topic(offsets).items()
                ],
            )
        )
    return Resp(throttle_time_ms=0, groups=groups)


HANDLER = Handler(ApiKey.OFFSET_FETCH, 0, 9, handle)
