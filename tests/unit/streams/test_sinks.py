from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path

import pytest

from pystream.streams import FileSink, JsonLinesFile, MicroBatch, SqliteSink
from pystream.streams.sinks.console import ConsoleSink

SCHEMA = {"k": "str", "n": "int64", "raw": "bytes"}


def batch(*rows: tuple[str, int]) -> MicroBatch:
    return MicroBatch.from_pylist([{"k": k, "n": n, "raw": k.encode()} for k, n in rows], SCHEMA)


def test_sqlite_upserts_and_skips_replayed_batches(tmp_path: Path) -> None:
    db = str(tmp_path / "out.db")
    sink = SqliteSink(db, "counts", key_columns=["k"])
    sink.open(tmp_path)
    sink.write(batch(("a", 1), ("b", 1)), 0, "update")
    sink.write(batch(("a", 2)), 1, "update")
    sink.write(batch(("a", 99)), 1, "update")  # a replay of batch 1 changes nothing
    sink.close()
    rows = sqlite3.connect(db).execute("SELECT k, n, raw FROM counts ORDER BY k").fetchall()
    assert rows == [("a", 2, b"a"), ("b", 1, b"b")]


def test_sqlite_append_without_keys_is_exactly_once(tmp_path: Path) -> None:
    db = str(tmp_path / "out.db")
    sink = SqliteSink(db, "events")
    sink.open(tmp_path)
    for batch_id in (0, 0, 1):
        sink.write(batch(("x", batch_id)), batch_id, "append")
    sink.close()
    assert sqlite3.connect(db).execute("SELECT n FROM events").fetchall() == [(0,), (1,)]


def test_file_sink_replay_replaces_the_batch_file(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "out")
    sink.open(tmp_path)
    sink.write(batch(("a", 1)), 0, "append")
    sink.write(batch(("a", 2)), 0, "append")
    assert [p.name for p in sink.files()] == ["part-0000000000.jsonl"]
    assert json.loads(sink.files()[0].read_text()) == {"k": "a", "n": 2, "raw": "a"}


def test_csv_file_sink(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "out", format="csv")
    sink.open(tmp_path)
    sink.write(
        MicroBatch.from_pylist([{"k": "a,b", "n": None}], {"k": "str", "n": "int64"}), 3, "append"
    )
    rows = list(csv.reader(sink.files()[0].open()))
    assert rows == [["k", "n"], ["a,b", ""]]


def test_parquet_file_sink(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    sink = FileSink(tmp_path / "out", format="parquet")
    sink.open(tmp_path)
    sink.write(batch(("a", 1)), 0, "append")
    assert pq.read_table(sink.files()[0]).to_pylist() == [{"k": "a", "n": 1, "raw": b"a"}]


def _checkpoint(tmp_path: Path, query_id: str) -> Path:
    cp = tmp_path / query_id
    cp.mkdir(exist_ok=True)
    (cp / "metadata").write_text(json.dumps({"id": query_id}))
    return cp


def test_single_json_lines_file_drops_a_crashed_attempts_partial_write(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    cp = _checkpoint(tmp_path, "q1")
    sink = JsonLinesFile(path)
    sink.open(cp)
    sink.write(batch(("a", 1)), 0, "append")
    sink.close()
    with open(path, "ab") as f:
        f.write(b'{"k": "half-writ')  # a crash in the middle of batch 1
    sink = JsonLinesFile(path)
    sink.open(cp)
    sink.write(batch(("b", 2)), 1, "append")
    sink.write(batch(("b", 2)), 1, "append")  # replayed after the write but before commit
    sink.close()
    assert [json.loads(x)["k"] for x in path.read_text().splitlines()] == ["a", "b"]
    other = JsonLinesFile(path)  # another query writing to the same path starts afresh
    other.open(_checkpoint(tmp_path, "q2"))
    other.write(batch(("c", 3)), 0, "append")
    other.close()
    assert [json.loads(x)["k"] for x in path.read_text().splitlines()] == ["c"]


def test_console_sink_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    console = Console(width=120, force_terminal=False)
    ConsoleSink(num_rows=1, console=console).write(batch(("a", 1), ("b", 2)), 7, "append")
    out = capsys.readouterr().out
    assert "Batch: 7" in out and "only showing the first 1 rows" in out


def test_json_values_recurse_into_lists_of_header_pairs() -> None:
    from pystream.streams.sinks.files import _jsonable

    headers = [("trace", b"\xffab"), ("empty", None)]
    assert _jsonable(headers) == [["trace", "\\xffab"], ["empty", None]]
    assert _jsonable(b"\xff") == "\\xff"
