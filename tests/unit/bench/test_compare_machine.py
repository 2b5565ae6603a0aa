"""The comparison's machine preparation: reading /proc/meminfo."""

from pathlib import Path

import pytest

from benchmarks.compare.machine import dirty_bytes, mem_free_bytes

MEMINFO = """MemTotal:       24585028 kB
MemFree:        18502104 kB
Dirty:             10240 kB
Writeback:          2048 kB
WritebackTmp:          0 kB
"""


def test_dirty_counts_dirty_and_writeback_not_writebacktmp(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text(MEMINFO)
    assert dirty_bytes(meminfo) == (10240 + 2048) * 1024
    assert mem_free_bytes(meminfo) == 18502104 * 1024


def test_mem_free_missing_is_an_error(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 1 kB\n")
    with pytest.raises(RuntimeError, match="MemFree"):
        mem_free_bytes(meminfo)
