"""Fetch (key 1): long-poll reads, records sent as file slices (zero copy).

Semantics follow Kafka: a partition's data starts at the batch holding the
fetch offset; the first partition with data returns at least one whole batch
even above the byte limits (KIP-74), later ones only what fits; the request
waits up to max_wait_ms for min_bytes. Fetch sessions are not kept: every
response has session id 0, which clients treat as "full fetch each time".
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.fetch import FetchRequest, FetchResponse
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler

Resp = FetchResponse
TopicResp = FetchResponse.FetchableTopicResponse
PartData = TopicResp.PartitionData
ZERO_UUID = uuid.UUID(int=0)


def _collect(ctx: RequestContext, request: FetchRequest) -> tuple[list[Any], int, list[Any]]:
    """One pass over the requested partitions: (responses, bytes, partitions)."""
    registry = ctx.broker.topics
    assert registry is not None
    use_ids = ctx.api_version >= 13
    budget = request.max_bytes if ctx.api_version >= 3 else 2**31 - 1
    total = 0
    served: list[Any] = []
    responses = []
    for ftopic in request.topics:
        topic = registry.by_id(ftopic.topic_id) if use_ids else registry.get(ftopic.topic)
        parts = []
        for fp in ftopic.partitions:
            pd = PartData(partition_index=fp.partition, records=b"")
            partition = None
            if topic is not None and 0 <= fp.partition < len(topic.partitions):
                partition = topic.partitions[fp.partition]
            if partition is None:
                pd.error_code = int(
                    ErrorCode.UNKNOWN_TOPIC_ID
                    if use_ids and topic is None
                    else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
                )
                pd.high_watermark = -1
                parts.append(pd)
                continue
            served.append(partition)
            hw = partition.high_watermark
            pd.high_watermark = hw
            pd.last_stable_offset = partition.last_stable_offset
            pd.log_start_offset = partition.log_start_offset
            offset = fp.fetch_offset
            if offset < partition.log_start_offset or offset > partition.log_end_offset:
                pd.error_code = int(ErrorCode.OFFSET_OUT_OF_RANGE)
            elif offset < hw:
                limit = min(fp.partition_max_bytes, max(budget - total, 0))
                if limit > 0 or total == 0:
                    region = partition.read(offset, max(limit, 1), hw)
                    if region is not None and (total == 0 or region.length <= limit):
                        pd.records = region
                        total += region.length
            parts.append(pd)
        responses.append(
            TopicResp(
                topic=ftopic.topic if not use_ids else (topic.name if topic else ""),
                topic_id=ftopic.topic_id if use_ids else ZERO_UUID,
                partitions=parts,
            )
        )
    return responses, total, served


async def handle(ctx: RequestContext, request: FetchRequest) -> FetchResponse:
    responses, total, served = _collect(ctx, request)
    wait_ms = request.max_wait_ms
    if total < max(request.min_bytes, 1) and wait_ms > 0 and served:
        loop = asyncio.get_running_loop()
        waiters = [p.waiter() for p in served]
        try:
            await asyncio.wait(waiters, timeout=wait_ms / 1000, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for p, w in zip(served, waiters, strict=True):
                p.discard_waiter(w)
                if not w.done():
                    w.cancel()
        del loop
        responses, total, served = _collect(ctx, request)
    return Resp(throttle_time_ms=0, error_code=0, session_id=0, responses=responses)


HANDLER = Handler(ApiKey.FETCH, 4, 17, handle)
