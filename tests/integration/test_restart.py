"""A broker restart keeps every acknowledged record and idempotence state."""

from __future__ import annotations

import pytest

from pystream.testing import EmbeddedBroker

ck = pytest.importorskip("confluent_kafka")

pytestmark = pytest.mark.integration


def _consume_all(bootstrap: str, topic: str, n: int) -> list[tuple[bytes, int]]:
    c = ck.Consumer({"bootstrap.servers": bootstrap, "group.id": "r", "enable.auto.commit": False})
    c.assign([ck.TopicPartition(topic, 0, ck.OFFSET_BEGINNING)])
    out = []
    for _ in range(100):
        for m in c.consume(100, timeout=0.5):
            assert m.error() is None
            out.append((m.value(), m.offset()))
        if len(out) >= n:
            break
    c.close()
    return out


def test_restart_recovers_log_and_offsets(tmp_path: object) -> None:
    with EmbeddedBroker() as b:
        p = ck.Producer({"bootstrap.servers": b.bootstrap, "enable.idempotence": True})
        for i in range(100):
            p.produce("r", value=f"m{i}".encode())
        assert p.flush(20) == 0
        b.restart()
        got = _consume_all(b.bootstrap, "r", 100)
        assert [v for v, _ in got] == [f"m{i}".encode() for i in range(100)]
        p2 = ck.Producer({"bootstrap.servers": b.bootstrap, "enable.idempotence": True})
        p2.produce("r", value=b"after")
        assert p2.flush(20) == 0
        got = _consume_all(b.bootstrap, "r", 101)
        assert got[-1] == (b"after", 100)
