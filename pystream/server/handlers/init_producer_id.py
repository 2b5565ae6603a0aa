"""InitProducerId (key 22): producer ids for idempotent producers.

Ids come from a block reserved in `producer-ids` in the data dir (fsynced
before use), so they stay unique across restarts. A producer that presents
its current id and epoch (KIP-360) gets the epoch bumped. Transactional ids
need the transaction coordinator, which does not exist yet: such requests
are refused with INVALID_REQUEST and a log line.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.init_producer_id import (
    InitProducerIdRequest,
    InitProducerIdResponse,
)
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler

log = logging.getLogger(__name__)
BLOCK = 1000
MAX_EPOCH = 32767


class ProducerIdManager:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._next = 0
        self._limit = 0

    def _reserve(self) -> None:
        start = 0
        try:
            start = int(self.path.read_text().strip())
        except (OSError, ValueError):
            start = 0
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            f.write(str(start + BLOCK))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        self._next, self._limit = start, start + BLOCK

    def next_id(self) -> int:
        if self._next >= self._limit:
            self._reserve()
        pid = self._next
        self._next += 1
        return pid


async def handle(ctx: RequestContext, request: InitProducerIdRequest) -> InitProducerIdResponse:
    if request.transactional_id is not None:
        log.warning(
            "client %s asked for transactional id %r: transactions are not supported yet",
            ctx.client_id,
            request.transactional_id,
        )
        return InitProducerIdResponse(
            error_code=int(ErrorCode.INVALID_REQUEST), producer_id=-1, producer_epoch=-1
        )
    broker = ctx.broker
    manager = broker.services.get("producer_ids")
    if manager is None:
        manager = broker.services["producer_ids"] = ProducerIdManager(
            broker.config.data_dir / "producer-ids"
        )
    if request.producer_id >= 0 and 0 <= request.producer_epoch < MAX_EPOCH:
        return InitProducerIdResponse(
            error_code=0, producer_id=request.producer_id, producer_epoch=request.producer_epoch + 1
        )
    pid = await broker.run_blocking(manager.next_id)
    return InitProducerIdResponse(
        error_code=0, producer_id=pid, producer_epoch=0, throttle_time_ms=0
    )


HANDLER = Handler(ApiKey.INIT_PRODUCER_ID, 0, 5, handle)
