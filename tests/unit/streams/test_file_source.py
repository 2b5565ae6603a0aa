"""The file source: formats against plain Python readers, file discovery across triggers,
the per-trigger cap, the file log in the checkpoint, and malformed input."""

from __future__ import annotations

import csv
import io
import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pystream.streams import MemorySink, Stream, Trigger
from pystream.streams.sources import file_formats as ff
from pystream.streams.sources.csv_reader import read_csv
from pystream.streams.sources.files import FileSource


def put(directory: Path, name: str, data: bytes | str, mtime: int) -> Path:
    """A file with a chosen modification time (seconds), so order does not depend on timing."""
    path = directory / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    os.utime(path, (mtime, mtime))
    return path


def run(source: FileSource, checkpoint: Path, sink: MemorySink, **kw: Any) -> MemorySink:
    writer = Stream.from_source(source).write_stream.trigger(Trigger.available_now())
    for k, v in kw.items():
        writer = getattr(writer, k)(v)
    writer.checkpoint(checkpoint).sink(sink).run()
    return sink


# ---- formats vs plain Python ------------------------------------------------------------
def reference_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


@given(st.lists(st.sampled_from([b"a", b"\n", b"\r", b"\r\n", b" ", b"\xc3\xa9"]), max_size=40))
def test_split_lines_matches_python(parts: list[bytes]) -> None:
    data = b"".join(parts)
    lines, numbers = ff.split_lines(np.frombuffer(data, np.uint8))
    assert lines.to_pylist() == reference_lines(data)
    assert numbers.tolist() == list(range(1, len(lines) + 1))
    blank = ff.blank_rows(lines)
    assert blank.tolist() == [not line.strip() for line in reference_lines(data)]


def test_text_lines_and_whole_text(tmp_path: Path) -> None:
    put(tmp_path, "a.txt", "one\r\ntwo\n\nthree", 1)
    put(tmp_path, "b.txt", "four\n", 2)
    src = FileSource(tmp_path, "text", path_column="file")
    batch = src.read({0: 0}, src.latest_offsets())
    assert [r["value"] for r in batch.to_pylist()] == ["one", "two", "", "three", "four"]
    assert [Path(r["file"]).name for r in batch.to_pylist()] == ["a.txt"] * 4 + ["b.txt"]
    whole = FileSource(tmp_path, "text", whole_text=True)
    rows = whole.read({0: 0}, whole.latest_offsets()).to_pylist()
    assert rows == [{"value": "one\r\ntwo\n\nthree"}, {"value": "four\n"}]


json_row = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.integers(-(2**64), 2**64), st.text(max_size=3), st.none()),
        "name": st.one_of(st.text(max_size=8), st.integers(), st.none()),
        "score": st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.booleans()),
        "other": st.lists(st.integers(), max_size=2),
    },
)


def pick(row: dict, name: str, kind: type) -> Any:
    """JsonFormat's rule: a field of another JSON type is null (ints count as floats)."""
    v = row.get(name)
    if isinstance(v, bool) or v is None:
        return None
    if kind is float:
        return float(v) if isinstance(v, (int, float)) else None
    if kind is int:
        return v if isinstance(v, int) and -(2**63) <= v < 2**63 else None
    return v if isinstance(v, kind) else None


@pytest.mark.parametrize("use_arrow", [True, False], ids=["pyarrow", "python"])
@settings(max_examples=40, deadline=None)
@given(
    files=st.lists(st.lists(json_row, max_size=6), min_size=1, max_size=3),
    blank=st.sampled_from(["", "\n", "  \r\n"]),
)
def test_json_lines_match_json_loads(use_arrow: bool, files: list[list[dict]], blank: str) -> None:
    contents = []
    for i, rows in enumerate(files):
        text = "".join(json.dumps(r) + "\n" + blank for r in rows)
        contents.append((f"{i}.json", np.frombuffer(text.encode(), np.uint8)))
    schema = {"id": "int64", "name": "str", "score": "float64"}
    batch, origins = ff.read_json(contents, schema, "failfast", use_arrow=use_arrow)
    want = [
        {"id": pick(r, "id", int), "name": pick(r, "name", str), "score": pick(r, "score", float)}
        for rows in files
        for r in rows
    ]
    assert batch.to_pylist() == want
    assert origins.tolist() == [i for i, rows in enumerate(files) for _ in rows]


