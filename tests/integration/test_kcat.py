"""kcat (Debian's librdkafka CLI) against a real broker."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from pystream.testing import EmbeddedBroker

pytestmark = pytest.mark.integration

KCAT = shutil.which("kcat") or shutil.which("kafkacat")


@pytest.mark.skipif(KCAT is None, reason="kcat is not installed (make test installs it as root)")
def test_produce_and_consume_with_headers(pystream_broker: EmbeddedBroker) -> None:
    assert KCAT is not None
    b = pystream_broker.bootstrap
    lines = "\n".join(f"k{i}:v{i}" for i in range(20)) + "\n"
    subprocess.run(
        [KCAT, "-b", b, "-P", "-t", "kc", "-K", ":", "-H", "app=test", "-X", "acks=all"],
        input=lines.encode(),
        check=True,
        timeout=30,
    )
    out = subprocess.run(
        [KCAT, "-b", b, "-C", "-t", "kc", "-o", "beginning", "-e", "-f", "%k|%s|%h|%o\n"],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout.decode()
    rows = [line.split("|") for line in out.splitlines() if line]
    assert [(r[0], r[1]) for r in rows] == [(f"k{i}", f"v{i}") for i in range(20)]
    assert all(r[2] == "app=test" for r in rows)
    assert [int(r[3]) for r in rows] == list(range(20))
    meta = subprocess.run(
        [KCAT, "-b", b, "-L", "-t", "kc"], capture_output=True, check=True, timeout=30
    ).stdout.decode()
    assert 'topic "kc" with 1 partitions' in meta
