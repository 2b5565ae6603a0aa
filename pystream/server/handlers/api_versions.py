"""ApiVersions (key 18): the API keys and version ranges this broker serves."""

from __future__ import annotations

from typing import Any

from pystream.protocol.api import ApiKey
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.api_versions import ApiVersionsRequest, ApiVersionsResponse
from pystream.server.handlers import HANDLERS, Handler


def build_response(error: ErrorCode = ErrorCode.NONE) -> ApiVersionsResponse:
    keys = [
        ApiVersionsResponse.ApiVersion(
            api_key=h.api_key, min_version=h.min_version, max_version=h.max_version
        )
        for h in sorted(HANDLERS.values(), key=lambda h: h.api_key)
    ]
    return ApiVersionsResponse(error_code=int(error), api_keys=keys, throttle_time_ms=0)


async def handle(ctx: Any, request: ApiVersionsRequest) -> ApiVersionsResponse:
    return build_response()


HANDLER = Handler(ApiKey.API_VERSIONS, 0, 4, handle)
