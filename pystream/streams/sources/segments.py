"""Read-only access to one partition directory of a Kafka-format log, beside its writer.

A partition dir holds segments `<20-digit base offset>.log` (concatenated RecordBatch v2)
with a sparse `.index` (8-byte big-endian entries: offset relative to the base, byte
position; the offset is the last offset of the batch at that position; the active
segment's index is preallocated with zeros). `PartitionReader` maps `.log` files with
mmap (read-only, no copies: the decoder reads the mapped pages directly) and reads index
entries with `pread` (an index is trimmed when its segment rolls, and a mapping past the
end of a shrunk file would fault).

It takes no lock and never writes, so it can run while a broker owns the data dir. What it
sees is what the writer has written: a batch still being written at the end of the active
segment is ignored until complete. A `.log` truncated while mapped (a broker recovering
from a crash) would fault on access, so the mapping is re-checked against the file size
before each read.
"""

from __future__ import annotations

import mmap
import os
import re
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

from pystream import record

_SEGMENT = re.compile(r"^(\d{20})\.log$")
INDEX_ENTRY = 8
SCAN_WINDOW = 64 << 10


@dataclass
class _Mapped:
    size: int
    mm: mmap.mmap | None  # None for an empty file (mmap refuses length 0)


class SegmentFile:
    """One segment: its mapped `.log` and pread access to its `.index`."""

    def __init__(self, directory: Path, base_offset: int) -> None:
        self.base_offset = base_offset
        self.log_path = directory / f"{base_offset:020d}.log"
        self.index_path = directory / f"{base_offset:020d}.index"
        self._fd = os.open(self.log_path, os.O_RDONLY)
        self._map = _Mapped(0, None)

    def view(self) -> memoryview:
        """The bytes of the segment as they are now (remapped when the file changed size)."""
        size = os.fstat(self._fd).st_size
        if size != self._map.size:
            old = self._map.mm
            self._map = _Mapped(
                size, mmap.mmap(self._fd, size, access=mmap.ACCESS_READ) if size else None
            )
            if old is not None:
                try:
                    old.close()
                except BufferError:  # a view of the old mapping is still alive; let GC do it
                    pass
        return memoryview(self._map.mm) if self._map.mm is not None else memoryview(b"")

    def _index_entries(self) -> tuple[int, int]:
        """(fd, number of real entries) of the index; the preallocated tail is zeros."""
        try:
            fd = os.open(self.index_path, os.O_RDONLY)
        except FileNotFoundError:
            return -1, 0
        total = os.fstat(fd).st_size // INDEX_ENTRY
        lo, hi = 1, total  # entries 1.. have positions > 0; the zero tail starts at `hi`
        while lo < hi:
            mid = (lo + hi) // 2
            if self._entry(fd, mid)[1] > 0:
                lo = mid + 1
            else:
                hi = mid
        return fd, lo if total else 0

    @staticmethod
    def _entry(fd: int, i: int) -> tuple[int, int]:
        raw = os.pread(fd, INDEX_ENTRY, i * INDEX_ENTRY)
        if len(raw) < INDEX_ENTRY:
            return 0, 0
        return int.from_bytes(raw[:4], "big"), int.from_bytes(raw[4:], "big")

    def position_before(self, offset: int) -> int:
        """A batch boundary at or before the batch that holds `offset` (index lookup)."""
        fd, n = self._index_entries()
        if fd < 0:
            return 0
        try:
            target = offset - self.base_offset
            lo, hi = 0, n  # largest entry with relative offset <= target
            while lo < hi:
                mid = (lo + hi) // 2
                if self._entry(fd, mid)[0] <= target:
                    lo = mid + 1
                else:
                    hi = mid
            return self._entry(fd, lo - 1)[1] if lo > 0 else 0
        finally:
            os.close(fd)

    def batches_from(self, position: int, until_offset: int) -> tuple[int, int]:
        """(end position, next offset) after the batches from `position` up to the one that
        holds `until_offset` (or the last complete batch)."""
        view = self.view()
        with view:
            size = len(view)
            end, next_offset = position, -1
            window = SCAN_WINDOW
            while end < size:
                infos = record.read_batch_infos(
                    view[end : min(size, end + window)], verify_crc=False, allow_partial_tail=True
                )
                if not infos:
                    if end + window >= size:
                        break  # only a batch still being written is left
                    window *= 4
                    continue
                for info in infos:
                    next_offset = info.last_offset + 1
                    end_here = end + info.position + info.size
                    if info.last_offset >= until_offset:
                        return end_here, next_offset
                last = infos[-1]
                end += last.position + last.size
            return end, next_offset

    def close(self) -> None:
        if self._map.mm is not None:
            try:
                self._map.mm.close()
            except BufferError:
                pass
        os.close(self._fd)


class PartitionReader:
    """The segments of one partition directory (re-listed when asked about new offsets)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.segments: dict[int, SegmentFile] = {}
        self.bases: list[int] = []

    def refresh(self) -> None:
        found = sorted(
            int(m.group(1)) for p in os.listdir(self.directory) if (m := _SEGMENT.match(p))
        )
        for base in list(self.segments):
            if base not in found:  # deleted by retention: the mapping may stay until closed
                self.segments.pop(base).close()
        for base in found:
            if base not in self.segments:
                try:
                    self.segments[base] = SegmentFile(self.directory, base)
                except FileNotFoundError:
                    continue
        self.bases = sorted(self.segments)

    def log_start_offset(self) -> int:
        self.refresh()
        return self.bases[0] if self.bases else 0

    def log_end_offset(self) -> int:
        self.refresh()
        if not self.bases:
            return 0
        last = self.segments[self.bases[-1]]
        _, nxt = last.batches_from(last.position_before(1 << 62), 1 << 62)
        return nxt if nxt >= 0 else last.base_offset

    def segment_for(self, offset: int) -> SegmentFile | None:
        i = bisect_right(self.bases, offset) - 1
        return self.segments[self.bases[i]] if i >= 0 else None

    def next_segment(self, segment: SegmentFile) -> SegmentFile | None:
        i = self.bases.index(segment.base_offset) + 1
        return self.segments[self.bases[i]] if i < len(self.bases) else None

    def close(self) -> None:
        for seg in self.segments.values():
            seg.close()
        self.segments.clear()
        self.bases = []
