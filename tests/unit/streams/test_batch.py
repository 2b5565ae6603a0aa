import numpy as np
import pytest

from pystream.streams.batch import MicroBatch
from pystream.streams.bytes_column import BytesColumn

SCHEMA = {"id": "int64", "name": "str", "score": "float64"}
ROWS = [
    {"id": 1, "name": "a", "score": 1.5},
    {"id": None, "name": None, "score": 2.0},
    {"id": 3, "name": "ccc", "score": None},
]


def test_rows_round_trip_with_nulls() -> None:
    batch = MicroBatch.from_pylist(ROWS, SCHEMA)
    assert batch.num_rows == 3
    assert batch.schema == SCHEMA
    assert batch.to_pylist() == ROWS


def test_take_filter_select_concat_keep_validity() -> None:
    batch = MicroBatch.from_pylist(ROWS, SCHEMA)
    assert batch.take(np.array([2, 1])).to_pylist() == [ROWS[2], ROWS[1]]
    assert batch.filter(np.array([False, True, True])).to_pylist() == ROWS[1:]
    assert batch.select(["name"]).to_pylist() == [{"name": r["name"]} for r in ROWS]
    assert MicroBatch.concat([batch, batch]).to_pylist() == ROWS + ROWS


def test_columns_must_have_equal_length() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        MicroBatch({"a": np.arange(3), "b": BytesColumn.from_pylist([b"x"])})


def test_concat_needs_the_same_columns() -> None:
    a = MicroBatch({"x": np.arange(2)})
    with pytest.raises(ValueError, match="cannot concatenate"):
        MicroBatch.concat([a, MicroBatch({"y": np.arange(2)})])


def test_missing_column_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="columns are"):
        MicroBatch({"x": np.arange(2)})["nope"]


def test_arrow_export_when_pyarrow_is_installed() -> None:
    pa = pytest.importorskip("pyarrow")
    table = MicroBatch.from_pylist(ROWS, SCHEMA).to_arrow()
    assert table.to_pylist() == ROWS
    assert table.schema.field("name").type == pa.large_string()
