"""LogConfig: Kafka's names, defaults and bounds."""

from __future__ import annotations

import re

import pytest

from pystream.storage import LogConfig


def test_defaults_are_kafkas() -> None:
    d = LogConfig().to_dict()
    assert d["segment.bytes"] == 1073741824
    assert d["segment.ms"] == 604800000
    assert d["retention.ms"] == 604800000
    assert d["retention.bytes"] == -1
    assert d["flush.messages"] == d["flush.ms"] == 2**63 - 1
    assert d["index.interval.bytes"] == 4096
    assert d["segment.index.bytes"] == 10485760
    assert d["message.timestamp.type"] == "CreateTime"
    assert d["cleanup.policy"] == "delete"
    assert d["max.message.bytes"] == 1048588


def test_parse_strings_and_overlay() -> None:
    base = LogConfig.from_dict({"retention.ms": "1000", "compression.type": "zstd"})
    c = LogConfig.from_dict({"segment.bytes": 4096, "cleanup.policy": "compact, delete"}, base)
    assert (c.retention_ms, c.segment_bytes, c.cleanup_policy) == (1000, 4096, "compact,delete")
    assert c.to_dict()["compression.type"] == "zstd"
    assert c.deletes
    compact = LogConfig.from_dict({"cleanup.policy": "compact"})
    assert not compact.deletes
    assert compact.native_kwargs()["retention_ms"] == -1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("segment.bytes", 13),
        ("segment.bytes", 2**31),
        ("segment.ms", 0),
        ("retention.ms", -2),
        ("flush.messages", 0),
        ("segment.index.bytes", "ten"),
        ("index.interval.bytes", True),
        ("message.timestamp.type", "WallClock"),
        ("cleanup.policy", "shred"),
        ("no.such.config", 1),
    ],
)
def test_invalid_values_name_the_config(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=re.escape(name)):
        LogConfig.from_dict({name: value})
