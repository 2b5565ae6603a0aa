"""FileSource.read throughput per format against a plain-Python reader of the same files.

    .venv/bin/python benchmarks/streams/compare_file_source.py [--rows 1000000] [--runs 3]

Workload: `--rows` rows in 4 files per format (id int64, page str, price float64; text lines
"line <id> /p<n>"; a 20-byte binary layout). References, same run, same files: per-line
`json.loads`, `csv.reader` with `int`/`float` per row, `str.splitlines`,
`struct.iter_unpack`. The JSON and CSV readers' second paths (no pyarrow) are timed too.
Writes benchmarks/out/streams_file_source.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from pystream.streams.batch import MicroBatch
from pystream.streams.sources import file_formats as ff
from pystream.streams.sources.csv_reader import read_csv
from pystream.streams.sources.files import FileSource

FILES = 4
SCHEMA = {"id": "int64", "page": "str", "price": "float64"}
LAYOUT = [("id", "<i8"), ("page", "<i4"), ("price", "<f8")]


def write_files(root: Path, n: int) -> None:
    rng = np.random.default_rng(1)
    ids, pages, price = rng.integers(0, 1 << 40, n), rng.integers(0, 1000, n), rng.random(n) * 100
    per = n // FILES
    for fmt in ("json", "csv", "text", "binary"):
        (root / fmt).mkdir()
    for f in range(FILES):
        sl = slice(f * per, (f + 1) * per)
        rows = list(zip(ids[sl].tolist(), pages[sl].tolist(), price[sl].tolist(), strict=True))
        (root / "json" / f"{f}.json").write_text(
            "".join(json.dumps({"id": a, "page": f"/p{b}", "price": c}) + "\n" for a, b, c in rows)
        )
        (root / "csv" / f"{f}.csv").write_text("".join(f"{a},/p{b},{c!r}\n" for a, b, c in rows))
        (root / "text" / f"{f}.txt").write_text("".join(f"line {a} /p{b}\n" for a, b, _ in rows))
        rec = np.empty(per, dtype=LAYOUT)
        rec["id"], rec["page"], rec["price"] = ids[sl], pages[sl], price[sl]
        rec.tofile(root / "binary" / f"{f}.bin")


def ref_json(paths: list[str]) -> int:
    cols: dict[str, list[Any]] = {"id": [], "page": [], "price": []}
    for p in paths:
        with open(p, "rb") as fh:
            for line in fh:
                if line.strip():
                    obj = json.loads(line)
                    for k, v in cols.items():
                        v.append(obj.get(k))
    return len(cols["id"])


def ref_csv(paths: list[str]) -> int:
    n = 0
    for p in paths:
        with open(p, newline="") as fh:
            a: list[int] = []
            b: list[str] = []
            c: list[float] = []
            for row in csv.reader(fh):
                a.append(int(row[0]))
                b.append(row[1])
                c.append(float(row[2]))
                n += 1
    return n


def ref_text(paths: list[str]) -> int:
    return sum(len(Path(p).read_text(encoding="utf-8").splitlines()) for p in paths)


def ref_binary(paths: list[str]) -> int:
    return sum(sum(1 for _ in struct.iter_unpack("<qid", Path(p).read_bytes())) for p in paths)


def second_path(fmt: str) -> Callable[[list[str]], int]:
    def read(paths: list[str]) -> int:
        files = [(p, np.fromfile(p, np.uint8)) for p in paths]
        if fmt == "json":
            return ff.read_json(files, SCHEMA, "permissive", use_arrow=False)[0].num_rows
        parts = [read_csv(p, d, SCHEMA, "permissive", use_arrow=False) for p, d in files]
        return MicroBatch.concat(parts).num_rows

    return read


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-files-"))
    try:
        write_files(root, args.rows)
        n = args.rows // FILES * FILES
        cases: list[tuple[str, str, dict[str, Any], Callable[[list[str]], int] | None, Any]] = [
            ("json", "json", {"schema": SCHEMA}, None, ref_json),
            ("csv", "csv", {"schema": SCHEMA}, None, ref_csv),
            ("text", "text", {}, None, ref_text),
            ("binary", "binary", {"dtype": LAYOUT}, None, ref_binary),
            ("json, JsonFormat path", "json", {"schema": SCHEMA}, second_path("json"), ref_json),
            ("csv, csv module path", "csv", {"schema": SCHEMA}, second_path("csv"), ref_csv),
        ]
        results = []
        print(f"{n:,} rows in {FILES} files per format; median of {args.runs} runs (min-max)")
        for name, fmt, options, alternative, reference in cases:
            src = FileSource(root / fmt, fmt, **options)
            end = src.latest_offsets()
            paths = src.files(0, end[0])
            ours, theirs = [], []
            for _ in range(args.runs):
                began = time.perf_counter()
                rows = alternative(paths) if alternative else src.read({0: 0}, end).num_rows
                ours.append(time.perf_counter() - began)
                began = time.perf_counter()
                ref_rows = reference(paths)
                theirs.append(time.perf_counter() - began)
                assert rows == ref_rows == n, (rows, ref_rows)
            a, b = statistics.median(ours), statistics.median(theirs)
            mb = sum(os.path.getsize(p) for p in paths) / 1e6
            results.append(
                {"case": name, "rows": n, "mb": mb, "file_source_s": ours, "plain_python_s": theirs}
            )
            print(
                f"{name:24} {mb:6.1f} MB  FileSource {n / a / 1e6:6.2f} M rows/s "
                f"({min(ours):.2f}-{max(ours):.2f} s)  plain Python {n / b / 1e6:6.2f} M rows/s "
                f"({min(theirs):.2f}-{max(theirs):.2f} s)  ratio {b / a:4.1f}x"
            )
        out = Path(__file__).resolve().parent.parent / "out" / "streams_file_source.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps({"load_average": os.getloadavg(), "results": results}, indent=1))
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
