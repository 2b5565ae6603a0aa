"""LogManager: the data dir layout, parallel start-up with recovery,
partition lifecycle, topic configs and checkpoints."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from pystream import errors
from pystream.storage import LogManager, PartitionLog

SMALL = {"segment.bytes": 2048, "index.interval.bytes": 200}


def _fill(plog: PartitionLog, kb: SimpleNamespace, n: int) -> None:
    kb.append_batches(plog, n)


def test_create_list_reopen_and_checkpoints(tmp_path: Path, kb: SimpleNamespace) -> None:
    with LogManager(tmp_path, SMALL) as lm:
        for p in range(3):
            _fill(lm.create("orders.v1-x", p), kb, 5 + p)
        assert lm.create("orders.v1-x", 0) is lm.get("orders.v1-x", 0)
        assert lm.partitions() == [("orders.v1-x", 0), ("orders.v1-x", 1), ("orders.v1-x", 2)]
        assert lm.partition_dir("orders.v1-x", 2) == tmp_path / "orders.v1-x-2"
        with pytest.raises(KeyError):
            lm.get("nope", 0)
    # Kafka's checkpoint format, decoded here.
    text = (tmp_path / "recovery-point-offset-checkpoint").read_text().splitlines()
    assert text[:2] == ["0", "3"]
    assert sorted(text[2:]) == ["orders.v1-x 0 15", "orders.v1-x 1 18", "orders.v1-x 2 21"]
    assert (tmp_path / "log-start-offset-checkpoint").read_text().startswith("0\n3\n")
    with LogManager(tmp_path, SMALL) as lm:
        assert [lm.get("orders.v1-x", p).log_end_offset for p in range(3)] == [15, 18, 21]
        assert all(r.clean and r.bytes_validated == 0 for r in lm.recovery_reports.values())


def test_unclean_start_repairs_and_reports(
    tmp_path: Path, kb: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    lm = LogManager(tmp_path, SMALL)
    plog = lm.create("t", 0)
    _fill(plog, kb, 4)
    lm.checkpoint()
    _fill(plog, kb, 2)
    seg = tmp_path / "t-0" / f"{plog.segment_base_offsets[-1]:020d}.log"
    plog.native.flush()
    os.truncate(seg, seg.stat().st_size - 10)
    lm._stop.set()
    os.close(lm._lock_fd)  # simulate a crash: no close, no final checkpoint
    with LogManager(tmp_path, SMALL) as again:
        report = again.recovery_reports[("t", 0)]
        assert report.dropped and again.get("t", 0).log_end_offset == 15
        assert "recovered t-0" in caplog.text


def test_delete_partition_and_leftovers(tmp_path: Path, kb: SimpleNamespace) -> None:
    (tmp_path / "old-0.0123456789abcdef0123456789abcdef-delete").mkdir()
    (tmp_path / "lost+found").mkdir()
    with LogManager(tmp_path, SMALL) as lm:
        assert not (tmp_path / "old-0.0123456789abcdef0123456789abcdef-delete").exists()
        _fill(lm.create("t", 0), kb, 3)
        lm.delete("t", 0)
        assert lm.partitions() == []
        assert not any(p.name.startswith("t-0") for p in tmp_path.iterdir())
        lm.delete("t", 0)  # already gone: no error


def test_topic_configs_persist(tmp_path: Path) -> None:
    with LogManager(tmp_path, {"retention.ms": 5000}) as lm:
        lm.create("t", 0)
        lm.set_topic_config("t", {"segment.bytes": "4096", "cleanup.policy": "compact"})
        assert lm.get("t", 0).log_config.segment_bytes == 4096
        with pytest.raises(ValueError, match=r"segment\.ms"):
            lm.set_topic_config("t", {"segment.ms": "-5"})
        with pytest.raises(ValueError, match="bogus"):
            lm.validate_topic_config({"bogus": "1"})
    stored = (tmp_path / "topic-configs" / "t.properties").read_text()
    assert stored == "cleanup.policy=compact\nsegment.bytes=4096\n"
    with LogManager(tmp_path, {"retention.ms": 5000}) as lm:
        assert lm.topic_overrides("t") == {"cleanup.policy": "compact", "segment.bytes": "4096"}
        cfg = lm.topic_config("t")
        assert (cfg["segment.bytes"], cfg["retention.ms"]) == (4096, 5000)
        assert lm.get("t", 0).log_config.segment_bytes == 4096
        lm.delete_topic_config("t")
        assert lm.topic_overrides("t") == {}


def test_maintenance_and_flush_ms(tmp_path: Path, kb: SimpleNamespace) -> None:
    with LogManager(tmp_path, {**SMALL, "retention.bytes": 3000, "flush.ms": 1000}) as lm:
        plog = lm.create("t", 0)
        _fill(plog, kb, 20)
        before = len(plog.segment_base_offsets)
        assert lm.flush_dirty(now_ms=plog.last_flush_ms + 999) == []
        assert lm.flush_dirty(now_ms=plog.last_flush_ms + 1000) == [("t", 0)]
        assert plog.recovery_point == plog.log_end_offset
        lm.maintenance()
        assert len(plog.segment_base_offsets) < before
        assert plog.log_start_offset > 0
        starts = (tmp_path / "log-start-offset-checkpoint").read_text().splitlines()
        assert starts[2] == f"t 0 {plog.log_start_offset}"


def test_data_dir_lock_and_bad_checkpoint(tmp_path: Path, kb: SimpleNamespace) -> None:
    lm = LogManager(tmp_path, SMALL)
    with pytest.raises(errors.StorageError, match="in use"):
        LogManager(tmp_path, SMALL)
    _fill(lm.create("t", 0), kb, 2)
    lm.close()
    (tmp_path / "recovery-point-offset-checkpoint").write_text("0\n9\ngarbage\n")
    with LogManager(tmp_path, SMALL) as lm:
        report = lm.recovery_reports[("t", 0)]
        assert report.bytes_validated > 0  # recovered from offset 0
        assert lm.get("t", 0).log_end_offset == 6


def test_background_thread_stops_on_close(tmp_path: Path) -> None:
    lm = LogManager(tmp_path, SMALL)
    lm.start_background(interval_s=0.01)
    lm.create("t", 0)
    lm.close()
    assert lm._thread is not None and not lm._thread.is_alive()
