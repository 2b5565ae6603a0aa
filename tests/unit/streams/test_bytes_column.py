import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pystream.streams.bytes_column import BytesColumn

values_st = st.lists(st.one_of(st.none(), st.binary(max_size=12)), max_size=40)


@given(values_st)
def test_round_trip_and_arrow_layout(values: list[bytes | None]) -> None:
    col = BytesColumn.from_pylist(values)
    assert col.to_pylist() == values
    assert col.offsets[0] == 0 and len(col.offsets) == len(values) + 1
    assert (np.diff(col.offsets) >= 0).all()
    assert [col[i] for i in range(len(values))] == values


@given(values_st, st.data())
def test_take_and_concat(values: list[bytes | None], data: st.DataObject) -> None:
    col = BytesColumn.from_pylist(values)
    idx = (
        data.draw(st.lists(st.integers(0, max(len(values) - 1, 0)), max_size=30)) if values else []
    )
    taken = col.take(np.array(idx, dtype=np.int64))
    assert taken.to_pylist() == [values[i] for i in idx]
    both = BytesColumn.concat([col, taken])
    assert both.to_pylist() == values + [values[i] for i in idx]


@given(st.lists(st.binary(max_size=8), max_size=30))
def test_fixed_width_round_trip_and_scalar_equality(values: list[bytes]) -> None:
    col = BytesColumn.from_pylist(values)
    fixed = col.to_fixed()
    assert [v.rstrip(b"\0") for v in values] == fixed.tolist()
    for probe in {*values[:3], b"zz"}:
        assert col.equals_scalar(probe).tolist() == [v == probe for v in values]


def test_text_columns_decode_utf8() -> None:
    col = BytesColumn.from_pylist(["héllo", None, ""], text=True)
    assert col.to_pylist() == ["héllo", None, ""]
    assert col.take(np.array([0])).text


def test_offsets_past_the_data_are_rejected() -> None:
    with pytest.raises(ValueError, match="past the end"):
        BytesColumn(np.array([0, 5]), np.zeros(3, np.uint8))
