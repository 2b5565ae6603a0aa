"""Readers of the file source's formats: files' bytes -> one `MicroBatch` of rows.

Each reader takes the files of one micro-batch (path and contents as a uint8 array) and
returns the rows plus, per row, the index of the file it came from (for the path column).
Everything is vectorized over whole files: lines are found with one numpy pass, JSON lines
go through pyarrow's JSON reader where it is installed and takes the file as it is, else
through `JsonFormat` (one `json.loads` per file), CSV through `csv_reader` (pyarrow's parser
or the `csv` module), fixed records through one `np.frombuffer` per batch.

Malformed input follows Spark's `mode` option:
- `permissive` (default): keep the row, with nulls where fields could not be read, and the
  raw line in `_corrupt_record` when the schema names that column (as a "str");
- `dropmalformed`: drop the row;
- `failfast`: raise `MalformedFileError` naming the file and the line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from pystream.streams.batch import MicroBatch
from pystream.streams.bytes_column import BytesColumn
from pystream.streams.formats import FormatError, JsonFormat

MODES = ("permissive", "dropmalformed", "failfast")
CORRUPT_RECORD = "_corrupt_record"
FORMATS = ("json", "csv", "text", "binary")

FileData = tuple[str, np.ndarray]  # (path, contents as uint8)


class MalformedFileError(FormatError):
    """A file's content does not fit its format; names the file and the 1-based line (for
    the binary format, the byte position)."""

    def __init__(self, path: str, line: int, reason: str, *, where: str = "line") -> None:
        super().__init__(f"{path}, {where} {line}: {reason}")
        self.path, self.line = path, line


def check_mode(mode: str) -> str:
    lowered = mode.lower()
    if lowered not in MODES:
        raise ValueError(f"mode must be one of {', '.join(m.upper() for m in MODES)}: {mode!r}")
    return lowered


def split_lines(data: np.ndarray) -> tuple[BytesColumn, np.ndarray]:
    """The lines of a file as a bytes column (without their "\\n" or "\\r\\n") and their
    1-based numbers. A final line without a newline counts; the empty tail after a last
    newline does not."""
    newlines = np.flatnonzero(data == 10)
    starts = np.concatenate([np.zeros(1, np.int64), newlines + 1])
    ends = np.concatenate([newlines, np.array([len(data)], np.int64)])
    if starts[-1] == len(data):  # nothing after the last newline
        starts, ends = starts[:-1], ends[:-1]
    has_cr = (ends > starts) & (data[np.maximum(ends - 1, 0)] == 13) if len(data) else ends > 0
    ends = ends - has_cr
    keep = np.ones(len(data), dtype=bool)
    keep[newlines] = False
    keep[ends[has_cr]] = False
    lengths = ends - starts
    offsets = np.zeros(len(starts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    numbers = np.arange(1, len(starts) + 1, dtype=np.int64)
    return BytesColumn(offsets, data[keep]), numbers


def blank_rows(lines: BytesColumn) -> np.ndarray:
    """Lines that hold only ASCII whitespace (or nothing)."""
    if len(lines) == 0:
        return np.zeros(0, dtype=bool)
    data = lines.data[: lines.nbytes()]
    ink = ~np.isin(data, np.frombuffer(b" \t\r\n\f\v", np.uint8))
    counts = np.zeros(len(lines), dtype=np.int64)
    lengths = lines.lengths()
    filled = lengths > 0
    if filled.any():
        # each sum runs to the next non-empty line's start: exactly this line's bytes
        counts[filled] = np.add.reduceat(ink, lines.offsets[:-1][filled])
    return counts == 0


# ---- text -------------------------------------------------------------------------------
def read_text(
    files: Sequence[FileData], mode: str, whole_text: bool = False
) -> tuple[MicroBatch, np.ndarray]:
    """One `value` (str) row per line, or per file with `whole_text` (Spark's text source)."""
    columns, origins = [], []
    for i, (path, data) in enumerate(files):
        if whole_text:
            lines = BytesColumn(np.array([0, len(data)], np.int64), data)
            numbers = np.ones(1, np.int64)
        else:
            lines, numbers = split_lines(data)
        lines, numbers = _valid_utf8(path, lines, numbers, mode)
        columns.append(lines.decode_text())
        origins.append(np.full(len(lines), i, dtype=np.int64))
    if not columns:
        return MicroBatch.empty({"value": "str"}), np.zeros(0, np.int64)
    value = BytesColumn.concat(columns)
    return MicroBatch({"value": value}), np.concatenate(origins)


def _valid_utf8(
    path: str, lines: BytesColumn, numbers: np.ndarray, mode: str
) -> tuple[BytesColumn, np.ndarray]:
    raw = lines.data[: lines.nbytes()].tobytes()
    try:
        raw.decode("utf-8")  # one C pass; the per-line work below runs only for bad files
        return lines, numbers
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    if mode == "failfast":
        row = int(np.searchsorted(lines.offsets, bad_at, side="right")) - 1
        raise MalformedFileError(path, int(numbers[row]), "not valid UTF-8 text")
    items = lines.to_pylist()
    if mode == "dropmalformed":
        good = np.array([_is_utf8(v) for v in items], dtype=bool)
        return lines.take(np.flatnonzero(good)), numbers[good]
    fixed = [v.decode("utf-8", "replace").encode() for v in items]  # permissive: U+FFFD
    return BytesColumn.from_pylist(fixed), numbers


def _is_utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# ---- JSON lines -------------------------------------------------------------------------
def read_json(
    files: Sequence[FileData], schema: Mapping[str, str], mode: str, use_arrow: bool = True
) -> tuple[MicroBatch, np.ndarray]:
    """One JSON object per line (blank lines skipped); fields picked by `schema` as
    `JsonFormat` does (a missing or mistyped field is null). A file pyarrow's JSON reader
    takes as it is (every field of the declared type) is read by it; the others go through
    `JsonFormat`, line by line as text, which gives the same rows and knows the lines."""
    fields = {k: v for k, v in schema.items() if k != CORRUPT_RECORD}
    parts, origins = [], []
    for i, (path, data) in enumerate(files):
        batch = json_arrow(data, fields) if use_arrow else None
        if batch is not None and CORRUPT_RECORD in schema:
            none = BytesColumn.from_pylist([None] * batch.num_rows, text=True)
            batch = batch.with_columns({CORRUPT_RECORD: none}).select(schema)
        if batch is None:
            batch = _json_lines(path, data, schema, fields, mode)
        parts.append(batch)
        origins.append(np.full(batch.num_rows, i, dtype=np.int64))
    if not parts:
        return MicroBatch.empty(schema), np.zeros(0, np.int64)
    return MicroBatch.concat(parts), np.concatenate(origins)


def json_arrow(data: np.ndarray, fields: Mapping[str, str]) -> MicroBatch | None:
    """JSON lines through pyarrow (explicit schema); None when pyarrow is missing, a line
    does not fit the schema, or lines and rows do not match one to one."""
    try:
        import pyarrow as pa
        from pyarrow import json as pajson

        from pystream.streams.sources.arrow_tables import arrow_type, table_to_batch
    except ImportError:
        return None
    # "bytes" fields are JSON strings (their UTF-8 bytes), as in JsonFormat
    types = [(k, arrow_type(v, binary=pa.large_string())) for k, v in fields.items()]
    try:
        table = pajson.read_json(
            pa.BufferReader(pa.py_buffer(data)),
            parse_options=pajson.ParseOptions(
                explicit_schema=pa.schema(types), unexpected_field_behavior="ignore"
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    lines = int(np.count_nonzero(data == 10)) + int(len(data) > 0 and data[-1] != 10)
    if table.num_rows != lines:  # blank lines, or two objects on one line: count carefully
        text, _ = split_lines(data)
        if table.num_rows != len(text) - int(np.count_nonzero(blank_rows(text))):
            return None
    return table_to_batch(table, fields)


def _json_lines(
    path: str, data: np.ndarray, schema: Mapping[str, str], fields: dict[str, str], mode: str
) -> MicroBatch:
    lines, numbers = split_lines(data)
    keep = np.flatnonzero(~blank_rows(lines))
    if len(keep) != len(lines):
        lines, numbers = lines.take(keep), numbers[keep]
    if len(lines) == 0:
        return MicroBatch.empty(schema)
    batch = JsonFormat(fields, mode="permissive").decode(lines, len(lines))
    corrupt = batch.columns.get(CORRUPT_RECORD)
    bad = corrupt.validity() if isinstance(corrupt, BytesColumn) else np.zeros(len(lines), bool)
    if bad.any() and mode == "failfast":
        row = int(np.flatnonzero(bad)[0])
        text = lines[row]
        raise MalformedFileError(path, int(numbers[row]), f"not a JSON object: {text!r:.200}")
    corrupt_texts: dict[int, str] | None = None
    if CORRUPT_RECORD in schema:
        corrupt_texts = {}
        for r in np.flatnonzero(bad).tolist():
            raw = lines[r]
            corrupt_texts[r] = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""
    out, _ = finish_rows(batch, bad, schema, mode, np.zeros(len(bad), np.int64), corrupt_texts)
    return out


def finish_rows(
    batch: MicroBatch,
    bad: np.ndarray,
    schema: Mapping[str, str],
    mode: str,
    file_rows: np.ndarray,
    corrupt_texts: Mapping[int, str] | None,
) -> tuple[MicroBatch, np.ndarray]:
    """Apply permissive/dropmalformed to the rows marked `bad` and put the columns in schema
    order, with `_corrupt_record` (the raw text of bad rows, by row) if the schema has it."""
    cols = {k: batch[k] for k in schema if k != CORRUPT_RECORD}
    valid = {k: batch.valid[k] for k in cols if k in batch.valid}
    if CORRUPT_RECORD in schema:
        texts: list[str | None] = [None] * len(bad)
        for r, text in (corrupt_texts or {}).items():
            texts[r] = text
        cols[CORRUPT_RECORD] = BytesColumn.from_pylist(texts, text=True)
    out = MicroBatch(cols, valid, num_rows=len(bad))
    if mode == "dropmalformed" and bad.any():
        keep = np.flatnonzero(~bad)
        return out.take(keep), file_rows[keep]
    return out, file_rows


# ---- fixed binary layout ----------------------------------------------------------------
def read_binary(files: Sequence[FileData], dtype: np.dtype) -> tuple[MicroBatch, np.ndarray]:
    """Files made of back-to-back records of a numpy structured `dtype` (one
    `np.frombuffer` per batch). A file whose size is not a whole number of records is an
    error in every mode: the layout gives no way to resynchronise."""
    size = dtype.itemsize
    for path, data in files:
        if len(data) % size:
            whole = len(data) // size
            raise MalformedFileError(
                path,
                whole * size,
                f"{len(data)} bytes are not a whole number of {size}-byte records "
                f"(record {whole} is cut short)",
                where="byte",
            )
    counts = np.array([len(d) // size for _, d in files], dtype=np.int64)
    data = np.concatenate([d for _, d in files]) if files else np.empty(0, np.uint8)
    records = np.frombuffer(data, dtype=dtype)
    assert dtype.names is not None
    cols = {name: records[name] for name in dtype.names}
    return MicroBatch(cols, num_rows=len(records)), np.repeat(np.arange(len(files)), counts)


def binary_schema(dtype: np.dtype) -> dict[str, str]:
    if dtype.names is None:
        raise ValueError("the binary format needs a structured dtype with named fields")
    out = {}
    for name in dtype.names:
        field = dtype.fields[name][0]  # type: ignore[index]
        if field.shape:
            raise ValueError(f"field {name!r} is an array; the binary format reads scalars")
        out[name] = field.str
    return out
