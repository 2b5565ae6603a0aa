"""pyarrow tables -> `MicroBatch`es, for the file readers' fast paths (pyarrow is optional:
callers import this module only after importing pyarrow succeeded)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from pystream.streams.batch import Column, MicroBatch
from pystream.streams.bytes_column import BytesColumn


def arrow_type(kind: str, binary: Any = None) -> Any:
    """The Arrow type read for a schema kind (numpy dtype, "str", "bytes")."""
    if kind == "str":
        return pa.large_string()
    if kind == "bytes":
        return pa.large_binary() if binary is None else binary
    return pa.from_numpy_dtype(np.dtype(kind))


def table_to_batch(table: Any, fields: Mapping[str, str]) -> MicroBatch:
    """Columns of `table` named by `fields`, as numpy arrays (nulls -> a validity mask) and
    `BytesColumn`s sharing Arrow's buffers."""
    cols: dict[str, Column] = {}
    valid: dict[str, np.ndarray] = {}
    for name, kind in fields.items():
        array = table.column(name).combine_chunks()
        if kind in ("str", "bytes"):
            cols[name] = arrow_bytes(array, kind == "str")
            continue
        mask = array.is_valid().to_numpy(zero_copy_only=False)
        filler = False if np.dtype(kind).kind == "b" else 0
        cols[name] = array.fill_null(filler).to_numpy(zero_copy_only=False).astype(kind)
        if not mask.all():
            valid[name] = mask
    return MicroBatch(cols, valid, num_rows=table.num_rows)


def arrow_bytes(array: Any, text: bool) -> BytesColumn:
    """A large_string/large_binary array as a `BytesColumn` over the same buffers."""
    n, start = len(array), array.offset
    validity, offsets_buf, data_buf = array.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[start : start + n + 1]
    base = int(offsets[0])
    data = np.frombuffer(data_buf, np.uint8) if data_buf is not None else np.empty(0, np.uint8)
    mask = None if validity is None else array.is_valid().to_numpy(zero_copy_only=False)
    return BytesColumn(offsets - base, data[base:], mask, text)
