"""The console tools against a running broker, as a user runs them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pystream.testing import EmbeddedBroker

pytestmark = pytest.mark.integration


def cli(*args: str, stdin: str | None = None, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pystream.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_topics_lifecycle(pystream_broker: EmbeddedBroker) -> None:
    b = ["--bootstrap-server", pystream_broker.bootstrap]
    cli("topics", "create", "t1", "--partitions", "2", "--config", "retention.ms=1000", *b)
    assert "t1" in cli("topics", "list", *b).stdout.split()
    out = cli("topics", "describe", "t1", *b).stdout
    assert "PartitionCount: 2" in out and "retention.ms=1000" in out
    cli("topics", "alter", "t1", "--partitions", "3", *b)
    assert "PartitionCount: 3" in cli("topics", "describe", "t1", *b).stdout
    dup = cli("topics", "create", "t1", *b, ok=False)
    assert dup.returncode != 0 and "TOPIC_ALREADY_EXISTS" in dup.stderr
    cli("topics", "delete", "t1", *b)
    assert "t1" not in cli("topics", "list", *b).stdout.split()


def test_produce_then_consume_with_keys_headers_timestamps(pystream_broker: EmbeddedBroker) -> None:
    b = ["--bootstrap-server", pystream_broker.bootstrap]
    cli("topics", "create", "t2", "--partitions", "1", *b)
    lines = "".join(f"k{i}:v{i}\n" for i in range(10))
    cli("produce", "t2", "--key-separator", ":", "--header", "app=cli", *b, stdin=lines)
    out = cli(
        "consume",
        "t2",
        "--from-beginning",
        "--max-messages",
        "10",
        "--print-key",
        "--print-headers",
        "--print-offset",
        "--print-timestamp",
        *b,
    ).stdout.splitlines()
    assert len(out) == 10
    for i, line in enumerate(out):
        ts, offset, headers, key, value = line.split("\t")
        assert ts.startswith("CreateTime:")
        assert offset == f"Offset:{i}"
        assert headers == "app:cli"
        assert (key, value) == (f"k{i}", f"v{i}")
    # From an offset.
    out = cli("consume", "t2", "--offset", "7", "--max-messages", "3", *b).stdout.split()
    assert out == ["v7", "v8", "v9"]


def test_unreachable_broker_is_a_clean_error() -> None:
    proc = cli("topics", "list", "--bootstrap-server", "127.0.0.1:1", ok=False)
    assert proc.returncode == 1
    assert "cannot connect" in proc.stderr
    assert "Traceback" not in proc.stderr
