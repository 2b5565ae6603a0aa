import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pystream.compute import grouping
from pystream.streams.bytes_column import BytesColumn


def _check_codes(keys: list[tuple], codes: np.ndarray, n: int, first: np.ndarray) -> None:
    assert n == len(set(keys))
    by_code: dict[int, tuple] = {}
    for key, code in zip(keys, codes.tolist(), strict=True):
        assert by_code.setdefault(code, key) == key  # one key per code
    assert len(by_code) == n
    for code, idx in enumerate(first.tolist()):
        assert keys[idx] == by_code[code]
        assert keys.index(by_code[code]) == idx


@given(st.lists(st.tuples(st.integers(-5, 5), st.integers(-(2**40), 2**40)), max_size=60))
def test_factorize_integer_pairs(rows: list[tuple[int, int]]) -> None:
    a = np.array([r[0] for r in rows], dtype=np.int64)
    b = np.array([r[1] for r in rows], dtype=np.int64)
    g = grouping.factorize([a, b])
    _check_codes(rows, g.codes, g.count, g.first)


@given(st.lists(st.one_of(st.none(), st.binary(max_size=4)), max_size=60))
def test_factorize_bytes_with_nulls_and_trailing_zero_bytes(values: list[bytes | None]) -> None:
    values = [*values, b"a", b"a\x00", b"", None]  # values numpy's 'S' type would confuse
    g = grouping.factorize([BytesColumn.from_pylist(values)])
    _check_codes([(v,) for v in values], g.codes, g.count, g.first)


@given(st.lists(st.tuples(st.integers(0, 3), st.integers(-100, 100)), min_size=1, max_size=80))
def test_reductions_match_python(rows: list[tuple[int, int]]) -> None:
    keys = np.array([r[0] for r in rows])
    vals = np.array([r[1] for r in rows], dtype=np.int64)
    g = grouping.factorize([keys])
    ref: dict[int, list[int]] = {}
    for k, v in rows:
        ref.setdefault(k, []).append(v)
    uniq = keys[g.first].tolist()
    assert grouping.group_count(g.codes, g.count).tolist() == [len(ref[k]) for k in uniq]
    assert grouping.group_sum(g.codes, g.count, vals).tolist() == [sum(ref[k]) for k in uniq]
    assert grouping.group_min(g.codes, g.count, vals).tolist() == [min(ref[k]) for k in uniq]
    assert grouping.group_max(g.codes, g.count, vals).tolist() == [max(ref[k]) for k in uniq]
    argmax = grouping.group_argmax(g.codes, g.count, vals)
    for k, idx in zip(uniq, argmax.tolist(), strict=True):
        assert rows[idx] == (k, max(ref[k]))
        assert all(rows[j] != (k, max(ref[k])) for j in range(idx))  # earliest on ties


def test_int64_sum_is_exact_beyond_float_precision() -> None:
    vals = np.array([2**60, 1, 1], dtype=np.int64)
    assert grouping.group_sum(np.zeros(3, np.int64), 1, vals).tolist() == [2**60 + 2]


@given(st.lists(st.integers(-1, 4), max_size=30), st.lists(st.integers(-1, 4), max_size=30))
def test_join_indices_is_the_nested_loop_join(left: list[int], right: list[int]) -> None:
    li, ri = grouping.join_indices(np.array(left, np.int64), np.array(right, np.int64), 5)
    got = sorted(zip(li.tolist(), ri.tolist(), strict=True))
    want = [(i, j) for i, a in enumerate(left) for j, b in enumerate(right) if a == b and a >= 0]
    assert got == want
