"""Every handler, every advertised version, arbitrary well-formed requests:
the handler answers with a response that encodes at that version (or no
response for acks=0), and never raises. Catches version-gated fields set at
versions that lack them, and error paths that crash."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pystream.protocol.frame import encode_response
from pystream.protocol.headers import RequestHeader
from pystream.protocol.testing import messages
from pystream.server.broker import Broker
from pystream.server.config import BrokerConfig
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import HANDLERS, register_all
from pystream.server.meta import load_or_create
from pystream.server.topics import TopicRegistry

register_all()
CASES = sorted(
    (h.api_key, v) for h in HANDLERS.values() for v in range(h.min_version, h.max_version + 1)
)


class _Conn:
    peer = "test"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Any:
    data = tmp_path_factory.mktemp("data")
    config = BrokerConfig({"log.dirs": str(data), "topic.max.partitions": "8"})
    b = Broker(config)
    b.meta = load_or_create(Path(data), -1)
    b.topics = TopicRegistry.open(config)
    b.topics.create("t", 2)
    b.bound_port = 9092
    yield b
    b.topics.close()


@pytest.mark.parametrize("api_key, version", CASES)
def test_handler_answers_every_version(broker: Broker, api_key: int, version: int) -> None:
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
        header = RequestHeader(
            request_api_key=api_key, request_api_version=version, correlation_id=1, client_id="t"
        )
        ctx = RequestContext(broker, header, _Conn())  # type: ignore[arg-type]
        response = asyncio.run(handler.handle(ctx, request))
        if response is not None:
            encode_response(header, response)

    run()
