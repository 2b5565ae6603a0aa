"""`BytesColumn`: variable-length binary/text values in Arrow's large-binary layout.

Invariants: `offsets` is int64 with n + 1 non-decreasing entries starting at 0 (a column
sliced by `take` is re-based, so offsets[0] == 0 always holds); value i is
`data[offsets[i]:offsets[i + 1]]`; `valid` is None (no nulls) or a bool array of length n,
and a null value has zero length. `text` marks UTF-8 strings (Arrow's large_string).
All operations are vectorized; nothing loops per value except the `*_pylist` conversions.

`HeadersColumn` (Kafka record headers) is a list of (key, value) structs per row built from
two `BytesColumn`s over a flat header array, in Arrow's large_list layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np

# Above this many rows `take` copies with a numba loop (one pass over the bytes); below it,
# numpy's gather avoids compiling or importing numba for small batches.
NUMBA_TAKE_ROWS = 4096


class BytesColumn:
    __slots__ = ("data", "offsets", "text", "valid")

    def __init__(
        self,
        offsets: np.ndarray,
        data: np.ndarray,
        valid: np.ndarray | None = None,
        text: bool = False,
    ) -> None:
        if offsets.ndim != 1 or len(offsets) == 0:
            raise ValueError("offsets must be a 1-d array of n + 1 entries")
        self.offsets = offsets.astype(np.int64, copy=False)
        self.data = data.view(np.uint8) if data.dtype != np.uint8 else data
        if int(self.offsets[-1]) > len(self.data):
            raise ValueError("offsets point past the end of the data buffer")
        self.valid = None if valid is None or valid.all() else valid.astype(bool, copy=False)
        self.text = text

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def from_pylist(cls, values: Sequence[bytes | str | None], text: bool = False) -> BytesColumn:
        encoded = [
            b"" if v is None else (v.encode() if isinstance(v, str) else bytes(v)) for v in values
        ]
        lengths = np.fromiter((len(v) for v in encoded), dtype=np.int64, count=len(encoded))
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
        valid = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
        return cls(offsets, data, valid, text)

    @classmethod
    def from_fixed(cls, values: np.ndarray, text: bool = False) -> BytesColumn:
        """From a numpy 'S'/'U' array (trailing NULs are not part of the value, as in numpy)."""
        if values.dtype.kind == "U":
            return cls.from_pylist(values.tolist(), text=True)
        width = values.dtype.itemsize
        if width == 0 or len(values) == 0:
            return cls(np.zeros(len(values) + 1, dtype=np.int64), np.empty(0, np.uint8), None, text)
        raw = values.view(np.uint8).reshape(len(values), width)
        nonzero = raw != 0
        # length = index of the last non-NUL byte + 1
        lengths = np.where(nonzero.any(axis=1), width - np.argmax(nonzero[:, ::-1], axis=1), 0)
        mask = np.arange(width)[None, :] < lengths[:, None]
        offsets = np.zeros(len(values) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return cls(offsets, raw[mask], None, text)

    @classmethod
    def concat(cls, parts: Sequence[BytesColumn]) -> BytesColumn:
        datas = [p.data[: int(p.offsets[-1])] for p in parts]
        sizes = np.cumsum([0] + [len(d) for d in datas[:-1]])
        offsets = np.concatenate(
            [np.zeros(1, np.int64)]
            + [p.offsets[1:] + base for p, base in zip(parts, sizes, strict=True)]
        )
        valid = None
        if any(p.valid is not None for p in parts):
            valid = np.concatenate([p.validity() for p in parts])
        return cls(
            offsets, np.concatenate(datas) if datas else np.empty(0, np.uint8), valid, parts[0].text
        )

    # ---- access -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.offsets) - 1

    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def validity(self) -> np.ndarray:
        return self.valid if self.valid is not None else np.ones(len(self), dtype=bool)

    def nbytes(self) -> int:
        return int(self.offsets[-1])

    def __getitem__(self, i: int) -> bytes | str | None:
        if self.valid is not None and not self.valid[i]:
            return None
        raw = self.data[self.offsets[i] : self.offsets[i + 1]].tobytes()
        return raw.decode() if self.text else raw

    def to_pylist(self) -> list[Any]:
        blob = self.data[: self.nbytes()].tobytes()
        offs = self.offsets.tolist()
        if self.text:
            out: list[Any] = [blob[a:b].decode() for a, b in pairwise(offs)]
        else:
            out = [blob[a:b] for a, b in pairwise(offs)]
        if self.valid is not None:
            out = [v if ok else None for v, ok in zip(out, self.valid.tolist(), strict=True)]
        return out

    # ---- vectorized kernels -------------------------------------------------------------
    def take(self, indices: np.ndarray) -> BytesColumn:
        indices = np.asarray(indices, dtype=np.int64)
        valid = None if self.valid is None else self.valid[indices]
        if len(indices) > NUMBA_TAKE_ROWS:
            from pystream.compute import kernels

            offsets = np.empty(len(indices) + 1, dtype=np.int64)
            data = self.data if len(self.data) else np.zeros(1, np.uint8)
            out = kernels.take_bytes(self.offsets, data, indices, offsets)
            return BytesColumn(offsets, out, valid, self.text)
        starts = self.offsets[:-1][indices]
        lengths = self.offsets[1:][indices] - starts
        offsets = np.zeros(len(indices) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        total = int(offsets[-1])
        # byte j of output row r comes from starts[r] + (j - offsets[r])
        gather = np.repeat(starts - offsets[:-1], lengths) + np.arange(total, dtype=np.int64)
        return BytesColumn(offsets, self.data[gather], valid, self.text)

    def slice(self, start: int, stop: int) -> BytesColumn:
        """Rows start..stop-1 sharing this column's data buffer (offsets are re-based)."""
        offsets = self.offsets[start : stop + 1]
        base = int(offsets[0])
        data = self.data[base : int(offsets[-1])]
        valid = None if self.valid is None else self.valid[start:stop]
        return BytesColumn(offsets - base, data, valid, self.text)

    def to_fixed(self) -> np.ndarray:
        """A numpy 'S<w>' array (w = longest value); used for sorting, grouping and joins.

        numpy drops trailing NULs when comparing 'S' values, so callers that must tell b"a"
        from b"a\\x00" group on (fixed, lengths) together, as `compute.grouping` does.
        """
        lengths = self.lengths()
        width = max(int(lengths.max()) if len(lengths) else 0, 1)
        out = np.zeros((len(self), width), dtype=np.uint8)
        mask = np.arange(width)[None, :] < lengths[:, None]
        out[mask] = self.data[: self.nbytes()]
        return out.view(f"S{width}").reshape(len(self))

    def equals_scalar(self, value: bytes | str) -> np.ndarray:
        """Row-wise equality with one value, without materializing Python objects."""
        raw = value.encode() if isinstance(value, str) else value
        lengths = self.lengths()
        hit = lengths == len(raw)
        rows = np.flatnonzero(hit)
        if len(raw) and len(rows):
            idx = self.offsets[rows][:, None] + np.arange(len(raw))[None, :]
            same = (self.data[idx] == np.frombuffer(raw, np.uint8)[None, :]).all(axis=1)
            hit[rows] = same
        return hit & self.validity()

    def decode_text(self) -> BytesColumn:
        return BytesColumn(self.offsets, self.data, self.valid, text=True)

    def to_arrow(self) -> Any:
        import pyarrow as pa

        kind = pa.large_string() if self.text else pa.large_binary()
        bitmap = None
        if self.valid is not None:
            bitmap = pa.py_buffer(np.packbits(self.valid, bitorder="little").tobytes())
        return pa.Array.from_buffers(
            kind, len(self), [bitmap, pa.py_buffer(self.offsets), pa.py_buffer(self.data)]
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BytesColumn):
            return NotImplemented
        return self.to_pylist() == other.to_pylist()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        preview = self.take(np.arange(min(len(self), 3))).to_pylist()
        return f"BytesColumn(n={len(self)}, text={self.text}, head={preview})"


