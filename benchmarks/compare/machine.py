"""Preparing the machine before anything is measured.

On a freshly booted VM the guest's free memory has never been touched, and
the first touch of each page is a fault in the hypervisor: new page-cache
pages then cost several times what they cost later (a new file was written
at 356 MB/s before and at 5.2 GB/s after one pass over free memory, see
perf/README.md). Brokers write new segment files, so their produce figures
would measure the host. Touching the free memory once, in a process that
then exits, removes that bias for every peer alike.
"""

from __future__ import annotations

import mmap
import time
from pathlib import Path

import numpy as np

PAGE = mmap.PAGESIZE
KEEP_FREE = 2 << 30  # leave this much untouched, so nothing else is pushed out


def mem_free_bytes(meminfo: Path = Path("/proc/meminfo")) -> int:
    for line in meminfo.read_text().splitlines():
        if line.startswith("MemFree:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no MemFree line in {meminfo}")


def touch_free_memory() -> dict[str, float]:
    """Writes one byte per page of all free memory but `KEEP_FREE`, held at once (so the
    kernel cannot hand the same pages back), then releases it; reports how much and how
    long."""
    total = max(mem_free_bytes() - KEEP_FREE, 0) // PAGE * PAGE
    started = time.perf_counter()
    if total:
        with mmap.mmap(-1, total) as m:
            pages = np.frombuffer(m, dtype=np.uint8)
            pages[::PAGE] = 1
            del pages
    return {"touched_gib": total / (1 << 30), "seconds": time.perf_counter() - started}
