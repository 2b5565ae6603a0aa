"""Value formats: how record values (bytes) become typed columns, and back.

- `RawFormat`: the bytes as they are, or as UTF-8 text (`text=True`).
- `JsonFormat(schema)`: one JSON object per value, fields picked by a schema of numpy dtypes
  / "str" / "bytes"; missing or mistyped fields (and integers out of the dtype's range)
  become nulls. `mode="failfast"` raises on a
  value that is not a JSON object; `mode="permissive"` (Spark's default) keeps the row with
  null fields and the raw value in `_corrupt_record`.
- `FixedLayout(dtype)`: every value is exactly one record of a numpy structured dtype, so a
  whole batch decodes with one `np.frombuffer` and no per-value work: the fast path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from pystream._native import NativeBuffer, json_columns
from pystream.streams.batch import MicroBatch
from pystream.streams.bytes_column import BytesColumn


def _array(buffer: NativeBuffer) -> np.ndarray:
    return np.frombuffer(memoryview(buffer), dtype=buffer.dtype)


def _native_kinds(schema: Mapping[str, str]) -> list[tuple[str, str]] | None:
    """The schema as the native decoder's (name, kind) pairs, or None if a kind has no
    native column (e.g. datetime64, complex)."""
    kinds = []
    for name, kind in schema.items():
        if kind not in ("str", "bytes"):
            dtype = np.dtype(kind)
            if dtype.kind not in "biuf" or dtype.byteorder not in "=|":
                return None
            kind = dtype.name
        kinds.append((name, kind))
    return kinds


class FormatError(ValueError):
    """A value that does not fit its declared format."""


class ValueFormat:
    def decode(self, values: BytesColumn, num_rows: int) -> MicroBatch:
        raise NotImplementedError

    def encode(self, batch: MicroBatch) -> BytesColumn:
        raise NotImplementedError


class RawFormat(ValueFormat):
    def __init__(self, name: str = "value", text: bool = False) -> None:
        self.name, self.text = name, text

    def decode(self, values: BytesColumn, num_rows: int) -> MicroBatch:
        return MicroBatch(
            {self.name: BytesColumn(values.offsets, values.data, values.valid, self.text)}
        )

    def encode(self, batch: MicroBatch) -> BytesColumn:
        col = batch[self.name]
        if not isinstance(col, BytesColumn):
            raise FormatError(f"raw format needs a bytes column, {self.name!r} holds numbers")
        return col


class JsonFormat(ValueFormat):
    def __init__(self, schema: Mapping[str, str], mode: str = "permissive") -> None:
        if mode not in ("permissive", "failfast"):
            raise ValueError("mode must be 'permissive' or 'failfast'")
        self.schema, self.mode = dict(schema), mode

    def _decode_native(self, values: BytesColumn, num_rows: int) -> MicroBatch | None:
        """One native pass (`pystream._native.json_columns`) over the batch; None sends it
        down the per-value path: a kind the native decoder lacks, or any value that is not
        one JSON object or that Python's json might read otherwise (the per-value path
        applies the error rules and keeps the raw values)."""
        if num_rows == 0:
            return None
        kinds = _native_kinds(self.schema)
        if kinds is None:
            return None
        valid = None if values.valid is None else values.valid.view(np.uint8).data
        offsets, data = np.ascontiguousarray(values.offsets), np.ascontiguousarray(values.data)
        columns, bad = json_columns(offsets.data, data.data, valid, kinds)
        if len(bad):
            return None
        cols: dict[str, Any] = {}
        masks: dict[str, np.ndarray] = {}
        for (name, kind), (column_data, mask, column_offsets) in zip(kinds, columns, strict=True):
            present = None if mask is None else _array(mask).view(np.bool_)
            if column_offsets is not None:
                text = self.schema[name] == "str"
                cols[name] = BytesColumn(
                    _array(column_offsets), _array(column_data), present, text=text
                )
                continue
            column = _array(column_data)
            cols[name] = (
                column.view(np.bool_) if kind == "bool" else column.astype(kind, copy=False)
            )
            if present is not None:
                masks[name] = present
        return MicroBatch(cols, masks, num_rows=num_rows)

    def _parse(self, values: BytesColumn) -> tuple[list[Any], list[bool]]:
        raw = values.to_pylist()
        texts = [b"null" if v is None else v for v in raw]
        try:  # one json.loads for the whole batch; per-value parsing only to locate bad values
            objs = json.loads(b"[" + b",".join(texts) + b"]")
            if len(objs) == len(texts):
                return objs, [
                    isinstance(o, dict) or r is None for o, r in zip(objs, raw, strict=True)
                ]
        except ValueError:
            pass
        objs, ok = [], []
        for v, r in zip(texts, raw, strict=True):
            try:
                obj = json.loads(v)
            except ValueError:
                obj = None
            objs.append(obj)
            ok.append(isinstance(obj, dict) or r is None)  # the text "null" is no object
        return objs, ok

    def decode(self, values: BytesColumn, num_rows: int) -> MicroBatch:
        fast = self._decode_native(values, num_rows)
        if fast is not None:
            return fast
        objs, ok = self._parse(values)
        if not all(ok):
            bad = ok.index(False)
            if self.mode == "failfast":
                raise FormatError(
                    f"value {bad} of the batch is not a JSON object: {values[bad]!r:.200}"
                )
        rows = [o if isinstance(o, dict) else {} for o in objs]
        cols: dict[str, Any] = {}
        valid: dict[str, np.ndarray] = {}
        for name, kind in self.schema.items():
            picked = [r.get(name) for r in rows]
            if kind in ("str", "bytes"):
                cleaned = [v if isinstance(v, str) else None for v in picked]
                cols[name] = BytesColumn.from_pylist(cleaned, text=kind == "str")
                continue
            dtype = np.dtype(kind)
            accepted = (
                (bool,) if dtype.kind == "b" else (int, float) if dtype.kind == "f" else (int,)
            )
            mask = np.array(
                [
                    isinstance(v, accepted) and (dtype.kind == "b" or not isinstance(v, bool))
                    for v in picked
                ],
                dtype=bool,
            )
            if dtype.kind in "iu":  # an integer the dtype cannot hold is null, not an error
                lo, hi = int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
                fits = [isinstance(v, int) and lo <= v <= hi for v in picked]
                mask &= np.array(fits, dtype=np.bool_)
            filler = False if dtype.kind == "b" else 0
            cols[name] = np.array(
                [v if m else filler for v, m in zip(picked, mask, strict=True)], dtype=dtype
            )
            if not mask.all():
                valid[name] = mask
        if self.mode == "permissive" and not all(ok):
            corrupt = [
                None if good else raw for good, raw in zip(ok, values.to_pylist(), strict=True)
            ]
            cols["_corrupt_record"] = BytesColumn.from_pylist(corrupt)
        return MicroBatch(cols, valid, num_rows=num_rows)

    def encode(self, batch: MicroBatch) -> BytesColumn:
        rows = batch.select([n for n in self.schema if n in batch]).to_pylist()
        return BytesColumn.from_pylist([json.dumps(r, separators=(",", ":")) for r in rows])


class FixedLayout(ValueFormat):
    """Values laid out as one numpy structured record each, e.g. dtype([("id", "<i8"), ...])."""

    def __init__(self, dtype: np.dtype | list[tuple[str, str]]) -> None:
        self.dtype = np.dtype(dtype)
        if self.dtype.names is None:
            raise ValueError("FixedLayout needs a structured dtype with named fields")

    def decode(self, values: BytesColumn, num_rows: int) -> MicroBatch:
        size = self.dtype.itemsize
        lengths = values.lengths()
        wrong = np.flatnonzero(lengths != size)
        if len(wrong):
            i = int(wrong[0])
            raise FormatError(
                f"{len(wrong)} value(s) do not have the layout's {size} bytes "
                f"(first: value {i} has {int(lengths[i])})"
            )
        start = int(values.offsets[0]) if len(values) else 0
        records = np.frombuffer(values.data, dtype=self.dtype, count=len(values), offset=start)
        assert self.dtype.names is not None
        return MicroBatch({name: records[name] for name in self.dtype.names}, num_rows=num_rows)

    def encode(self, batch: MicroBatch) -> BytesColumn:
        assert self.dtype.names is not None
        records = np.empty(batch.num_rows, dtype=self.dtype)
        for name in self.dtype.names:
            records[name] = batch[name]
        offsets = np.arange(batch.num_rows + 1, dtype=np.int64) * self.dtype.itemsize
        return BytesColumn(offsets, records.view(np.uint8))
