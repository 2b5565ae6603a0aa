"""The checkpoint directory of a streaming query, on Spark's model.

Layout::

    <checkpoint>/metadata            {"id": query id}
    <checkpoint>/offsets/<batch id>  written BEFORE the batch runs: its source offset range,
                                     watermark and whether it is the end-of-input batch
    <checkpoint>/commits/<batch id>  written AFTER the sink and the state: the watermark for
                                     the next batch and the event-time maxima behind it
    <checkpoint>/state/<node>/<p>/<batch id>.npz   state tables of stateful operators
                                     for shuffle partition p (0 only, without workers)
    <checkpoint>/shuffle_partitions  how many shuffle partitions the state is split into
                                     (written by parallel queries; missing means 1)

Every file is written to a temporary name, fsynced and renamed, so a crash leaves either
the old or the new version. Log entries are text: a version line "v1", then JSON.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from pystream.streams.batch import MicroBatch
from pystream.streams.bytes_column import BytesColumn, HeadersColumn

LOG_VERSION = "v1"


class CheckpointError(RuntimeError):
    """The checkpoint directory is unreadable or belongs to an incompatible query."""


def write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class BatchLog:
    """A directory of entries named by batch id (Spark's HDFSMetadataLog)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)

    def ids(self) -> list[int]:
        return sorted(int(p.name) for p in self.path.iterdir() if p.name.isdigit())

    def write(self, batch_id: int, entry: dict[str, Any]) -> None:
        text = f"{LOG_VERSION}\n{json.dumps(entry, sort_keys=True)}\n"
        write_atomic(self.path / str(batch_id), text.encode())

    def get(self, batch_id: int) -> dict[str, Any] | None:
        path = self.path / str(batch_id)
        if not path.exists():
            return None
        version, _, body = path.read_text().partition("\n")
        if version != LOG_VERSION:
            raise CheckpointError(f"{path}: unsupported log version {version!r}")
        try:
            entry: dict[str, Any] = json.loads(body)
            return entry
        except ValueError as exc:
            raise CheckpointError(f"{path}: unreadable entry: {exc}") from exc

    def latest(self) -> tuple[int, dict[str, Any]] | None:
        ids = self.ids()
        if not ids:
            return None
        entry = self.get(ids[-1])
        assert entry is not None
        return ids[-1], entry

    def purge_before(self, batch_id: int) -> None:
        for i in self.ids():
            if i < batch_id:
                (self.path / str(i)).unlink(missing_ok=True)


def _put_bytes(arrays: dict[str, np.ndarray], prefix: str, col: BytesColumn) -> None:
    arrays[f"{prefix}.offsets"], arrays[f"{prefix}.data"] = col.offsets, col.data[: col.nbytes()]
    if col.valid is not None:
        arrays[f"{prefix}.valid"] = col.valid


def _get_bytes(arrays: Any, prefix: str, text: bool) -> BytesColumn:
    return BytesColumn(
        arrays[f"{prefix}.offsets"], arrays[f"{prefix}.data"], arrays.get(f"{prefix}.valid"), text
    )


def _encode_table(table: MicroBatch) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    schema = []
    for i, (name, col) in enumerate(table.columns.items()):
        if isinstance(col, BytesColumn):
            _put_bytes(arrays, f"c{i}", col)
            schema.append({"name": name, "kind": "bytes", "text": col.text})
        elif isinstance(col, HeadersColumn):
            arrays[f"c{i}.offsets"] = col.offsets
            _put_bytes(arrays, f"c{i}.keys", col.keys)
            _put_bytes(arrays, f"c{i}.values", col.values)
            schema.append({"name": name, "kind": "headers"})
        else:
            arrays[f"c{i}.values"] = col
            if name in table.valid:
                arrays[f"c{i}.valid"] = table.valid[name]
            schema.append({"name": name, "kind": "array"})
    meta = json.dumps({"schema": schema, "rows": table.num_rows}).encode()
    arrays["meta"] = np.frombuffer(meta, dtype=np.uint8)
    return arrays


def _decode_table(arrays: Any) -> MicroBatch:
    meta = json.loads(bytes(arrays["meta"]))
    cols: dict[str, Any] = {}
    valid: dict[str, np.ndarray] = {}
    for i, field in enumerate(meta["schema"]):
        if field["kind"] == "bytes":
            cols[field["name"]] = _get_bytes(arrays, f"c{i}", field["text"])
        elif field["kind"] == "headers":
            cols[field["name"]] = HeadersColumn(
                arrays[f"c{i}.offsets"],
                _get_bytes(arrays, f"c{i}.keys", True),
                _get_bytes(arrays, f"c{i}.values", False),
            )
        else:
            cols[field["name"]] = arrays[f"c{i}.values"]
            mask = arrays.get(f"c{i}.valid")
            if mask is not None:
                valid[field["name"]] = mask
    return MicroBatch(cols, valid, num_rows=meta["rows"])


class CheckpointDir:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.offsets = BatchLog(self.path / "offsets")
        self.commits = BatchLog(self.path / "commits")
        meta = self.path / "metadata"
        if not meta.exists():
            write_atomic(meta, json.dumps({"id": str(uuid.uuid4())}).encode())
        self.query_id = json.loads(meta.read_text())["id"]

    def _state_dir(self, node_id: int, partition: int = 0) -> Path:
        return self.path / "state" / str(node_id) / str(partition)

    def save_state(
        self, node_id: int, batch_id: int, tables: dict[str, MicroBatch], partition: int = 0
    ) -> None:
        directory = self._state_dir(node_id, partition)
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        for tname, table in tables.items():
            arrays.update({f"{tname}/{k}": v for k, v in _encode_table(table).items()})
        tmp = directory / f".{batch_id}.npz.tmp"
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)  # type: ignore[arg-type]
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, directory / f"{batch_id}.npz")

    def load_state(self, node_id: int, batch_id: int, partition: int = 0) -> dict[str, MicroBatch]:
        path = self._state_dir(node_id, partition) / f"{batch_id}.npz"
        if not path.exists():
            raise CheckpointError(f"missing state snapshot {path} for committed batch {batch_id}")
        with np.load(path, allow_pickle=False) as npz:
            grouped: dict[str, dict[str, np.ndarray]] = {}
            for key in npz.files:
                tname, _, field = key.partition("/")
                grouped.setdefault(tname, {})[field] = npz[key]
        return {tname: _decode_table(arrays) for tname, arrays in grouped.items()}

    def purge_state_before(self, node_id: int, batch_id: int, partition: int = 0) -> None:
        directory = self._state_dir(node_id, partition)
        if not directory.exists():
            return
        for p in directory.glob("*.npz"):
            if int(p.stem) < batch_id:
                p.unlink(missing_ok=True)