def test_json_file_source_reads_a_directory(tmp_path: Path) -> None:
    put(tmp_path, "a.json", '{"id": 1, "name": "x"}\n{"id": 2}{"id": 3}\n', 1)
    put(tmp_path, "b.json", '{"id": 4, "name": 5}\n', 2)
    src = FileSource(tmp_path, "json", {"id": "int64", "name": "str", "_corrupt_record": "str"})
    rows = src.read({0: 0}, src.latest_offsets()).to_pylist()
    assert rows == [
        {"id": 1, "name": "x", "_corrupt_record": None},
        {"id": None, "name": None, "_corrupt_record": '{"id": 2}{"id": 3}'},
        {"id": 4, "name": None, "_corrupt_record": None},
    ]


def reference_csv(text: str, schema: dict[str, str], header: bool) -> list[dict[str, Any]]:
    convert = {"int64": int, "float64": float, "str": str, "bool": lambda s: s.lower() == "true"}
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    out = []
    for row in rows[1:] if header else rows:
        out.append(
            {
                k: convert[t](v) if v != "" else None
                for (k, t), v in zip(schema.items(), row, strict=True)
            }
        )
    return out


csv_value = st.text(alphabet='ab ,"\n\té', max_size=6)


@pytest.mark.parametrize("use_arrow", [True, False], ids=["pyarrow", "python"])
@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)),
            st.one_of(st.none(), csv_value),
            st.one_of(st.none(), st.floats(allow_nan=False, width=64)),
            st.one_of(st.none(), st.booleans()),
        ),
        max_size=12,
    ),
    header=st.booleans(),
    crlf=st.booleans(),
)
def test_csv_matches_the_csv_module(
    use_arrow: bool, rows: list[tuple], header: bool, crlf: bool
) -> None:
    schema = {"n": "int64", "s": "str", "x": "float64", "b": "bool"}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    if header:
        writer.writerow(list(schema))
    for n, s, x, b in rows:
        # an empty string is null in CSV; the reference reads it the same way
        writer.writerow(
            [
                "" if v is None else ("true" if v is True else "false" if v is False else v)
                for v in (n, s, x, b)
            ]
        )
    text = buf.getvalue()
    data = np.frombuffer(text.encode(), np.uint8)
    got = read_csv("f.csv", data, schema, "failfast", header=header, use_arrow=use_arrow)
    assert got.to_pylist() == reference_csv(text, schema, header)


def test_binary_layout_matches_struct(tmp_path: Path) -> None:
    dtype = np.dtype([("id", "<i8"), ("price", "<f4"), ("tag", "S3")])
    rows = [(i, i * 1.5, b"ab%d" % (i % 10)) for i in range(50)]
    packed = b"".join(struct.pack("<qf3s", *r) for r in rows)
    put(tmp_path, "a.bin", packed[: 15 * 20], 1)
    put(tmp_path, "b.bin", packed[15 * 20 :], 2)
    src = FileSource(tmp_path, "binary", dtype=dtype)
    batch = src.read({0: 0}, src.latest_offsets())
    assert batch.schema == {"id": "int64", "price": "float32", "tag": "bytes24"}
    got = list(
        zip(batch["id"].tolist(), batch["price"].tolist(), batch["tag"].tolist(), strict=True)
    )
    assert got == [struct.unpack("<qf3s", struct.pack("<qf3s", *r)) for r in rows]


# ---- malformed input --------------------------------------------------------------------
def test_malformed_json_modes(tmp_path: Path) -> None:
    put(tmp_path, "a.json", '{"a": 1}\n\n{"a": 2\n{"a": "x"}\n', 1)
    schema = {"a": "int64", "_corrupt_record": "str"}
    with pytest.raises(ff.MalformedFileError, match=r"a\.json, line 3: not a JSON object"):
        src = FileSource(tmp_path, "json", schema, mode="FAILFAST")
        src.read({0: 0}, src.latest_offsets())
    src = FileSource(tmp_path, "json", schema)
    rows = src.read({0: 0}, src.latest_offsets()).to_pylist()
    assert rows == [
        {"a": 1, "_corrupt_record": None},
        {"a": None, "_corrupt_record": '{"a": 2'},
        {"a": None, "_corrupt_record": None},  # a mistyped field is null, as JsonFormat does
    ]
    drop = FileSource(tmp_path, "json", {"a": "int64"}, mode="dropmalformed")
    assert drop.read({0: 0}, drop.latest_offsets()).to_pylist() == [{"a": 1}, {"a": None}]


