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
import os
import time
from pathlib import Path

import numpy as np

PAGE = mmap.PAGESIZE
KEEP_FREE = 2 << 30  # leave this much untouched, so nothing else is pushed out


def _meminfo_bytes(meminfo: Path, *fields: str) -> dict[str, int]:
    """{field: bytes} of the named /proc/meminfo fields that are present."""
    found = {}
    for line in meminfo.read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in fields:
            found[name] = int(rest.split()[0]) * 1024
    return found


def mem_free_bytes(meminfo: Path = Path("/proc/meminfo")) -> int:
    found = _meminfo_bytes(meminfo, "MemFree")
    if "MemFree" not in found:
        raise RuntimeError(f"no MemFree line in {meminfo}")
    return found["MemFree"]


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


def dirty_bytes(meminfo: Path = Path("/proc/meminfo")) -> int:
    """Page-cache bytes waiting to be written back (Dirty + Writeback)."""
    return sum(_meminfo_bytes(meminfo, "Dirty", "Writeback").values())


def settle(timeout_s: float = 60.0) -> dict[str, float]:
    """Writes back every dirty page before a run, so that no peer pays for another's.

    A durable broker leaves up to a gigabyte of dirty page cache after a run (Kafka
    deletes a topic's files a minute later, so its pages are written back first).
    Without this the kernel's writeback of one peer's data ran during the next
    peer's run, taking CPU from it and throttling its writes; which peer paid
    depended on the order. `sync` waits until the pages are on disk; reports how
    many there were and how long it took.
    """
    before = dirty_bytes()
    started = time.perf_counter()
    os.sync()
    deadline = started + timeout_s
    while dirty_bytes() > 64 << 20 and time.perf_counter() < deadline:
        time.sleep(0.05)
    return {"dirty_mib": before / (1 << 20), "seconds": time.perf_counter() - started}
