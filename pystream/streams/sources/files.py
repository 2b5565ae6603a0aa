"""`FileSource`: files appearing in a directory, read as a stream (Spark's file source).

    FileSource("/data/clicks", "json", {"page": "str", "user": "int64"})
    FileSource("/data/in/*.csv", "csv", schema, header=True, max_files_per_trigger=10)

Files are numbered in the order they are first seen: each listing (one per trigger) sorts
the files not seen before by modification time then name (newest first with
`latest_first`), and appends them to the source's **file log**. The source has one
partition whose offsets are positions in that log, so the checkpoint's offsets entries
hold file indices: a batch covers files [start, end), the per-trigger cap counts files
(`max_files_per_trigger`, Spark's maxFilesPerTrigger), and a batch logged but not
committed is re-run with exactly the same files.

The file log lives in the query's checkpoint (`sources/<name>/files`, one JSON line per
file: path, size, modification time), appended and fsynced before an offsets entry can
name its indices, so a restart knows every file already numbered and never reads a
committed file again; a torn last line (a crash while appending) is dropped. Without a
checkpoint (a source used on its own) the log is kept in memory.

Files are expected to be complete when they appear (write elsewhere, then rename into the
directory); names starting with "." or "_" are ignored, as Spark does, and so are files
already seen, even if they change later. `path_column` adds the file's path to every row
(Spark's `input_file_name()`).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np

from pystream.streams.batch import MicroBatch
from pystream.streams.bytes_column import BytesColumn
from pystream.streams.sources import file_formats as ff
from pystream.streams.sources.base import Offsets, Source
from pystream.streams.sources.csv_reader import read_csv

_GLOB_CHARS = set("*?[")


class FileLog:
    """The numbered list of files a source has seen: append-only, in memory and (once
    `attach`ed) in one file, each entry fsynced before it is used."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.seen: set[str] = set()
        self.path: Path | None = None

    def attach(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "files"
        self.entries, self.seen = [], set()
        self.reload()

    def reload(self) -> None:
        """Read entries appended since the last read (by this or another process)."""
        if self.path is None or not self.path.exists():
            return
        raw = self.path.read_bytes()
        complete = raw[: raw.rfind(b"\n") + 1]  # a torn last line was never used
        for line in complete.splitlines()[len(self.entries) :]:
            try:
                entry = json.loads(line)
                ok = entry["index"] == len(self.entries) and isinstance(entry["path"], str)
            except (ValueError, KeyError, TypeError):
                ok = False
            if not ok:
                raise ValueError(
                    f"{self.path}: entry {len(self.entries)} is unreadable: {line!r:.200}"
                )
            self.entries.append(entry)
            self.seen.add(entry["path"])
        if len(complete) != len(raw):
            with open(self.path, "r+b") as f:
                f.truncate(len(complete))

    def append(self, files: list[dict[str, Any]]) -> None:
        base = len(self.entries)
        new = [{"index": base + i, **f} for i, f in enumerate(files)]
        if self.path is not None:
            data = b"".join(json.dumps(e, sort_keys=True).encode() + b"\n" for e in new)
            with open(self.path, "ab") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        self.entries.extend(new)
        self.seen.update(e["path"] for e in new)

    def __len__(self) -> int:
        return len(self.entries)


class FileSource(Source):
    readable_in_workers = True  # workers read the files themselves (the log is on disk)

    def __init__(
        self,
        path: str | os.PathLike[str],
        format: str = "json",
        schema: Mapping[str, str] | None = None,
        *,
        dtype: np.dtype | list[tuple[str, str]] | None = None,
        name: str | None = None,
        max_files_per_trigger: int | None = None,
        latest_first: bool = False,
        mode: str = "permissive",
        header: bool = False,
        sep: str = ",",
        whole_text: bool = False,
        path_column: str | None = None,
    ) -> None:
        """`path` is a directory (every file directly in it) or a glob pattern ("**" for
        subdirectories). `format`: "json" (JSON lines) and "csv" need `schema` (numpy dtypes,
        "str" or "bytes"; a "_corrupt_record" str column receives malformed lines in
        permissive mode); "text" gives one `value` str row per line (per file with
        `whole_text`); "binary" reads back-to-back records of the structured `dtype`.
        `mode`: "permissive", "dropmalformed" or "failfast" (Spark's names)."""
        self.format = format.lower()
        if self.format not in ff.FORMATS:
            raise ValueError(f"format must be one of {ff.FORMATS}, not {format!r}")
        self.mode = ff.check_mode(mode)
        if max_files_per_trigger is not None and max_files_per_trigger < 1:
            raise ValueError("max_files_per_trigger must be >= 1")
        self.path = os.fspath(path)
        self.pattern = (
            self.path
            if _GLOB_CHARS & set(self.path) or not os.path.isdir(self.path)
            else os.path.join(self.path, "*")
        )
        self.name = name or f"file:{self.path}"
        self.max_records_per_trigger = max_files_per_trigger
        self.latest_first, self.header, self.sep = latest_first, header, sep
        self.whole_text, self.path_column = whole_text, path_column
        self.dtype = None if dtype is None else np.dtype(dtype)
        self.schema = self._data_schema(schema)
        if path_column is not None:
            if path_column in self.schema:
                raise ValueError(f"path_column {path_column!r} is also a data column")
            self.schema[path_column] = "str"
        self.log = FileLog()
        self._lock = threading.Lock()

    def _data_schema(self, schema: Mapping[str, str] | None) -> dict[str, str]:
        if self.format == "text":
            return {"value": "str"}
        if self.format == "binary":
            if self.dtype is None:
                raise ValueError("the binary format needs dtype= (a structured numpy dtype)")
            return ff.binary_schema(self.dtype)
        if not schema:
            raise ValueError(f"the {self.format} format needs a schema")
        if schema.get(ff.CORRUPT_RECORD, "str") != "str":
            raise ValueError(f"{ff.CORRUPT_RECORD} must be a str column")
        return dict(schema)

    # ---- checkpoint ---------------------------------------------------------------------
    def open(self, checkpoint: Path) -> None:
        """Keep the file log in the query's checkpoint (called when the query starts)."""
        with self._lock:
            self.log.attach(Path(checkpoint) / "sources" / _dir_name(self.name))

    # ---- Source -------------------------------------------------------------------------
    def initial_offsets(self) -> Offsets:
        return {0: 0}

    def latest_offsets(self) -> Offsets:
        with self._lock:
            self.log.append(self._new_files())
            return {0: len(self.log)}

    def list_files(self) -> list[str]:
        """The paths the pattern matches now (regular files, no hidden names)."""
        out = []
        for p in glob.glob(self.pattern, recursive=True):
            if os.path.basename(p).startswith((".", "_")) or not os.path.isfile(p):
                continue
            out.append(p)
        return out

    def _new_files(self) -> list[dict[str, Any]]:
        found = []
        for p in self.list_files():
            if p in self.log.seen:
                continue
            try:
                st = os.stat(p)
            except FileNotFoundError:
                continue  # gone between the listing and the stat
            found.append({"path": p, "mtime_ns": st.st_mtime_ns, "size": st.st_size})
        found.sort(key=lambda f: (f["mtime_ns"], f["path"]), reverse=self.latest_first)
        return found

    def files(self, start: int, end: int) -> list[str]:
        """The paths of files start..end-1 of the log."""
        with self._lock:
            if end > len(self.log):
                self.log.reload()  # numbered by the driver after this process forked
            if end > len(self.log):
                raise ValueError(f"{self.name}: files up to {end} asked, {len(self.log)} known")
            return [e["path"] for e in self.log.entries[start:end]]

    def read(self, start: Offsets, end: Offsets) -> MicroBatch:
        paths = self.files(start.get(0, 0), end.get(0, 0))
        if not paths:
            return MicroBatch.empty(self.schema)
        contents = [(p, _read_bytes(p)) for p in paths]
        batch, origins = self._parse(contents)
        if self.path_column is not None:
            names = BytesColumn.from_pylist(paths, text=True)
            batch = batch.with_columns({self.path_column: names.take(origins)})
        return batch

    def _parse(self, files: list[ff.FileData]) -> tuple[MicroBatch, np.ndarray]:
        if self.format == "text":
            return ff.read_text(files, self.mode, self.whole_text)
        if self.format == "json":
            return ff.read_json(files, self.schema_without_path, self.mode)
        if self.format == "binary":
            assert self.dtype is not None
            return ff.read_binary(files, self.dtype)
        parts = [
            read_csv(p, d, self.schema_without_path, self.mode, self.header, self.sep)
            for p, d in files
        ]
        counts = [b.num_rows for b in parts]
        return MicroBatch.concat(parts), np.repeat(np.arange(len(parts)), counts)

    @property
    def schema_without_path(self) -> dict[str, str]:
        return {k: v for k, v in self.schema.items() if k != self.path_column}


def _dir_name(name: str) -> str:
    """A directory name for a source name (quoted; long ones shortened with a hash)."""
    safe = quote(name, safe="")
    if len(safe) <= 200:
        return safe
    return f"{safe[:150]}-{hashlib.sha256(name.encode()).hexdigest()[:16]}"


def _read_bytes(path: str) -> np.ndarray:
    try:
        return np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        raise FileNotFoundError(
            f"{path}: numbered by the file source but gone (files must stay until read)"
        ) from None
    except OSError as exc:
        raise OSError(f"{path}: cannot be read: {exc}") from exc
