"""A broker object with a data dir and one topic, for calling handlers directly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pystream.protocol.headers import RequestHeader
from pystream.server.broker import Broker
from pystream.server.config import BrokerConfig
from pystream.server.dispatcher import RequestContext
from pystream.server.meta import load_or_create
from pystream.server.topics import TopicRegistry


class _Conn:
    peer = "test"


def _make_ctx(broker: Broker, api_key: int, version: int) -> RequestContext:
    header = RequestHeader(
        request_api_key=api_key, request_api_version=version, correlation_id=1, client_id="t"
    )
    return RequestContext(broker, header, _Conn())  # type: ignore[arg-type]


@pytest.fixture
def make_ctx() -> Callable[[Broker, int, int], RequestContext]:
    """Builds the RequestContext a handler gets: make_ctx(broker, api_key, version)."""
    return _make_ctx


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data = tmp_path_factory.mktemp("data")
    config = BrokerConfig({"log.dirs": str(data), "topic.max.partitions": "8"})
    b = Broker(config)
    b.meta = load_or_create(Path(data), -1)
    b.topics = TopicRegistry.open(config)
    b.topics.create("t", 2)
    b.bound_port = 9092
    yield b
    b.topics.close()