@pytest.mark.parametrize("use_arrow", [True, False], ids=["pyarrow", "python"])
def test_malformed_csv_modes(use_arrow: bool) -> None:
    text = 'a,b\n1,x\n\n"2\nstill 2",y\nz,w\n3\n4,q,extra\n'
    data = np.frombuffer(text.encode(), np.uint8)
    schema = {"a": "int64", "b": "str", "_corrupt_record": "str"}

    def read(mode: str) -> list[dict[str, Any]]:
        return read_csv("in.csv", data, schema, mode, True, use_arrow=use_arrow).to_pylist()

    with pytest.raises(ff.MalformedFileError, match=r"in\.csv, line 4: field 'a'"):
        read("failfast")
    assert read("permissive") == [
        {"a": 1, "b": "x", "_corrupt_record": None},
        {"a": None, "b": "y", "_corrupt_record": '"2\nstill 2",y'},
        {"a": None, "b": "w", "_corrupt_record": "z,w"},
        {"a": 3, "b": None, "_corrupt_record": "3"},
        {"a": 4, "b": "q", "_corrupt_record": "4,q,extra"},
    ]
    assert [r["a"] for r in read("dropmalformed")] == [1]


def test_invalid_utf8_text_and_torn_binary_name_the_place(tmp_path: Path) -> None:
    put(tmp_path, "t.txt", b"fine\nbad \xff here\nok\n", 1)
    src = FileSource(tmp_path / "t.txt", "text", mode="failfast")
    with pytest.raises(ff.MalformedFileError, match=r"t\.txt, line 2: not valid UTF-8"):
        src.read({0: 0}, src.latest_offsets())
    drop = FileSource(tmp_path / "t.txt", "text", mode="dropmalformed")
    assert drop.read({0: 0}, drop.latest_offsets()).to_pylist() == [
        {"value": "fine"},
        {"value": "ok"},
    ]
    lax = FileSource(tmp_path / "t.txt", "text")
    assert lax.read({0: 0}, lax.latest_offsets())["value"][1] == "bad \ufffd here"

    put(tmp_path, "r.bin", bytes(20), 2)
    binary = FileSource(tmp_path / "*.bin", "binary", dtype=[("a", "<i8")])
    with pytest.raises(ff.MalformedFileError, match=r"r\.bin, byte 16: 20 bytes"):
        binary.read({0: 0}, binary.latest_offsets())


def test_bad_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a schema"):
        FileSource(tmp_path, "csv")
    with pytest.raises(ValueError, match="format must be"):
        FileSource(tmp_path, "orc", {"a": "int64"})
    with pytest.raises(ValueError, match="mode must be"):
        FileSource(tmp_path, "json", {"a": "int64"}, mode="lenient")
    with pytest.raises(ValueError, match="also a data column"):
        FileSource(tmp_path, "json", {"a": "int64"}, path_column="a")
    with pytest.raises(ValueError, match="structured dtype"):
        FileSource(tmp_path, "binary", dtype="int64")


def test_a_file_gone_before_its_batch_is_read(tmp_path: Path) -> None:
    gone = put(tmp_path, "a.txt", "x\n", 1)
    src = FileSource(tmp_path, "text")
    end = src.latest_offsets()
    gone.unlink()
    with pytest.raises(FileNotFoundError, match=r"a\.txt: numbered by the file source but gone"):
        src.read({0: 0}, end)


# ---- discovery, cap, checkpoint ---------------------------------------------------------
def test_listing_order_hidden_files_and_latest_first(tmp_path: Path) -> None:
    put(tmp_path, "b.txt", "b\n", 5)
    put(tmp_path, "a.txt", "a\n", 5)  # same time: by name
    put(tmp_path, "c.txt", "c\n", 1)
    put(tmp_path, ".hidden", "h\n", 1)
    put(tmp_path, "_SUCCESS", "", 1)
    (tmp_path / "sub").mkdir()
    src = FileSource(tmp_path, "text")
    src.latest_offsets()
    assert [Path(p).name for p in src.files(0, 3)] == ["c.txt", "a.txt", "b.txt"]
    newest = FileSource(tmp_path, "text", latest_first=True)
    newest.latest_offsets()
    assert [Path(p).name for p in newest.files(0, 3)] == ["b.txt", "a.txt", "c.txt"]
    put(tmp_path / "sub", "d.txt", "d\n", 9)
    deep = FileSource(str(tmp_path / "**" / "*.txt"), "text")
    assert deep.latest_offsets() == {0: 4}


