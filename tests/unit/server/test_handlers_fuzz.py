"""Every handler, every advertised version, arbitrary well-formed requests:
the handler answers with a response that encodes at that version (or no
response for acks=0), and never raises. Catches version-gated fields set at
versions that lack them, and error paths that crash."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pystream.protocol.frame import encode_response
from pystream.protocol.testing import messages
from pystream.server.broker import Broker
from pystream.server.handlers import HANDLERS, register_all

register_all()
CASES = sorted(
    (h.api_key, v) for h in HANDLERS.values() for v in range(h.min_version, h.max_version + 1)
)


@pytest.mark.parametrize("api_key, version", CASES)
def test_handler_answers_every_version(
    broker: Broker, make_ctx: Any, api_key: int, version: int
) -> None:
    handler = HANDLERS[api_key]
    from pystream.protocol.api import API_BY_KEY

    cls = API_BY_KEY[api_key].request_class

    @settings(
        max_examples=8,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(request=messages(cls, version), wait=st.just(0))
    def run(request: Any, wait: int) -> None:
        if hasattr(request, "max_wait_ms"):
            request.max_wait_ms = wait  # no long polls in a unit test
        ctx = make_ctx(broker, api_key, version)
        response = asyncio.run(handler.handle(ctx, request))
        if response is not None:
            encode_response(ctx.header, response)

    run()
