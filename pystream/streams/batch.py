"""Columnar micro-batches: the unit of data every stream operator consumes and produces.

A `MicroBatch` is an ordered set of equally long columns. A column is either a numpy array
(integers, floats, booleans; timestamps are int64 milliseconds since the epoch, as in Kafka)
or a `BytesColumn`, which has Arrow's "large binary" layout: int64 offsets (n + 1 of them),
one contiguous uint8 data buffer, and a validity mask. Numeric columns may carry a validity
mask too (`MicroBatch.valid`); a missing mask means "no nulls".

Validity is kept as one bool per value rather than Arrow's bitmap because numpy operates on
it directly; `to_arrow` packs it when a batch leaves for pyarrow.

Kafka record headers are a `HeadersColumn` (schema kind "headers"): per row a list of
(key, value) pairs over flat key and value `BytesColumn`s, Arrow's large_list of structs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from pystream.streams.bytes_column import BytesColumn, HeadersColumn

# A column operators can compare, group, hash and join on.
FlatColumn = np.ndarray | BytesColumn
Column = FlatColumn | HeadersColumn
# Columns that are not numpy arrays: they carry their own validity and kernels.
NESTED = (BytesColumn, HeadersColumn)

__all__ = [
    "BytesColumn",
    "Column",
    "FlatColumn",
    "HeadersColumn",
    "MicroBatch",
    "column_length",
    "flat_column",
    "take_column",
]


def column_length(column: Column) -> int:
    return len(column)


def flat_column(column: Column, name: str, use: str = "use") -> FlatColumn:
    """`column` as a key/value column; a headers column cannot be one (extract a header first
    with `col(name).header(key)`)."""
    if isinstance(column, HeadersColumn):
        raise TypeError(
            f"cannot {use} the headers column {name!r}; "
            f"pick a header with F.col({name!r}).header(key)"
        )
    return column


def take_column(column: Column, indices: np.ndarray) -> Column:
    if isinstance(column, NESTED):
        return column.take(indices)
    return column[indices]


def _concat_column(parts: Sequence[Column]) -> Column:
    if isinstance(parts[0], BytesColumn):
        return BytesColumn.concat(parts)  # type: ignore[arg-type]
    if isinstance(parts[0], HeadersColumn):
        return HeadersColumn.concat(parts)  # type: ignore[arg-type]
    return np.concatenate(parts)  # type: ignore[arg-type]


class MicroBatch:
    """An immutable-by-convention table of columns; operators return new batches."""

    __slots__ = ("columns", "num_rows", "valid")

    def __init__(
        self,
        columns: Mapping[str, Column],
        valid: Mapping[str, np.ndarray] | None = None,
        num_rows: int | None = None,
    ) -> None:
        self.columns: dict[str, Column] = dict(columns)
        lengths = {len(c) for c in self.columns.values()}
        if len(lengths) > 1:
            sizes = {k: len(c) for k, c in self.columns.items()}
            raise ValueError(f"columns differ in length: {sizes}")
        self.num_rows = lengths.pop() if lengths else (num_rows or 0)
        self.valid: dict[str, np.ndarray] = {}
        for name, mask in (valid or {}).items():
            if name not in self.columns or isinstance(self.columns[name], NESTED):
                continue
            if not mask.all():
                self.valid[name] = mask.astype(bool, copy=False)

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def empty(cls, schema: Mapping[str, str]) -> MicroBatch:
        cols: dict[str, Column] = {}
        for name, kind in schema.items():
            if kind in ("bytes", "str"):
                cols[name] = BytesColumn.from_pylist([], text=kind == "str")
            elif kind == "headers":
                cols[name] = HeadersColumn.empty(0)
            else:
                cols[name] = np.empty(0, dtype=kind)
        return cls(cols)

    @classmethod
    def from_pylist(
        cls, rows: Sequence[Mapping[str, Any]], schema: Mapping[str, str]
    ) -> MicroBatch:
        """Build a batch from row dicts; `schema` maps names to numpy dtypes, "bytes", "str"
        or "headers" (lists of (key, value) pairs)."""
        unknown = set().union(*rows) - set(schema) if rows else set()
        if unknown:
            raise ValueError(
                f"rows have columns {sorted(unknown)} that the schema {dict(schema)} lacks"
            )
        cols: dict[str, Column] = {}
        valid: dict[str, np.ndarray] = {}
        for name, kind in schema.items():
            values = [r.get(name) for r in rows]
            if kind in ("bytes", "str"):
                cols[name] = BytesColumn.from_pylist(values, text=kind == "str")
                continue
            if kind == "headers":
                cols[name] = HeadersColumn.from_pylist(values)
                continue
            mask = np.array([v is not None for v in values], dtype=bool)
            filler = 0 if np.dtype(kind).kind != "b" else False
            cols[name] = np.array([filler if v is None else v for v in values], dtype=kind)
            if not mask.all():
                valid[name] = mask
        return cls(cols, valid, num_rows=len(rows))

    @classmethod
    def concat(cls, batches: Sequence[MicroBatch]) -> MicroBatch:
        batches = [b for b in batches if b.columns]
        if not batches:
            return cls({})
        if len(batches) == 1:
            return batches[0]
        names = list(batches[0].columns)
        for b in batches[1:]:
            if list(b.columns) != names:
                raise ValueError(
                    f"cannot concatenate batches with columns {names} and {list(b.columns)}"
                )
        cols = {n: _concat_column([b.columns[n] for b in batches]) for n in names}
        valid = {}
        for n in names:
            if any(n in b.valid for b in batches):
                valid[n] = np.concatenate([b.validity(n) for b in batches])
        return cls(cols, valid)

    # ---- access -------------------------------------------------------------------------
    def __len__(self) -> int:
        return self.num_rows

    def __contains__(self, name: object) -> bool:
        return name in self.columns

    def __getitem__(self, name: str) -> Column:
        try:
            return self.columns[name]
        except KeyError:
            raise KeyError(f"no column {name!r}; columns are {list(self.columns)}") from None

    @property
    def names(self) -> list[str]:
        return list(self.columns)

    @property
    def schema(self) -> dict[str, str]:
        out = {}
        for name, col in self.columns.items():
            if isinstance(col, BytesColumn):
                out[name] = "str" if col.text else "bytes"
            elif isinstance(col, HeadersColumn):
                out[name] = "headers"
            else:
                out[name] = (
                    col.dtype.name if col.ndim == 1 else f"{col.dtype.name}{list(col.shape[1:])}"
                )
        return out

    def flat(self, name: str, use: str = "use") -> FlatColumn:
        """Column `name` where a flat column is needed (a TypeError for a headers column)."""
        return flat_column(self[name], name, use)

    def validity(self, name: str) -> np.ndarray:
        col = self[name]
        if isinstance(col, NESTED):
            return col.validity()
        mask = self.valid.get(name)
        return mask if mask is not None else np.ones(self.num_rows, dtype=bool)

    # ---- transformation -----------------------------------------------------------------
    def take(self, indices: np.ndarray) -> MicroBatch:
        cols = {n: take_column(c, indices) for n, c in self.columns.items()}
        valid = {n: m[indices] for n, m in self.valid.items()}
        return MicroBatch(cols, valid, num_rows=len(indices))

    def slice(self, start: int, stop: int) -> MicroBatch:
        """Rows start..stop-1 without copying (numpy views, re-based bytes offsets)."""
        cols = {
            n: c.slice(start, stop) if isinstance(c, NESTED) else c[start:stop]
            for n, c in self.columns.items()
        }
        valid = {n: m[start:stop] for n, m in self.valid.items()}
        return MicroBatch(cols, valid, num_rows=max(0, min(stop, self.num_rows) - start))

    def filter(self, mask: np.ndarray) -> MicroBatch:
        if mask.all():
            return self
        return self.take(np.flatnonzero(mask))

    def select(self, names: Iterable[str]) -> MicroBatch:
        names = list(names)
        valid = {n: self.valid[n] for n in names if n in self.valid}
        return MicroBatch({n: self[n] for n in names}, valid, num_rows=self.num_rows)

    def with_columns(
        self, columns: Mapping[str, Column], valid: Mapping[str, np.ndarray | None] | None = None
    ) -> MicroBatch:
        cols = dict(self.columns)
        cols.update(columns)
        masks = {n: m for n, m in self.valid.items() if n not in columns}
        for n, m in (valid or {}).items():
            if m is not None:
                masks[n] = m
        return MicroBatch(cols, masks, num_rows=self.num_rows)

    def rename(self, mapping: Mapping[str, str]) -> MicroBatch:
        cols = {mapping.get(n, n): c for n, c in self.columns.items()}
        valid = {mapping.get(n, n): m for n, m in self.valid.items()}
        return MicroBatch(cols, valid, num_rows=self.num_rows)

    # ---- export -------------------------------------------------------------------------
    def to_pylist(self) -> list[dict[str, Any]]:
        """Rows as dicts, nulls as None (for sinks, tests and small outputs; per-row Python)."""
        pycols: dict[str, list[Any]] = {}
        for name, col in self.columns.items():
            if isinstance(col, NESTED):
                pycols[name] = col.to_pylist()
            else:
                values = col.tolist()
                mask = self.valid.get(name)
                if mask is not None:
                    values = [
                        v if ok else None for v, ok in zip(values, mask.tolist(), strict=True)
                    ]
                pycols[name] = values
        names = list(pycols)
        return [dict(zip(names, row, strict=True)) for row in zip(*pycols.values(), strict=True)]

    def to_arrow(self) -> Any:
        """A `pyarrow.Table` sharing the numeric buffers (pyarrow is imported here only)."""
        import pyarrow as pa

        arrays = []
        for name, col in self.columns.items():
            if isinstance(col, NESTED):
                arrays.append(col.to_arrow())
            else:
                mask = self.valid.get(name)
                arrays.append(pa.array(col, mask=None if mask is None else ~mask))
        return pa.Table.from_arrays(arrays, names=self.names)

    def __repr__(self) -> str:
        return f"MicroBatch(rows={self.num_rows}, schema={self.schema})"
