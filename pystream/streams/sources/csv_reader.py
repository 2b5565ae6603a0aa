"""CSV files -> typed columns, for the file source.

Dialect (RFC 4180): `sep` between fields, double quotes around fields that hold `sep`,
quotes or newlines, a doubled quote for a quote inside; "\\n" or "\\r\\n" line ends; blank
lines skipped; `header=True` skips each file's first record. An empty field is null, for
every type (Spark's default `nullValue`). Booleans are `true`/`false`/`1`/`0` (also
`True`, `TRUE`, ...). Types are numpy dtypes, "str" or "bytes" (the field's UTF-8 bytes).

Two paths with one meaning: pyarrow's multithreaded parser when pyarrow is installed and
the file is well formed, and the `csv` module (C) plus numpy conversion otherwise. Any
file pyarrow rejects is re-read by the second path, which knows record line numbers: it
applies the `mode` (see `file_formats`) and names the file and line in errors. A record
is malformed when its field count differs from the schema's or a field does not convert.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

import numpy as np

from pystream.streams.batch import Column, MicroBatch
from pystream.streams.bytes_column import BytesColumn
from pystream.streams.sources.file_formats import (
    CORRUPT_RECORD,
    MalformedFileError,
    finish_rows,
)

TRUE_VALUES = ("1", "true", "True", "TRUE")
FALSE_VALUES = ("0", "false", "False", "FALSE")


def read_csv(
    path: str,
    data: np.ndarray,
    schema: Mapping[str, str],
    mode: str,
    header: bool = False,
    sep: str = ",",
    use_arrow: bool = True,
) -> MicroBatch:
    """The rows of one CSV file (see the module docstring)."""
    fields = {k: v for k, v in schema.items() if k != CORRUPT_RECORD}
    if len(data) == 0:
        return MicroBatch.empty(schema)
    if use_arrow:
        fast = _read_arrow(data, fields, header, sep)
        if fast is not None:
            if CORRUPT_RECORD in schema:
                none = BytesColumn.from_pylist([None] * fast.num_rows, text=True)
                fast = fast.with_columns({CORRUPT_RECORD: none}).select(schema)
            return fast
    return read_csv_python(path, data, schema, mode, header, sep)


# ---- pyarrow ----------------------------------------------------------------------------
def _read_arrow(
    data: np.ndarray, fields: Mapping[str, str], header: bool, sep: str
) -> MicroBatch | None:
    """The rows, or None when pyarrow is missing or rejects the file."""
    try:
        import pyarrow as pa
        from pyarrow import csv as pacsv
    except ImportError:
        return None
    from pystream.streams.sources.arrow_tables import arrow_type, table_to_batch

    types = {name: arrow_type(kind) for name, kind in fields.items()}
    try:
        table = pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data)),
            read_options=pacsv.ReadOptions(column_names=list(fields), skip_rows=1 if header else 0),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                true_values=list(TRUE_VALUES),
                false_values=list(FALSE_VALUES),
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table_to_batch(table, fields)


# ---- csv module + numpy -----------------------------------------------------------------


def read_csv_python(
    path: str,
    data: np.ndarray,
    schema: Mapping[str, str],
    mode: str,
    header: bool = False,
    sep: str = ",",
) -> MicroBatch:
    """The reference path: the `csv` module splits records, numpy converts each column in
    one call. A file with a malformed record is read again record by record, which knows
    each record's lines, to apply the mode."""
    fields = {k: v for k, v in schema.items() if k != CORRUPT_RECORD}
    try:
        text = data.tobytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].tobytes().count(b"\n") + 1
        raise MalformedFileError(path, line, "not valid UTF-8 text") from None
    try:
        rows = [
            r for r in csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True) if r
        ]
    except csv.Error:
        rows = None
    if rows is not None:
        rows = rows[1:] if header else rows
        if all(len(r) == len(fields) for r in rows):
            batch, problems = _columns(rows, fields, text.isascii())
            if not problems:
                if CORRUPT_RECORD in schema:
                    none = BytesColumn.from_pylist([None] * len(rows), text=True)
                    batch = batch.with_columns({CORRUPT_RECORD: none}).select(schema)
                return batch
    return _read_records(path, text, fields, schema, mode, header, sep)