Header = tuple[str, bytes | None]


class HeadersColumn:
    """Kafka record headers: per row a list of (key, value) pairs, Arrow's
    list<struct<key: large_string, value: large_binary>> laid out flat.

    Invariants: `offsets` is int64 with n + 1 non-decreasing entries starting at 0; row i owns
    headers offsets[i]..offsets[i + 1] - 1 of `keys` (text, never null) and `values`
    (nullable bytes, as Kafka allows). A row without headers has an empty list (Spark's Kafka
    source gives null there; an empty list keeps "no headers" and "null" apart). Kernels are
    vectorized over the flat header arrays; only the `*_pylist` conversions loop.
    """

    __slots__ = ("keys", "offsets", "values")

    def __init__(self, offsets: np.ndarray, keys: BytesColumn, values: BytesColumn) -> None:
        if offsets.ndim != 1 or len(offsets) == 0:
            raise ValueError("offsets must be a 1-d array of n + 1 entries")
        if len(keys) != len(values) or int(offsets[-1]) > len(keys):
            raise ValueError("header offsets, keys and values disagree in length")
        self.offsets = offsets.astype(np.int64, copy=False)
        self.keys, self.values = keys, values

    # ---- construction -------------------------------------------------------------------
    @classmethod
    def empty(cls, n: int) -> HeadersColumn:
        """`n` rows without headers."""
        keys = BytesColumn(np.zeros(1, np.int64), np.empty(0, np.uint8), text=True)
        values = BytesColumn(np.zeros(1, np.int64), np.empty(0, np.uint8))
        return cls(np.zeros(n + 1, np.int64), keys, values)

    @classmethod
    def from_pylist(
        cls, rows: Sequence[Sequence[tuple[str | bytes, bytes | None]] | None]
    ) -> HeadersColumn:
        """From per-row lists of (key, value) pairs (None or [] for no headers)."""
        flat = [h for row in rows for h in (row or ())]
        counts = np.fromiter((len(row or ()) for row in rows), dtype=np.int64, count=len(rows))
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        keys = BytesColumn.from_pylist([k for k, _ in flat], text=True)
        return cls(offsets, keys, BytesColumn.from_pylist([v for _, v in flat]))

    @classmethod
    def concat(cls, parts: Sequence[HeadersColumn]) -> HeadersColumn:
        sizes = np.cumsum([0] + [int(p.offsets[-1]) for p in parts[:-1]])
        offsets = np.concatenate(
            [np.zeros(1, np.int64)]
            + [p.offsets[1:] + base for p, base in zip(parts, sizes, strict=True)]
        )
        used = [p.slice_headers(0, int(p.offsets[-1])) for p in parts]
        return cls(
            offsets,
            BytesColumn.concat([k for k, _ in used]),
            BytesColumn.concat([v for _, v in used]),
        )

    # ---- access -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.offsets) - 1

    def counts(self) -> np.ndarray:
        """Headers per row."""
        return np.diff(self.offsets)

    def validity(self) -> np.ndarray:
        return np.ones(len(self), dtype=bool)

    def slice_headers(self, a: int, b: int) -> tuple[BytesColumn, BytesColumn]:
        """Headers a..b-1 of the flat arrays (views)."""
        return self.keys.slice(a, b), self.values.slice(a, b)

    def _pairs(self, a: int, b: int) -> list[Header]:
        keys, values = self.slice_headers(a, b)
        # Kafka does not enforce UTF-8 keys: decode as its clients do, never fail on them
        raw = BytesColumn(keys.offsets, keys.data).to_pylist()
        names = [k.decode("utf-8", "replace") for k in raw]
        return list(zip(names, values.to_pylist(), strict=True))

    def __getitem__(self, i: int) -> list[Header]:
        return self._pairs(int(self.offsets[i]), int(self.offsets[i + 1]))

    def to_pylist(self) -> list[list[Header]]:
        """Per row a list of (key, value) tuples, as `pystream.record.Record.headers`."""
        pairs = self._pairs(0, int(self.offsets[-1]))
        return [pairs[a:b] for a, b in pairwise(self.offsets.tolist())]

    # ---- vectorized kernels -------------------------------------------------------------
    def take(self, indices: np.ndarray) -> HeadersColumn:
        indices = np.asarray(indices, dtype=np.int64)
        starts = self.offsets[:-1][indices]
        counts = self.offsets[1:][indices] - starts
        offsets = np.zeros(len(indices) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        total = int(offsets[-1])
        if total == 0:
            return HeadersColumn.empty(len(indices))
        # header j of the output comes from starts[r] + (j - offsets[r]) for its row r
        gather = np.repeat(starts - offsets[:-1], counts) + np.arange(total, dtype=np.int64)
        return HeadersColumn(offsets, self.keys.take(gather), self.values.take(gather))

    def slice(self, start: int, stop: int) -> HeadersColumn:
        """Rows start..stop-1 sharing the header buffers (offsets re-based)."""
        offsets = self.offsets[start : stop + 1]
        base = int(offsets[0])
        keys, values = self.slice_headers(base, int(offsets[-1]))
        return HeadersColumn(offsets - base, keys, values)

    def header_index(self, key: str | bytes) -> np.ndarray:
        """Per row, the flat index of its last header named `key` (-1 where none), as
        Kafka's `Headers.lastHeader`."""
        out = np.full(len(self), -1, dtype=np.int64)
        hits = np.flatnonzero(self.keys.equals_scalar(key))
        if len(hits):
            rows = np.searchsorted(self.offsets, hits, side="right") - 1
            last = np.append(rows[1:] != rows[:-1], True)  # hits ascend: a row's last one
            out[rows[last]] = hits[last]
        return out

    def get(self, key: str | bytes) -> BytesColumn:
        """The value of each row's last header named `key`: bytes, null where the row has
        no such header or its value is null."""
        index = self.header_index(key)
        found = index >= 0
        if not found.any():
            return BytesColumn(np.zeros(len(self) + 1, np.int64), np.empty(0, np.uint8), found)
        picked = self.values.take(np.where(found, index, 0))
        valid = found & picked.validity()
        if valid.all():
            return picked
        # a null item has zero length: drop the bytes of rows without the header
        lengths = picked.lengths()
        keep = np.repeat(valid, lengths)
        offsets = np.zeros(len(self) + 1, dtype=np.int64)
        np.cumsum(np.where(valid, lengths, 0), out=offsets[1:])
        return BytesColumn(offsets, picked.data[: picked.nbytes()][keep], valid)

    def to_arrow(self) -> Any:
        import pyarrow as pa

        struct = pa.StructArray.from_arrays(
            [self.keys.to_arrow(), self.values.to_arrow()], names=["key", "value"]
        )
        return pa.LargeListArray.from_arrays(pa.array(self.offsets), struct)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HeadersColumn):
            return NotImplemented
        return self.to_pylist() == other.to_pylist()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        preview = self.take(np.arange(min(len(self), 3))).to_pylist()
        return f"HeadersColumn(n={len(self)}, headers={int(self.offsets[-1])}, head={preview})"
