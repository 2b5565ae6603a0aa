"""Fetch (key 1): long-poll reads, records sent as file slices (zero copy).

Semantics follow Kafka: a partition's data starts at the batch holding the
fetch offset; the first partition with data returns at least one whole batch
even above the byte limits (KIP-74), later ones only what fits; the request
waits up to max_wait_ms for min_bytes. From v7 clients may keep an
incremental fetch session (KIP-227, server/fetch_session.py).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.fetch import FetchRequest, FetchResponse
from pystream.server.dispatcher import RequestContext
from pystream.server.fetch_session import (
    FINAL_EPOCH,
    INITIAL_EPOCH,
    FetchSession,
    FetchSessionCache,
    SessionError,
    SessionPartition,
)
from pystream.server.handlers import Handler
from pystream.server.partition import Partition

Resp = FetchResponse
TopicResp = FetchResponse.FetchableTopicResponse
PartData = TopicResp.PartitionData
ZERO_UUID = uuid.UUID(int=0)


@dataclass
class _Item:
    key: tuple[Any, int]  # (topic name, or topic id from v13, partition)
    fetch_offset: int
    max_bytes: int


def _sessions(ctx: RequestContext) -> FetchSessionCache:
    cache = ctx.broker.services.get("fetch_sessions")
    if cache is None:
        slots = ctx.broker.config["max.incremental.fetch.session.cache.slots"]
        cache = ctx.broker.services["fetch_sessions"] = FetchSessionCache(slots)
    return cache


def _requested(request: FetchRequest, use_ids: bool) -> list[_Item]:
    return [
        _Item(
            (ft.topic_id if use_ids else ft.topic, fp.partition),
            fp.fetch_offset,
            fp.partition_max_bytes,
        )
        for ft in request.topics
        for fp in ft.partitions
    ]


def _update_session(session: FetchSession, request: FetchRequest, use_ids: bool) -> None:
    for item in _requested(request, use_ids):
        sp = session.partitions.get(item.key)
        if sp is None:
            session.partitions[item.key] = SessionPartition(item.fetch_offset, item.max_bytes)
        else:
            sp.fetch_offset, sp.max_bytes = item.fetch_offset, item.max_bytes
    for forgotten in request.forgotten_topics_data:
        topic = forgotten.topic_id if use_ids else forgotten.topic
        for p in forgotten.partitions:
            session.partitions.pop((topic, p), None)


class _Collector:
    """One pass over the fetched partitions: what to answer and what was read."""

    def __init__(self, ctx: RequestContext, budget: int) -> None:
        self.ctx = ctx
        self.use_ids = ctx.api_version >= 13
        self.budget = budget
        self.total = 0
        self.served: list[Partition] = []

    def partition_data(self, item: _Item) -> tuple[Any, Partition | None]:
        registry = self.ctx.broker.topics
        assert registry is not None
        topic_key, index = item.key
        topic = registry.by_id(topic_key) if self.use_ids else registry.get(topic_key)
        pd = PartData(partition_index=index, records=b"")
        if topic is None or not 0 <= index < len(topic.partitions):
            pd.error_code = int(
                ErrorCode.UNKNOWN_TOPIC_ID
                if self.use_ids and topic is None
                else ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
            )
            pd.high_watermark = -1
            return pd, None
        partition = topic.partitions[index]
        self.served.append(partition)
        hw = partition.high_watermark
        pd.high_watermark = hw
        pd.last_stable_offset = partition.last_stable_offset
        pd.log_start_offset = partition.log_start_offset
        offset = item.fetch_offset
        if offset < partition.log_start_offset or offset > partition.log_end_offset:
            pd.error_code = int(ErrorCode.OFFSET_OUT_OF_RANGE)
        elif offset < hw:
            limit = min(item.max_bytes, max(self.budget - self.total, 0))
            if limit > 0 or self.total == 0:
                region = partition.read(offset, max(limit, 1), hw)
                if region is not None and (self.total == 0 or region.length <= limit):
                    pd.records = region
                    self.total += region.length
        return pd, partition


def _respond(
    ctx: RequestContext,
    items: list[_Item],
    budget: int,
    session: FetchSession | None,
    incremental: bool,
    commit: bool,
) -> tuple[list[Any], _Collector]:
    collector = _Collector(ctx, budget)
    by_topic: dict[Any, list[Any]] = {}
    for item in items:
        pd, _ = collector.partition_data(item)
        if session is not None:
            state = (pd.high_watermark, pd.last_stable_offset, pd.log_start_offset)
            if incremental and not (
                pd.error_code or len(pd.records) or session.changed(item.key, *state)
            ):
                continue
            if commit:
                session.record_sent(item.key, *state)
        by_topic.setdefault(item.key[0], []).append(pd)
    responses = []
    registry = ctx.broker.topics
    assert registry is not None
    for topic_key, parts in by_topic.items():
        if collector.use_ids:
            found = registry.by_id(topic_key)
            responses.append(
                TopicResp(topic=found.name if found else "", topic_id=topic_key, partitions=parts)
            )
        else:
            responses.append(TopicResp(topic=topic_key, topic_id=ZERO_UUID, partitions=parts))
    return responses, collector


async def handle(ctx: RequestContext, request: FetchRequest) -> FetchResponse:
    version = ctx.api_version
    use_ids = version >= 13
    budget = request.max_bytes if version >= 3 else 2**31 - 1
    session: FetchSession | None = None
    incremental = False
    if version >= 7:
        cache = _sessions(ctx)
        sid, epoch = request.session_id, request.session_epoch
        if epoch in (FINAL_EPOCH, INITIAL_EPOCH):
            if sid:
                cache.close(sid)
            if epoch == INITIAL_EPOCH:
                session = cache.new()
                if session is not None:
                    _update_session(session, request, use_ids)
        else:
            try:
                session = cache.get(sid, epoch)
            except SessionError as e:
                return Resp(throttle_time_ms=0, error_code=int(e.code), session_id=0, responses=[])
            _update_session(session, request, use_ids)
            incremental = True
    items = (
        [_Item(key, sp.fetch_offset, sp.max_bytes) for key, sp in session.partitions.items()]
        if session is not None
        else _requested(request, use_ids)
    )
    responses, collector = _respond(ctx, items, budget, session, incremental, commit=False)
    wait_ms = request.max_wait_ms
    waited = False
    if collector.total < max(request.min_bytes, 1) and wait_ms > 0 and collector.served:
        waited = True
        waiters = [p.waiter() for p in collector.served]
        try:
            await asyncio.wait(waiters, timeout=wait_ms / 1000, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for p, w in zip(collector.served, waiters, strict=True):
                p.discard_waiter(w)
                if not w.done():
                    w.cancel()
    if session is not None or waited:
        responses, collector = _respond(ctx, items, budget, session, incremental, commit=True)
    return Resp(
        throttle_time_ms=0,
        error_code=0,
        session_id=session.id if session is not None else 0,
        responses=responses,
    )


HANDLER = Handler(ApiKey.FETCH, 4, 17, handle)
