"""pytest plugin: the `pystream_broker` fixture (a fresh broker per test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pystream.testing.embedded import EmbeddedBroker


@pytest.fixture
def pystream_broker(tmp_path: Path) -> Iterator[EmbeddedBroker]:
    """A running broker on 127.0.0.1 and an ephemeral port, data in tmp_path."""
    broker = EmbeddedBroker(data_dir=tmp_path / "data")
    broker.start()
    try:
        yield broker
    finally:
        broker.close()
