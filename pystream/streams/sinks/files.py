"""File sinks: JSON lines, CSV, and Parquet (when pyarrow is importable).

`FileSink(directory)` writes each batch to its own file, `part-<batch id>.<ext>`, through a
temporary name and a rename: a replayed batch replaces its file, so the directory's contents
are exactly-once. `JsonLinesFile(path)` appends every batch to one file and keeps a small
journal beside it (`<path>.batches`: query id, last batch id and file length); a replayed
batch first truncates whatever a crashed attempt left after the recorded length, and a
batch already recorded is skipped. A different query (another checkpoint) starts the file
afresh.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from pystream.streams.batch import MicroBatch
from pystream.streams.checkpoint import write_atomic
from pystream.streams.sinks.base import Sink

FORMATS = ("json", "csv", "parquet")


def _jsonable(value: Any) -> Any:
    """bytes as text (undecodable bytes escaped); lists and tuples (headers) element-wise."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def json_lines(batch: MicroBatch) -> bytes:
    rows = batch.to_pylist()
    return "".join(
        json.dumps({k: _jsonable(v) for k, v in r.items()}, separators=(",", ":")) + "\n"
        for r in rows
    ).encode()


def csv_text(batch: MicroBatch) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(batch.names)
    for row in batch.to_pylist():
        writer.writerow(["" if v is None else _jsonable(v) for v in row.values()])
    return buf.getvalue().encode()


class FileSink(Sink):
    def __init__(self, directory: str | os.PathLike[str], format: str = "json") -> None:
        if format not in FORMATS:
            raise ValueError(f"file format must be one of {FORMATS}")
        if format == "parquet":
            try:
                import pyarrow.parquet  # noqa: F401
            except ImportError as exc:
                raise ValueError("parquet output needs pyarrow installed") from exc
        self.directory = Path(directory)
        self.format = format
        self.ext = {"json": "jsonl", "csv": "csv", "parquet": "parquet"}[format]

    def open(self, checkpoint: Path) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)

    def write(self, batch: MicroBatch, batch_id: int, mode: str) -> None:
        if batch.num_rows == 0:
            return
        path = self.directory / f"part-{batch_id:010d}.{self.ext}"
        if self.format == "json":
            write_atomic(path, json_lines(batch))
        elif self.format == "csv":
            write_atomic(path, csv_text(batch))
        else:
            import pyarrow.parquet as pq

            tmp = path.with_name(f".{path.name}.tmp")
            pq.write_table(batch.to_arrow(), tmp)
            os.replace(tmp, path)

    def files(self) -> list[Path]:
        return sorted(self.directory.glob(f"part-*.{self.ext}"))


class JsonLinesFile(Sink):
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.journal = self.path.with_name(self.path.name + ".batches")
        self._fh: Any = None
        self._query_id: str | None = None

    def _recorded(self) -> tuple[int, int]:
        if not self.journal.exists():
            return -1, 0
        entry = json.loads(self.journal.read_text())
        if entry.get("query_id") != self._query_id:
            return -1, 0
        return int(entry["batch_id"]), int(entry["length"])

    def open(self, checkpoint: Path) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        meta = checkpoint / "metadata"
        self._query_id = json.loads(meta.read_text())["id"] if meta.exists() else None
        last, length = self._recorded()
        if last < 0:
            self.journal.unlink(missing_ok=True)
            self.path.unlink(missing_ok=True)  # a new query starts a new file
        self._fh = open(self.path, "ab")  # noqa: SIM115 (held open across batches)
        self._fh.truncate(length)

    def write(self, batch: MicroBatch, batch_id: int, mode: str) -> None:
        last, length = self._recorded()
        if batch_id <= last:
            return
        self._fh.truncate(length)
        self._fh.seek(length)
        self._fh.write(json_lines(batch))
        self._fh.flush()
        os.fsync(self._fh.fileno())
        entry = {"query_id": self._query_id, "batch_id": batch_id, "length": self._fh.tell()}
        write_atomic(self.journal, json.dumps(entry).encode())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