def test_new_files_are_picked_up_by_later_triggers_with_the_cap(tmp_path: Path) -> None:
    data, cp = tmp_path / "in", tmp_path / "cp"
    data.mkdir()
    for i in range(5):
        put(data, f"{i}.txt", f"{i}-a\n{i}-b\n", 10 + i)
    sink = run(FileSource(data, "text", max_files_per_trigger=2), cp, MemorySink())
    values = [[r["value"] for r in sink.batches[i].to_pylist()] for i in sorted(sink.batches)]
    assert values == [["0-a", "0-b", "1-a", "1-b"], ["2-a", "2-b", "3-a", "3-b"], ["4-a", "4-b"]]

    put(data, "5.txt", "5-a\n", 30)
    put(data, "6.txt", "6-a\n", 20)  # older than 5, but seen at the same listing: goes first
    later = run(FileSource(data, "text", max_files_per_trigger=2), cp, MemorySink())
    assert sorted(later.batches) == [3]
    assert [r["value"] for r in later.rows()] == ["6-a", "5-a"]
    log = (cp / "sources").iterdir().__next__() / "files"
    assert [json.loads(line)["index"] for line in log.read_text().splitlines()] == list(range(7))
    again = run(FileSource(data, "text"), cp, MemorySink())
    assert again.batches == {}  # nothing new: committed files are never read again


def test_once_trigger_reads_every_new_file_in_one_batch(tmp_path: Path) -> None:
    for i in range(3):
        put(tmp_path, f"{i}.txt", f"{i}\n", i)
    sink = MemorySink()
    src = FileSource(tmp_path, "text", max_files_per_trigger=1)
    Stream.from_source(src).write_stream.trigger(Trigger.once()).checkpoint(tmp_path / "cp").sink(
        sink
    ).run()
    assert [r["value"] for r in sink.batches[0].to_pylist()] == ["0", "1", "2"]


class Crash(Exception):
    pass


@pytest.mark.parametrize("point", ["after_offsets", "after_sink", "after_state"])
def test_uncommitted_batch_reruns_with_the_same_files(tmp_path: Path, point: str) -> None:
    data, cp = tmp_path / "in", tmp_path / "cp"
    data.mkdir()
    for i in range(4):
        put(data, f"{i}.csv", f"{i},{i * 10}\n", i)
    schema = {"k": "int64", "v": "int64"}

    def crash_in_batch_1(step: str, batch_id: int) -> None:
        if step == point and batch_id == 1:
            raise Crash()

    first = MemorySink()
    with pytest.raises(Crash):
        run(
            FileSource(data, "csv", schema, max_files_per_trigger=2, path_column="path"),
            cp,
            first,
            _fail_at=crash_in_batch_1,
        )
    # a file that appears while the query is down must not join the logged batch
    put(data, "9.csv", "9,90\n", 0)
    second = run(
        FileSource(data, "csv", schema, max_files_per_trigger=2, path_column="path"),
        cp,
        MemorySink(),
    )
    assert sorted(second.batches) == [1, 2]
    assert [r["k"] for r in second.batches[1].to_pylist()] == [2, 3]
    assert [r["k"] for r in second.batches[2].to_pylist()] == [9]
    everything = first.batches[0].to_pylist() + second.rows()
    assert [r["k"] for r in everything] == [0, 1, 2, 3, 9]
    assert {Path(r["path"]).name for r in everything} == {f"{i}.csv" for i in (0, 1, 2, 3, 9)}


def test_a_torn_file_log_line_is_dropped(tmp_path: Path) -> None:
    data, cp = tmp_path / "in", tmp_path / "cp"
    data.mkdir()
    put(data, "a.txt", "a\n", 1)
    run(FileSource(data, "text"), cp, MemorySink())
    log = next((cp / "sources").iterdir()) / "files"
    with open(log, "ab") as f:
        f.write(b'{"index": 1, "path": "/nowhere/b.t')  # a crash while appending
    put(data, "b.txt", "b\n", 2)
    sink = run(FileSource(data, "text"), cp, MemorySink())
    assert [r["value"] for r in sink.rows()] == ["b"]
    assert [json.loads(line)["path"] for line in log.read_text().splitlines()] == [
        str(data / "a.txt"),
        str(data / "b.txt"),
    ]


