import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pystream.streams.bytes_column import BytesColumn
from pystream.streams.formats import FixedLayout, FormatError, JsonFormat, RawFormat

SCHEMA = {"id": "int64", "price": "float64", "name": "str", "ok": "bool"}


def test_json_with_schema_picks_fields_and_nulls_missing_ones() -> None:
    raw = BytesColumn.from_pylist(
        [b'{"id": 1, "price": 2.5, "name": "x", "ok": true}', b'{"id": "bad", "price": 3}', None]
    )
    out = JsonFormat(SCHEMA).decode(raw, 3)
    assert out.to_pylist() == [
        {"id": 1, "price": 2.5, "name": "x", "ok": True},
        {"id": None, "price": 3.0, "name": None, "ok": None},
        {"id": None, "price": None, "name": None, "ok": None},
    ]


def test_json_permissive_keeps_corrupt_records_and_failfast_raises() -> None:
    raw = BytesColumn.from_pylist([b'{"id": 1}', b"{not json", b"[1]"])
    out = JsonFormat({"id": "int64"}).decode(raw, 3)
    assert out.to_pylist() == [
        {"id": 1, "_corrupt_record": None},
        {"id": None, "_corrupt_record": b"{not json"},
        {"id": None, "_corrupt_record": b"[1]"},
    ]
    with pytest.raises(FormatError, match="value 1"):
        JsonFormat({"id": "int64"}, mode="failfast").decode(raw, 3)


def test_json_encode_round_trip() -> None:
    fmt = JsonFormat({"id": "int64", "name": "str"})
    raw = BytesColumn.from_pylist([b'{"id":1,"name":"a"}', b'{"id":2,"name":"b"}'])
    assert fmt.encode(fmt.decode(raw, 2)).to_pylist() == raw.to_pylist()


def test_fixed_layout_decodes_without_copies_and_round_trips() -> None:
    dtype = np.dtype([("id", "<i8"), ("price", "<f8")])
    records = np.array([(1, 1.5), (2, 2.5)], dtype=dtype)
    fmt = FixedLayout(dtype)
    raw = fmt.encode(fmt.decode(BytesColumn(np.array([0, 16, 32]), records.view(np.uint8)), 2))
    out = fmt.decode(raw, 2)
    assert out.to_pylist() == [{"id": 1, "price": 1.5}, {"id": 2, "price": 2.5}]
    assert np.shares_memory(out["id"], raw.data)


def test_fixed_layout_rejects_wrong_sizes() -> None:
    fmt = FixedLayout([("id", "<i8")])
    with pytest.raises(FormatError, match="value 1 has 3"):
        fmt.decode(BytesColumn.from_pylist([b"12345678", b"123"]), 2)
    with pytest.raises(ValueError, match="structured"):
        FixedLayout(np.dtype("<i8"))


def test_raw_text() -> None:
    out = RawFormat("line", text=True).decode(BytesColumn.from_pylist([b"hi", None]), 2)
    assert out.to_pylist() == [{"line": "hi"}, {"line": None}]


@settings(deadline=None, max_examples=60)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "a": st.one_of(st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.none()),
                "b": st.one_of(st.text(max_size=5), st.integers(), st.none()),
                "c": st.one_of(st.booleans(), st.integers(0, 1)),
                "x": st.integers(),
            },
        ),
        min_size=1,
        max_size=30,
    )
)
def test_json_arrow_fast_path_equals_the_per_value_path(rows: list[dict[str, object]]) -> None:
    import json as _json

    pytest.importorskip("pyarrow")
    from pystream.streams.bytes_column import BytesColumn
    from pystream.streams.formats import JsonFormat

    values = BytesColumn.from_pylist([_json.dumps(r).encode() for r in rows])
    schema = {"a": "int64", "b": "str", "c": "bool"}
    fast = JsonFormat(schema).decode(values, len(rows))
    slow_format = JsonFormat(schema)
    slow_format._decode_arrow = lambda *_: None  # type: ignore[method-assign]
    slow = slow_format.decode(values, len(rows))
    assert fast.to_pylist() == slow.to_pylist()
