"""Request and response headers (generated from Kafka's header schemas).

`RequestHeader` fields: request_api_key, request_api_version, correlation_id,
client_id (v1+; a nullable string that stays non-compact even in the flexible
header v2) and tagged fields (v2). `ResponseHeader`: correlation_id, plus
tagged fields in v1.
"""

from __future__ import annotations

from pystream.protocol.messages.request_header import RequestHeader
from pystream.protocol.messages.response_header import ResponseHeader

__all__ = ["RequestHeader", "ResponseHeader"]
