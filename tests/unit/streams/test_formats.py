import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pystream.streams.batch import MicroBatch
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


def _per_value(schema: dict[str, str]) -> JsonFormat:
    """A JsonFormat that always takes the per-value (reference) path."""
    fmt = JsonFormat(schema)
    fmt._decode_native = lambda *_: None  # type: ignore[method-assign]
    return fmt


def _assert_same_batches(fast: MicroBatch, slow: MicroBatch) -> None:
    assert list(fast.columns) == list(slow.columns)
    for name in slow.columns:
        a, b = fast[name], slow[name]
        assert np.array_equal(fast.validity(name), slow.validity(name)), name
        if isinstance(b, BytesColumn):
            assert isinstance(a, BytesColumn) and a.text == b.text
            assert a.to_pylist() == b.to_pylist(), name
            continue
        assert isinstance(a, np.ndarray) and a.dtype == b.dtype, name
        keep = slow.validity(name)
        assert a[keep].tobytes() == b[keep].tobytes(), name  # bit for bit: -0.0, NaN


JSON_NUMBERS = st.one_of(
    st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.none(), st.booleans()
)
JSON_ANY = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
ODD_TEXTS = st.sampled_from(
    [
        b"",
        b"null",
        b"[1]",
        b"{not json",
        b'{"a": -0}',
        b'{"a": -0.0}',
        b'{"a": NaN}',
        b'{"a": 1} {"a": 2}',
        b'{"a": 1}  ',
        b'{"b": "\\u00e9\\n\\"", "b": "dup"}',
        b'{"a": 1e400}',
        b"\xff",
        b'{"b": "\xc3\xa9"}',
    ]
)


@settings(deadline=None, max_examples=150)
@given(
    rows=st.lists(
        st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "a": JSON_NUMBERS,
                    "b": st.one_of(st.text(max_size=5), st.integers(), st.none()),
                    "c": st.one_of(st.booleans(), st.integers(0, 1)),
                    "d": JSON_NUMBERS,
                    "e": JSON_NUMBERS,
                    "x": JSON_ANY,
                },
            ).map(lambda r: json.dumps(r).encode()),
            ODD_TEXTS,
            st.none(),
        ),
        min_size=1,
        max_size=30,
    ),
    mode=st.sampled_from(["permissive", "failfast"]),
)
def test_json_native_path_equals_the_per_value_path(rows: list[bytes | None], mode: str) -> None:
    values = BytesColumn.from_pylist(rows)
    schema = {"a": "int64", "b": "str", "c": "bool", "d": "float64", "e": "int8", "x": "bytes"}
    fast_format, slow_format = JsonFormat(schema, mode), _per_value(schema)
    slow_format.mode = mode
    try:
        slow = slow_format.decode(values, len(rows))
    except (FormatError, UnicodeEncodeError, OverflowError) as slow_error:
        with pytest.raises(type(slow_error)):
            fast_format.decode(values, len(rows))
        return
    _assert_same_batches(fast_format.decode(values, len(rows)), slow)


def test_json_native_path_takes_clean_batches_and_leaves_odd_ones() -> None:
    schema = {"id": "int32", "u": "uint16", "f": "float32", "s": "bytes"}
    clean = BytesColumn.from_pylist(
        [b'{"id": 70000, "u": 65535, "f": 0.1, "s": "\\u00e9"}', None, b'{"id": 5, "u": -1}']
    )
    fast = JsonFormat(schema)._decode_native(clean, 3)
    assert fast is not None
    _assert_same_batches(fast, _per_value(schema).decode(clean, 3))
    assert fast.to_pylist()[0] == {"id": 70000, "u": 65535, "f": np.float32(0.1), "s": "é".encode()}
    assert fast.to_pylist()[2]["u"] is None
    odd = BytesColumn.from_pylist([b'{"id": 1}', b'{"id": -0}'])
    assert JsonFormat(schema)._decode_native(odd, 2) is None  # Python reads -0 as int 0
    assert JsonFormat({"t": "datetime64[ns]"})._decode_native(clean, 3) is None
