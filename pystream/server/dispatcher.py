"""Routes each request frame to its API handler and encodes the answer.

Kafka's rules for bad requests: an unsupported ApiVersions version is
answered (v0, UNSUPPORTED_VERSION, with the supported ranges) so the client
can downgrade; any other unknown API key, unsupported version or malformed
request closes the connection after a log line. Nothing else on the broker
is affected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pystream.protocol.errors import (
    ErrorCode,
    ProtocolError,
    UnknownApiKeyError,
    UnsupportedVersionError,
)
from pystream.protocol.frame import decode_request, decode_request_header, encode_response
from pystream.protocol.headers import RequestHeader
from pystream.server.handlers import HANDLERS, Handler

if TYPE_CHECKING:
    from pystream.server.broker import Broker
    from pystream.server.connection import KafkaConnection

log = logging.getLogger(__name__)

API_VERSIONS_KEY = 18


@dataclass
class RequestContext:
    """What a handler may know about the request besides its body."""

    broker: Broker
    header: RequestHeader
    connection: KafkaConnection

    @property
    def api_version(self) -> int:
        return self.header.request_api_version

    @property
    def client_id(self) -> str:
        return self.header.client_id or ""


class Dispatcher:
    def __init__(self, broker: Broker, max_connections: int) -> None:
        self.broker = broker
        self.max_connections = max_connections
        self.connections: set[KafkaConnection] = set()

    def register(self, conn: KafkaConnection) -> bool:
        if len(self.connections) >= self.max_connections:
            return False
        self.connections.add(conn)
        return True

    def unregister(self, conn: KafkaConnection) -> None:
        self.connections.discard(conn)

    async def handle(self, conn: KafkaConnection, frame: memoryview | bytes) -> Any:
        """Returns response chunks, None (no response: acks=0) or False (close)."""
        try:
            header, request = decode_request(frame)
        except UnsupportedVersionError as e:
            hdr = getattr(e, "header", None)
            if hdr is not None and hdr.request_api_key == API_VERSIONS_KEY:
                return self._api_versions_unsupported(hdr)
            log.warning("closing %s: %s", conn.peer, e)
            return False
        except UnknownApiKeyError as e:
            log.warning("closing %s: %s", conn.peer, e)
            return False
        except ProtocolError as e:
            log.warning("closing %s: malformed request: %s", conn.peer, e)
            return False
        handler: Handler | None = HANDLERS.get(header.request_api_key)
        if handler is None or not (
            handler.min_version <= header.request_api_version <= handler.max_version
        ):
            if header.request_api_key == API_VERSIONS_KEY:
                return self._api_versions_unsupported(header)
            log.warning(
                "closing %s: API %d v%d is not supported",
                conn.peer,
                header.request_api_key,
                header.request_api_version,
            )
            return False
        ctx = RequestContext(self.broker, header, conn)
        response = await handler.handle(ctx, request)
        if response is None:
            return None
        return encode_response(header, response)

    def _api_versions_unsupported(self, header: RequestHeader) -> Any:
        from pystream.server.handlers.api_versions import build_response

        response = build_response(ErrorCode.UNSUPPORTED_VERSION)
        downgraded = RequestHeader(
            request_api_key=API_VERSIONS_KEY,
            request_api_version=0,
            correlation_id=header.correlation_id,
            client_id=header.client_id,
        )
        return encode_response(downgraded, response)


def peek_header(frame: memoryview | bytes) -> RequestHeader | None:
    """Best-effort header decode for logging; None when even that fails."""
    try:
        return decode_request_header(frame)[0]
    except ProtocolError:
        return None
