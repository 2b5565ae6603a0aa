"""Crash recovery of a partition directory: torn tails at every byte,
garbage tails, broken or missing indexes, odd files. Recovery must keep
everything before the first bad byte, rebuild what it re-validated and say
what it dropped."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from pystream import errors


def _build(path: Path, kb: SimpleNamespace, n: int = 12) -> tuple[list[bytes], list[int]]:
    plog, _ = kb.open_log(path)
    batches = kb.append_batches(plog, n)
    bases = plog.segment_base_offsets
    plog.native.close()
    return batches, bases


def test_truncated_last_batch_at_every_byte(tmp_path: Path, kb: SimpleNamespace) -> None:
    src = tmp_path / "src" / "t-0"
    batches, bases = _build(src, kb)
    last = src / f"{bases[-1]:020d}.log"
    size = last.stat().st_size
    tail = len(batches[-1])
    for cut in range(size - tail, size):
        work = tmp_path / f"cut{cut}" / "t-0"
        shutil.copytree(src, work)
        os.truncate(work / last.name, cut)
        plog, report = kb.open_log(work)
        # The torn batch goes, everything before it stays.
        assert plog.log_end_offset == 3 * (len(batches) - 1)
        got = b"".join(
            plog.read_bytes(o, 1 << 20) for o in [b for b in bases if b < plog.log_end_offset]
        )
        assert got == b"".join(batches[:-1])
        if cut > size - tail:
            assert [(d[1], d[2]) for d in report.dropped] == [(size - tail, cut - (size - tail))]
        assert kb.decode_log(work / last.name)  # whole, valid batches on disk
        # The repaired log takes appends where it ends.
        kb.append_batches(plog, 1)
        assert plog.read_bytes(plog.log_end_offset - 3, 100) != b""
        plog.close()
        shutil.rmtree(work.parent)


def test_garbage_tail_is_dropped_and_reported(tmp_path: Path, kb: SimpleNamespace) -> None:
    path = tmp_path / "t-0"
    batches, bases = _build(path, kb)
    last = path / f"{bases[-1]:020d}.log"
    good_size = last.stat().st_size
    for garbage in (os.urandom(1000), b"\x00" * 5000, batches[-1][:-3]):
        with open(last, "ab") as f:
            f.write(garbage)
        plog, report = kb.open_log(path)
        assert plog.log_end_offset == 3 * len(batches)
        assert report.dropped == [(str(last), good_size, len(garbage), report.dropped[0][3])]
        assert report.dropped_bytes == len(garbage)
        assert last.stat().st_size == good_size
        plog.close()


def test_corrupt_middle_segment_drops_later_ones(tmp_path: Path, kb: SimpleNamespace) -> None:
    path = tmp_path / "t-0"
    batches, bases = _build(path, kb, 20)
    assert len(bases) >= 3
    victim = path / f"{bases[1]:020d}.log"
    data = bytearray(victim.read_bytes())
    data[len(batches[0]) + 70] ^= 0xFF  # second batch's records: CRC breaks
    victim.write_bytes(bytes(data))
    plog, report = kb.open_log(path)
    assert "CRC" in report.dropped[0][3]
    assert plog.segment_base_offsets == bases[:2]
    assert plog.log_end_offset == bases[1] + 3
    assert len(report.deleted_segments) == len(bases) - 2
    assert not (path / f"{bases[2]:020d}.log").exists()


def test_recovery_point_limits_revalidation(tmp_path: Path, kb: SimpleNamespace) -> None:
    path = tmp_path / "t-0"
    plog, _ = kb.open_log(path, **{"segment.bytes": 1 << 20})
    kb.append_batches(plog, 50)
    plog.flush()
    rp = plog.recovery_point
    tail = kb.append_batches(plog, 2)
    plog.native.flush()  # data is on disk; the recovery point we pass is older
    del plog
    again, report = kb.open_log(path, recovery_point=rp)
    assert report.bytes_validated == sum(len(b) for b in tail)
    assert again.log_end_offset == rp + 6
    # A CRC error before the recovery point is not looked for (trusted);
    # one after it is.
    again.close()


def test_broken_indexes_are_rebuilt(tmp_path: Path, kb: SimpleNamespace) -> None:
    path = tmp_path / "t-0"
    batches, bases = _build(path, kb, 20)
    expect = {b: kb.decode_index(path / f"{b:020d}.index") for b in bases}
    first, second, third = (path / f"{b:020d}.index" for b in bases[:3])
    first.unlink()  # missing
    second.write_bytes(b"\xff" * 16)  # entries pointing nowhere
    with open(third, "r+b") as f:  # torn entry
        f.truncate(max(0, third.stat().st_size - 3))
    (path / f"{bases[0]:020d}.timeindex").write_bytes(os.urandom(24))
    plog, report = kb.open_log(path, recovery_point=3 * len(batches))
    rebuilt = {Path(p).name for p, _ in report.rebuilt_indexes}
    assert {first.name, second.name} <= rebuilt
    assert plog.log_end_offset == 3 * len(batches)
    for off in range(0, plog.log_end_offset, 3):
        assert plog.read_bytes(off, 1) == batches[off // 3]
    plog.close()
    for b in bases[:2]:
        assert kb.decode_index(path / f"{b:020d}.index") == expect[b]


def test_bad_files_and_empty_dirs(tmp_path: Path, kb: SimpleNamespace) -> None:
    empty = tmp_path / "e-0"
    empty.mkdir()
    plog, report = kb.open_log(empty)
    assert plog.log_end_offset == 0 and report.clean
    plog.close()

    zero = tmp_path / "z-0"
    zero.mkdir()
    (zero / f"{0:020d}.log").write_bytes(b"")
    (zero / f"{7:020d}.index").write_bytes(b"\x00" * 8)  # orphan
    (zero / "partition.metadata").write_text("version: 0\n")
    (zero / "00000000000000000000.snapshot").write_bytes(b"x")
    plog, report = kb.open_log(zero)
    assert plog.log_end_offset == 0
    assert [Path(p).name for p in report.removed_files] == [f"{7:020d}.index"]
    assert (zero / "partition.metadata").exists()
    plog.close()

    for name, content in (
        ("0001.log", b""),
        ("abc.log", b""),
        ("12345678901234567890x.index", b""),
    ):
        bad = tmp_path / f"bad{len(name)}-0"
        bad.mkdir()
        (bad / name).write_bytes(content)
        with pytest.raises(errors.StorageError, match=name.replace(".", r"\.")):
            kb.open_log(bad)

    text = tmp_path / "x-0"
    text.mkdir()
    (text / f"{0:020d}.log").write_bytes(b"this is not a kafka segment, just some text" * 10)
    with pytest.raises(errors.StorageError, match=f"{0:020d}.log"):
        kb.open_log(text)


def test_leftovers_are_cleaned(tmp_path: Path, kb: SimpleNamespace) -> None:
    path = tmp_path / "t-0"
    _build(path, kb, 3)
    (path / f"{99:020d}.log.deleted").write_bytes(b"x")
    (path / "leader-epoch-checkpoint.tmp").write_bytes(b"x")
    plog, report = kb.open_log(path)
    assert len(report.removed_files) == 2
    assert plog.log_end_offset == 9


def test_malformed_epoch_checkpoint_warns(tmp_path: Path, kb: SimpleNamespace) -> None:
    path = tmp_path / "t-0"
    _build(path, kb, 3)
    (path / "leader-epoch-checkpoint").write_text("0\n5\nnonsense\n")
    plog, report = kb.open_log(path)
    assert report.warnings and "leader-epoch-checkpoint" in report.warnings[0]
    assert plog.native.leader_epochs == []