def test_decoded_json_flows_through_a_query(tmp_path: Path) -> None:
    data = tmp_path / "in"
    data.mkdir()
    for i in range(3):
        rows = "".join(
            json.dumps({"page": f"/p{j % 2}", "n": j}) + "\n" for j in range(i * 4, i * 4 + 4)
        )
        put(data, f"{i}.json", rows, i)
    from pystream.streams import functions as F

    src = FileSource(data, "json", {"page": "str", "n": "int64"})
    query = Stream.from_source(src).group_by("page").agg(F.sum("n").alias("total"))
    sink = MemorySink()
    query.write_stream.output_mode("complete").trigger(Trigger.available_now()).checkpoint(
        tmp_path / "cp"
    ).sink(sink).run()
    assert {r["page"]: r["total"] for r in sink.last()} == {"/p0": 30, "/p1": 36}


def test_clean_json_takes_the_pyarrow_path_and_odd_files_do_not() -> None:
    pytest.importorskip("pyarrow")
    fields = {"id": "int64", "tag": "bytes"}
    clean = np.frombuffer(b'{"id": 1, "tag": "a"}\n\n{"id": 2}\n', np.uint8)
    fast = ff.json_arrow(clean, fields)
    assert fast is not None
    assert fast.to_pylist() == [{"id": 1, "tag": b"a"}, {"id": 2, "tag": None}]
    for odd in (b'{"id": 1}{"id": 2}\n', b'{"id": 1.5}\n', b'{"id": 1, "id": 2}\n'):
        assert ff.json_arrow(np.frombuffer(odd, np.uint8), fields) is None


@pytest.mark.parametrize("use_arrow", [True, False], ids=["pyarrow", "python"])
def test_csv_numbers_out_of_range_are_malformed(use_arrow: bool) -> None:
    data = np.frombuffer(b"1,1.5\n300,x\n-1,2\n" + b"9" * 5000 + b",3\n", np.uint8)
    schema = {"a": "uint8", "f": "float32"}
    rows = read_csv("n.csv", data, schema, "permissive", use_arrow=use_arrow).to_pylist()
    assert rows == [
        {"a": 1, "f": 1.5},
        {"a": None, "f": None},
        {"a": None, "f": 2.0},
        {"a": None, "f": 3.0},
    ]
    with pytest.raises(ff.MalformedFileError, match=r"n\.csv, line 2: field 'a' = '300'"):
        read_csv("n.csv", data, schema, "failfast", use_arrow=use_arrow)


def test_worker_processes_read_the_files_the_driver_numbered(tmp_path: Path) -> None:
    from pystream.streams import functions as F

    data = tmp_path / "in"
    data.mkdir()
    for i in range(6):
        rows = "".join(json.dumps({"page": f"/p{j % 3}", "n": i}) + "\n" for j in range(30))
        put(data, f"{i}.json", rows, i)
    src = FileSource(data, "json", {"page": "str", "n": "int64"}, max_files_per_trigger=2)
    query = Stream.from_source(src).group_by("page").agg(F.sum("n").alias("total"))
    sink = MemorySink()
    query.write_stream.output_mode("complete").trigger(Trigger.available_now()).workers(
        2
    ).checkpoint(tmp_path / "cp").sink(sink).run()
    assert sorted(sink.batches) == [0, 1, 2]
    assert {r["page"]: r["total"] for r in sink.last()} == {f"/p{k}": 10 * 15 for k in range(3)}


def test_a_damaged_file_log_is_reported(tmp_path: Path) -> None:
    put(tmp_path, "a.txt", "a\n", 1)
    log_dir = tmp_path / "cp" / "sources" / "x"
    log_dir.mkdir(parents=True)
    (log_dir / "files").write_text('{"index": 0, "path": "a"}\nnot json\n')
    src = FileSource(tmp_path, "text", name="x")
    with pytest.raises(ValueError, match=r"files: entry 1 is unreadable"):
        src.open(tmp_path / "cp")
