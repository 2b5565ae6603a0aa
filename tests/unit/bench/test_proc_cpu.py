"""Broker CPU readings from /proc/<pid>/stat, against a fake procfs and the real one."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from pystream.bench.proc_cpu import (
    CpuTimes,
    clock_ticks,
    parse_stat,
    tree_cpu_seconds,
    tree_cpu_times,
)


def stat_line(pid: int, name: str, ppid: int, utime: int, stime: int) -> str:
    # Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt
    # majflt cmajflt utime stime cutime cstime ...
    rest = ["S", ppid, 1, 1, 0, -1, 0, 0, 0, 0, 0, utime, stime, 7, 7, 20, 0, 1]
    return f"{pid} ({name}) " + " ".join(str(f) for f in rest) + "\n"


def fake_proc(tmp_path: Path, procs: list[tuple[int, str, int, int, int]]) -> Path:
    for pid, name, ppid, utime, stime in procs:
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(stat_line(pid, name, ppid, utime, stime))
    (tmp_path / "self").mkdir()  # non-numeric entries are skipped
    return tmp_path


def test_parse_stat_counts_fields_after_a_name_with_spaces_and_parens() -> None:
    assert parse_stat(stat_line(42, "we ird) (name", 7, 100, 50)) == (7, 100, 50)


def test_tree_sums_the_process_and_all_descendants_only(tmp_path: Path) -> None:
    ticks = clock_ticks()
    proc = fake_proc(
        tmp_path,
        [
            (10, "broker", 1, ticks, ticks),  # 2 s
            (11, "child", 10, ticks, 0),  # 1 s
            (12, "grandchild", 11, 0, ticks),  # 1 s
            (13, "unrelated", 1, 50 * ticks, 0),
        ],
    )
    assert tree_cpu_seconds(10, proc) == pytest.approx(4.0)
    assert tree_cpu_seconds(11, proc) == pytest.approx(2.0)
    assert tree_cpu_times(10, proc) == pytest.approx(CpuTimes(user=2.0, system=2.0))
    assert tree_cpu_times(12, proc) == pytest.approx(CpuTimes(user=0.0, system=1.0))


def test_missing_process_reads_none(tmp_path: Path) -> None:
    assert tree_cpu_seconds(99, fake_proc(tmp_path, [])) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="procfs is Linux only")
def test_own_process_reading_grows_with_work() -> None:
    before = tree_cpu_seconds(os.getpid())
    assert before is not None
    deadline = before + 0.05
    while (now := tree_cpu_seconds(os.getpid())) is not None and now < deadline:
        sum(range(10_000))
    assert now is not None and now >= deadline