def _read_records(
    path: str,
    text: str,
    fields: dict[str, str],
    schema: Mapping[str, str],
    mode: str,
    header: bool,
    sep: str,
) -> MicroBatch:
    """Record by record, with each record's first and last line (1-based)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    records: list[list[str]] = []
    spans: list[tuple[int, int]] = []
    problems: dict[int, str] = {}  # malformed record -> why
    seen = 0
    skip = header
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. an unclosed quote
            if reader.line_num == seen:
                raise MalformedFileError(path, seen + 1, f"CSV syntax: {exc}") from None
            problems[len(records)] = f"CSV syntax: {exc}"
            records.append([""] * len(fields))
            spans.append((seen + 1, reader.line_num))
            seen = reader.line_num
            continue
        span, seen = (seen + 1, reader.line_num), reader.line_num
        if not row:
            continue  # a blank line
        if skip:
            skip = False
            continue
        if len(row) != len(fields):
            problems[len(records)] = f"{len(row)} fields where the schema has {len(fields)}"
            row = (row + [""] * len(fields))[: len(fields)]
        records.append(row)
        spans.append(span)
    batch, failed = _columns(records, fields, text.isascii())
    for r, why in failed.items():
        problems.setdefault(r, why)
    if problems and mode == "failfast":
        first = min(problems)
        raise MalformedFileError(path, spans[first][0], problems[first])
    bad = np.zeros(len(records), dtype=bool)
    bad[list(problems)] = True
    texts = None
    if CORRUPT_RECORD in schema:
        lines = text.split("\n")
        texts = {r: "\n".join(lines[spans[r][0] - 1 : spans[r][1]]) for r in problems}
        texts = {r: t.replace("\r\n", "\n").rstrip("\r") for r, t in texts.items()}
    out, _ = finish_rows(batch, bad, schema, mode, np.zeros(len(records), np.int64), texts)
    return out


def _columns(
    rows: list[list[str]], fields: Mapping[str, str], ascii_only: bool
) -> tuple[MicroBatch, dict[int, str]]:
    """Typed columns from records of the right length, and the records that failed (why)."""
    cols: dict[str, Column] = {}
    valid: dict[str, np.ndarray] = {}
    problems: dict[int, str] = {}
    for i, (name, kind) in enumerate(fields.items()):
        values = [r[i] for r in rows]
        col, mask, failed = _convert(values, kind, ascii_only)
        for r in failed:
            problems.setdefault(r, f"field {name!r} = {values[r]!r:.100} is not {kind}")
        cols[name] = col
        if mask is not None:
            valid[name] = mask
    return MicroBatch(cols, valid, num_rows=len(rows)), problems


def _convert(
    values: list[str], kind: str, ascii_only: bool
) -> tuple[Column, np.ndarray | None, list[int]]:
    """A column from field texts: (values, validity or None, rows that did not convert).
    Numbers go through `int`/`float` in one `np.fromiter` (C loops); only a column that
    fails is converted again value by value to find the bad rows."""
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    present = lengths > 0
    if kind in ("str", "bytes"):
        if not ascii_only:
            items = [v if ok else None for v, ok in zip(values, present.tolist(), strict=True)]
            return BytesColumn.from_pylist(items, text=kind == "str"), None, []
        offsets = np.zeros(len(values) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])  # ASCII: characters are bytes
        data = np.frombuffer("".join(values).encode(), np.uint8)
        return BytesColumn(offsets, data, present, kind == "str"), None, []
    dtype = np.dtype(kind)
    out = np.zeros(len(values), dtype=dtype)
    rows = np.flatnonzero(present)
    texts = [values[r] for r in rows.tolist()] if len(rows) != len(values) else values
    failed: list[int] = []
    if dtype.kind == "b":
        yes = np.fromiter((v in TRUE_VALUES for v in texts), bool, count=len(texts))
        no = np.fromiter((v in FALSE_VALUES for v in texts), bool, count=len(texts))
        out[rows] = yes
        failed = rows[~(yes | no)].tolist()
    else:
        parse = float if dtype.kind == "f" else int
        try:
            out[rows] = np.fromiter(map(parse, texts), dtype=dtype, count=len(texts))
        except (ValueError, OverflowError):
            failed = _convert_each(texts, rows, out, parse)
    mask = present.copy()
    mask[failed] = False
    out[~mask] = 0
    return out, (None if mask.all() else mask), failed


def _convert_each(
    texts: list[str], rows: np.ndarray, out: np.ndarray, parse: type[int] | type[float]
) -> list[int]:
    """Value-by-value conversion of a column that failed as a whole."""
    failed = []
    for text, r in zip(texts, rows.tolist(), strict=True):
        try:
            out[r] = np.array(parse(text), dtype=out.dtype)
        except (ValueError, OverflowError):
            failed.append(r)
    return failed
