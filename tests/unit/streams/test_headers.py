"""The `headers` column: `HeadersColumn` kernels against plain lists, header lookup as an
expression, the Kafka record columns, and the Kafka sink's records."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pystream import record
from pystream.streams import MemorySink, MemorySource, MicroBatch, Stream, Trigger
from pystream.streams import functions as F
from pystream.streams.batch import flat_column
from pystream.streams.bytes_column import HeadersColumn
from pystream.streams.sinks.kafka import KafkaSink, _headers
from pystream.streams.sources.records import RECORD_SCHEMA, decode_range, empty_records

Row = list[tuple[str, bytes | None]]

header_st = st.tuples(
    st.sampled_from(["a", "b", "trace-id", "", "é"]), st.one_of(st.none(), st.binary(max_size=6))
)
rows_st = st.lists(st.one_of(st.none(), st.lists(header_st, max_size=5)), max_size=25)


def last_value(row: Row, key: str) -> bytes | None:
    hits = [v for k, v in row if k == key]
    return hits[-1] if hits else None


@settings(max_examples=80, deadline=None)
@given(rows=rows_st, data=st.data())
def test_kernels_match_plain_lists(rows: list[Row | None], data: st.DataObject) -> None:
    col = HeadersColumn.from_pylist(rows)
    plain = [list(r or []) for r in rows]
    assert col.to_pylist() == plain
    assert col.counts().tolist() == [len(r) for r in plain]
    assert [col[i] for i in range(len(col))] == plain
    idx = data.draw(st.lists(st.integers(0, max(len(rows) - 1, 0)), max_size=30))
    if rows:
        assert col.take(np.array(idx, np.int64)).to_pylist() == [plain[i] for i in idx]
    a = data.draw(st.integers(0, len(rows)))
    b = data.draw(st.integers(a, len(rows)))
    sliced = col.slice(a, b)
    assert sliced.to_pylist() == plain[a:b]
    assert HeadersColumn.concat([sliced, col]).to_pylist() == plain[a:b] + plain
    for key in ("a", "trace-id", "", "zz"):
        assert col.get(key).to_pylist() == [last_value(r, key) for r in plain]
        assert sliced.get(key).to_pylist() == [last_value(r, key) for r in plain[a:b]]


def test_arrow_layout() -> None:
    pa = pytest.importorskip("pyarrow")
    col = HeadersColumn.from_pylist([[("k", b"v"), ("n", None)], [], [("x", b"")]])
    arr = col.to_arrow()
    assert arr.type == pa.large_list(
        pa.struct([("key", pa.large_string()), ("value", pa.large_binary())])
    )
    assert arr.to_pylist() == [
        [{"key": "k", "value": b"v"}, {"key": "n", "value": None}],
        [],
        [{"key": "x", "value": b""}],
    ]


def test_invalid_utf8_keys_do_not_break_conversion() -> None:
    buf = record.build_batch([(None, b"v", 1, [(b"\xffk", b"1")])])
    batch = decode_range(buf, "t", 0, 0, 1)
    assert batch["headers"].to_pylist() == [[("\ufffdk", b"1")]]


def kafka_records() -> bytes:
    rows = [
        (b"k0", b"v0", 10, [("trace-id", b"t0"), ("src", None)]),
        (b"k1", b"v1", 11, None),
        (b"k2", b"v2", 12, [("trace-id", b"old"), ("trace-id", b"t2")]),
    ]
    first = record.build_batch(rows, compression="lz4")
    second = record.build_batch([(None, b"v3", 13, [("src", b"s3")])], base_offset=3)
    return first + second


def test_record_columns_carry_headers() -> None:
    buf = kafka_records()
    batch = decode_range(buf, "t", 0, 1, 4)
    assert RECORD_SCHEMA["headers"] == "headers"
    assert batch.schema["headers"] == "headers"
    assert batch["headers"].to_pylist() == [
        [],
        [("trace-id", b"old"), ("trace-id", b"t2")],
        [("src", b"s3")],
    ]
    assert batch.num_rows == 3 and batch["offset"].tolist() == [1, 2, 3]
    assert len(empty_records()["headers"]) == 0
    plain = decode_range(record.build_batch([(b"k", b"v", 1)]), "t", 0, 0, 1)
    assert plain["headers"].to_pylist() == [[]]


def test_header_expression_and_function_in_a_query() -> None:
    src = MemorySource({"value": "bytes", "headers": "headers"})
    src.add_data(
        [
            {"value": b"a", "headers": [("trace-id", b"t1"), ("n", b"2")]},
            {"value": b"b", "headers": []},
            {"value": b"c", "headers": [("trace-id", None)]},
            {"value": b"d", "headers": [("trace-id", b"x"), ("trace-id", b"t4")]},
        ]
    )
    src.end_input()
    query = (
        Stream.from_source(src)
        .with_column("trace", F.col("headers").header("trace-id").cast("str"))
        .filter(F.header("trace-id").is_not_null())
        .select("value", "trace", "headers")
    )
    sink = MemorySink()
    query.write_stream.trigger(Trigger.available_now()).sink(sink).run()
    rows = sink.rows()
    assert [(r["value"], r["trace"]) for r in rows] == [(b"a", "t1"), (b"d", "t4")]
    assert rows[1]["headers"] == [("trace-id", b"x"), ("trace-id", b"t4")]


def test_headers_refuse_to_be_keys_or_numbers() -> None:
    batch = MicroBatch.from_pylist([{"h": [("a", b"1")], "n": 1}], {"h": "headers", "n": "int64"})
    with pytest.raises(TypeError, match="headers column 'h'"):
        flat_column(batch["h"], "h", "group by")
    with pytest.raises(TypeError, match="headers column"):
        (F.col("h") + 1).evaluate(batch)
    with pytest.raises(TypeError, match="not a headers column"):
        F.col("n").header("a").evaluate(batch)
    assert F.header("a", "h").name == "h[a]"


def test_batches_with_headers_concat_take_and_empty() -> None:
    schema = {"v": "int64", "headers": "headers"}
    one = MicroBatch.from_pylist([{"v": 1, "headers": [("a", b"1")]}], schema)
    two = MicroBatch.from_pylist(
        [{"v": 2, "headers": None}, {"v": 3, "headers": [("b", None)]}], schema
    )
    both = MicroBatch.concat([one, MicroBatch.empty(schema), two])
    assert both.to_pylist() == [
        {"v": 1, "headers": [("a", b"1")]},
        {"v": 2, "headers": []},
        {"v": 3, "headers": [("b", None)]},
    ]
    assert both.take(np.array([2, 0])).to_pylist()[0]["headers"] == [("b", None)]
    assert both.validity("headers").all()


def test_kafka_sink_encodes_headers_and_keeps_them_out_of_json_values() -> None:
    batch = decode_range(kafka_records(), "t", 0, 0, 4)
    headers = _headers(batch)
    assert headers == [
        (("trace-id", b"t0"), ("src", None)),
        (),
        (("trace-id", b"old"), ("trace-id", b"t2")),
        (("src", b"s3"),),
    ]
    assert _headers(decode_range(record.build_batch([(b"k", b"v", 1)]), "t", 0, 0, 1)) is None
    sink = KafkaSink("127.0.0.1:1", "out", value_format="json")  # no I/O until open()
    values: list[Any] = sink._values(batch.select(["value", "headers"]))
    assert values[0] == b'{"value":"v0"}'
    with pytest.raises(TypeError, match="cannot be a record key"):
        KafkaSink("127.0.0.1:1", "out", key="headers")._keys(batch)
