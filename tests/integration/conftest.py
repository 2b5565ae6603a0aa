"""Shared data for the client-compatibility tests: keyed records with headers."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.integration


def make_records(n: int = 50) -> list[tuple[bytes, bytes, list[tuple[str, bytes]], int]]:
    now = int(time.time() * 1000) - 10_000
    return [
        (
            f"key-{i % 7}".encode(),
            f"value-{i}-".encode() * (1 + i % 5),
            [("h1", f"hv{i}".encode()), ("trace", bytes([i % 256]))],
            now + i,
        )
        for i in range(n)
    ]


@pytest.fixture
def records() -> list[tuple[bytes, bytes, list[tuple[str, bytes]], int]]:
    """60 keyed records with two headers each and distinct timestamps."""
    return make_records(60)
