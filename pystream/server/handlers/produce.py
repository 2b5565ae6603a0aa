"""Produce (key 0): validate, dedupe and append record batches per partition.

Advertised from v0 as Kafka 4 does (librdkafka keys its compression features
off the advertised range) while only v3+ can carry RecordBatch v2: older
payloads (message format v0/v1) get UNSUPPORTED_VERSION per partition. acks=0 gets no
response; on a single node acks=1 and acks=-1 both answer once written.
"""

from __future__ import annotations

from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.produce import ProduceRequest, ProduceResponse
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler

Resp = ProduceResponse
TopicResp = ProduceResponse.TopicProduceResponse
PartResp = TopicResp.PartitionProduceResponse


def _error(index: int, code: ErrorCode, message: str | None = None) -> PartResp:
    return PartResp(index=index, error_code=int(code), base_offset=-1, error_message=message)


async def handle(ctx: RequestContext, request: ProduceRequest) -> ProduceResponse | None:
    registry = ctx.broker.topics
    assert registry is not None
    acks = request.acks
    responses = []
    for topic_data in request.topic_data:
        parts = []
        for pdata in topic_data.partition_data:
            if ctx.api_version < 3:
                # v0-2 carry message sets v0/v1, which Kafka 4 no longer serves.
                parts.append(_error(pdata.index, ErrorCode.UNSUPPORTED_VERSION))
                continue
            if acks not in (-1, 0, 1):
                parts.append(_error(pdata.index, ErrorCode.INVALID_REQUIRED_ACKS))
                continue
            partition = registry.partition(topic_data.name, pdata.index)
            if partition is None:
                parts.append(_error(pdata.index, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION))
                continue
            result = await partition.append_async(pdata.records)  # type: ignore[arg-type]
            parts.append(
                PartResp(
                    index=pdata.index,
                    error_code=int(result.error),
                    base_offset=result.base_offset,
                    log_append_time_ms=result.log_append_time,
                    log_start_offset=result.log_start_offset,
                    error_message=result.message,
                )
            )
        responses.append(TopicResp(name=topic_data.name, partition_responses=parts))
    if acks == 0:
        return None
    return Resp(responses=responses, throttle_time_ms=0)


HANDLER = Handler(ApiKey.PRODUCE, 0, 11, handle)
