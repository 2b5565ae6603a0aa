"""`EmbeddedLogSource`: a topic read straight from a pystream (or Kafka) data dir.

The partitions are the `<topic>-<n>` directories of `data_dir`; segments are mapped
read-only (`segments.PartitionReader`) and each batch's range is decoded from the mapped
pages with one native call per segment chunk, without copying the file into Python. No
broker is involved and no lock is taken, so it runs beside a live broker that owns the
dir; it reads what the broker has appended (read_uncommitted, and on a replicated broker
possibly beyond the high watermark).

Offsets and replays work as for every source: the batch's range is in the checkpoint, and
the records of a range do not change unless retention deletes them (`DataLossError`, or
skipped with `fail_on_data_loss=False`) or a broker truncates its log while recovering
(stop the query first if the broker crashed).
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import numpy as np

from pystream import _native, record
from pystream.streams.batch import MicroBatch
from pystream.streams.sources.base import Offsets, Source
from pystream.streams.sources.records import (
    RECORD_SCHEMA,
    DataLossError,
    decode_range,
    empty_records,
    scan_batches,
)
from pystream.streams.sources.segments import PartitionReader, SegmentFile

log = logging.getLogger(__name__)

LOG_START_OFFSET_FILE = "log-start-offset-checkpoint"  # pystream.storage.log_manager's name


class EmbeddedLogSource(Source):
    readable_in_workers = True

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        topic: str,
        *,
        name: str | None = None,
        max_records_per_trigger: int | None = None,
        fail_on_data_loss: bool = True,
    ) -> None:
        self.data_dir, self.topic = Path(data_dir), topic
        self.name = name or f"log:{topic}"
        self.schema = dict(RECORD_SCHEMA)
        self.max_records_per_trigger = max_records_per_trigger
        self.fail_on_data_loss = fail_on_data_loss
        self._readers: dict[int, PartitionReader] = {}
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, object]:
        state = self.__dict__.copy()
        state["_readers"], state["_lock"] = {}, None
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _partition_dirs(self) -> dict[int, Path]:
        prefix = self.topic + "-"
        out = {}
        for entry in os.scandir(self.data_dir):
            rest = entry.name[len(prefix) :]
            canonical = rest.isdigit() and (rest == "0" or not rest.startswith("0"))
            if entry.name.startswith(prefix) and canonical and entry.is_dir():
                out[int(rest)] = Path(entry.path)
        if not out:
            raise FileNotFoundError(f"no partitions of topic {self.topic!r} under {self.data_dir}")
        return out

    def _reader(self, p: int) -> PartitionReader:
        if self._pid != os.getpid():  # a forked worker: the parent's maps are not ours
            self._readers, self._pid = {}, os.getpid()
        reader = self._readers.get(p)
        if reader is None:
            reader = self._readers[p] = PartitionReader(self._partition_dirs()[p])
        return reader

    def _checkpointed_starts(self) -> dict[int, int]:
        """Log start offsets the broker checkpointed (DeleteRecords moves them inside a
        segment, so the first segment's base offset alone can be too early)."""
        path = self.data_dir / LOG_START_OFFSET_FILE
        if not path.exists():
            return {}
        try:
            entries = _native.read_offset_checkpoint(str(path))
        except (OSError, _native.NativeError):
            return {}  # being rewritten, or unreadable: the segment bases still hold
        return {p: off for topic, p, off in entries if topic == self.topic}

    # ---- Source -------------------------------------------------------------------------
    def initial_offsets(self) -> Offsets:
        with self._lock:
            starts = self._checkpointed_starts()
            return {
                p: max(self._reader(p).log_start_offset(), starts.get(p, 0))
                for p in self._partition_dirs()
            }

    def latest_offsets(self) -> Offsets:
        with self._lock:
            return {p: self._reader(p).log_end_offset() for p in self._partition_dirs()}

    def offsets_for_timestamp(self, timestamp_ms: int) -> Offsets:
        """The first offset whose record timestamp is >= `timestamp_ms` (the log end if none).

        Scans batch headers (their max timestamps), then decodes the one batch that holds
        the answer; this runs once, when a query starts.
        """
        out = {}
        with self._lock:
            for p in self._partition_dirs():
                reader = self._reader(p)
                reader.refresh()
                out[p] = self._first_at(reader, timestamp_ms)
        return out

    def _first_at(self, reader: PartitionReader, ts: int) -> int:
        for base in reader.bases:
            with reader.segments[base].view() as view:
                infos = record.read_batch_infos(view, verify_crc=False, allow_partial_tail=True)
                for info in infos:
                    if info.max_timestamp >= ts:
                        piece = view[info.position : info.position + info.size]
                        cols = record.decode_columns(piece)
                        later = np.flatnonzero(cols.timestamps >= ts)
                        if len(later):
                            return int(cols.offsets[later[0]])
        return reader.log_end_offset()

    def read(self, start: Offsets, end: Offsets) -> MicroBatch:
        pieces: list[MicroBatch] = []
        with self._lock:
            for p in sorted(end):
                lo, hi = start.get(p, 0), end[p]
                if hi > lo:
                    pieces.extend(self._read_partition(p, lo, hi))
        return MicroBatch.concat(pieces) if pieces else empty_records()

    def _read_partition(self, p: int, lo: int, hi: int) -> list[MicroBatch]:
        reader = self._reader(p)
        reader.refresh()
        out: list[MicroBatch] = []
        pos = lo
        segment: SegmentFile | None = reader.segment_for(pos)
        if segment is None or (reader.bases and pos < reader.bases[0]):
            first = reader.bases[0] if reader.bases else hi
            what = (
                f"{self.topic}-{p}: offsets {lo}..{hi - 1} are needed but the log starts at {first}"
            )
            if self.fail_on_data_loss:
                raise DataLossError(what + " (set fail_on_data_loss=False to skip lost records)")
            log.warning("skipping lost records: %s", what)
            pos = first
            segment = reader.segment_for(pos)
        while segment is not None and pos < hi:
            begin = segment.position_before(pos)
            stop, nxt = segment.batches_from(segment.position_before(hi - 1), hi - 1)
            if stop > begin:
                with segment.view() as view:
                    chunk = scan_batches(view[begin:stop], pos, hi)
                    if chunk.stop > chunk.start:
                        piece = view[begin + chunk.start : begin + chunk.stop]
                        out.append(decode_range(piece, self.topic, p, pos, hi))
                        del piece
            if nxt >= hi:
                break
            following = reader.next_segment(segment)
            if following is None:
                raise DataLossError(
                    f"{self.topic}-{p}: the log ends at {max(nxt, pos)}, before offset {hi - 1} "
                    "that the batch needs (was the log truncated?)"
                )
            pos, segment = max(pos, following.base_offset), following
        return out

    def close(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                for reader in self._readers.values():
                    reader.close()
            self._readers = {}
