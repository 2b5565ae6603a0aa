"""Retention (time, size, log start offset) and truncation, by whole
segments, with the log start offset and indexes kept consistent."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from pystream import errors


def test_retention_by_time(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0", **{"retention.ms": 1000})
    kb.append_batches(plog, 30, ts0=0)  # record timestamps 0..89
    bases = plog.segment_base_offsets
    first_max = bases[1] - 1  # largest timestamp of the first segment
    r = plog.enforce_retention(now_ms=first_max + 1000)
    assert r.deleted_segments == []
    r = plog.enforce_retention(now_ms=first_max + 1001)
    assert r.deleted_segments == [bases[0]] and plog.log_start_offset == bases[1]
    assert not (tmp_path / "t-0" / f"{bases[0]:020d}.index").exists()
    # Everything expired: the active segment goes too, a fresh one is rolled.
    r = plog.enforce_retention(now_ms=10**12)
    assert plog.segment_base_offsets == [90] and plog.log_start_offset == 90
    assert plog.read(90, 100) is None
    kb.append_batches(plog, 1)
    assert plog.log_end_offset == 93


def test_retention_by_size_and_high_watermark(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0", **{"retention.bytes": 5000, "retention.ms": -1})
    kb.append_batches(plog, 40)
    bases = plog.segment_base_offsets
    sizes = {b: os.path.getsize(tmp_path / "t-0" / f"{b:020d}.log") for b in bases}
    r = plog.enforce_retention(high_watermark=bases[1])
    assert r.deleted_segments == [bases[0]]  # the high watermark stops it there
    r = plog.enforce_retention()
    kept = plog.segment_base_offsets
    # Kafka's rule: an oldest whole segment goes while what remains without
    # it is still at least retention.bytes.
    assert plog.size_in_bytes == sum(sizes[b] for b in kept)
    assert plog.size_in_bytes - sizes[kept[0]] < 5000 <= plog.size_in_bytes
    assert r.deleted_bytes == sum(sizes[b] for b in r.deleted_segments)
    assert plog.log_start_offset == kept[0]


def test_delete_records(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0")
    batches = kb.append_batches(plog, 30)
    bases = plog.segment_base_offsets
    assert plog.delete_records(bases[2] + 1) == bases[2] + 1
    assert plog.segment_base_offsets[0] == bases[2]
    with pytest.raises(errors.OffsetOutOfRangeError):
        plog.read(bases[2], 10)
    assert plog.read_bytes(bases[2] + 1, 1) == batches[bases[2] // 3]
    assert plog.delete_records(5) == bases[2] + 1  # never moves back
    with pytest.raises(errors.OffsetOutOfRangeError):
        plog.delete_records(plog.log_end_offset + 1)
    plog.close()
    # The log start offset comes back from the data dir checkpoint.
    again, _ = kb.open_log(tmp_path / "t-0")
    assert again.log_start_offset == bases[2]


def test_truncate_to(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0")
    batches = kb.append_batches(plog, 30)
    bases = plog.segment_base_offsets
    target = bases[2] + 4  # inside a batch: the whole batch goes
    assert plog.truncate_to(target)
    assert plog.log_end_offset == target
    assert plog.segment_base_offsets == bases[:3]
    assert not plog.truncate_to(1000)
    data = b"".join(plog.read_bytes(b, 1 << 20) for b in bases[:3])
    assert data == b"".join(batches[: target // 3])
    plog.append(kb.build_batch(target, [1]))
    plog.close()
    last = tmp_path / "t-0" / f"{bases[2]:020d}.log"
    decoded = kb.decode_log(last)
    assert decoded[-1]["base"] == target
    for off, pos in kb.decode_index(last.with_suffix(".index")):
        assert off < target or pos == decoded[-1]["position"]


def test_truncate_fully_and_start_at(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0")
    kb.append_batches(plog, 10)
    plog.truncate_fully_and_start_at(500)
    assert (plog.log_start_offset, plog.log_end_offset) == (500, 500)
    assert plog.segment_base_offsets == [500]
    assert sorted(p.name for p in (tmp_path / "t-0").glob("*.log")) == [f"{500:020d}.log"]
    kb.append_batches(plog, 1)
    assert plog.read_bytes(500, 100)[:8] == (500).to_bytes(8, "big")
