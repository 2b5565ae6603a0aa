"""Kafka's topic name rules: ASCII alphanumerics, '.', '_' and '-', at most 249 characters."""

from __future__ import annotations

import pytest

from pystream.protocol.errors import ErrorCode
from pystream.server.topics import MAX_TOPIC_NAME, TopicError, validate_topic_name
from pystream.storage.log_manager import parse_partition_dir


@pytest.mark.parametrize("name", ["t", "orders.v2", "_internal", "a-b_c.D9", "x" * MAX_TOPIC_NAME])
def test_legal_names_pass(name: str) -> None:
    validate_topic_name(name)


@pytest.mark.parametrize(
    "name",
    ["", ".", "..", "x" * (MAX_TOPIC_NAME + 1), "a b", "a/b", "é", "a\n", "0\n", "\na", "a\x00"],
)
def test_illegal_names_are_invalid_topic(name: str) -> None:
    with pytest.raises(TopicError) as info:
        validate_topic_name(name)
    assert info.value.code == ErrorCode.INVALID_TOPIC_EXCEPTION


def test_partition_dirs_must_match_whole() -> None:
    assert parse_partition_dir("orders-3") == ("orders", 3)
    assert parse_partition_dir("orders-3\n") is None
    assert parse_partition_dir("orders\n-3") is None
    assert parse_partition_dir("orders-03") is None
