import numpy as np
import pytest

from pystream.streams import functions as F
from pystream.streams.batch import MicroBatch
from pystream.streams.expressions import evaluate_predicate

BATCH = MicroBatch.from_pylist(
    [
        {"a": 1, "b": 10, "s": "Google"},
        {"a": 2, "b": None, "s": "Apple"},
        {"a": 246, "b": 0, "s": None},
    ],
    {"a": "int64", "b": "int64", "s": "str"},
)


def values(expr) -> list:
    out, valid = expr.evaluate(BATCH)
    vals = out.tolist() if isinstance(out, np.ndarray) else out.to_pylist()
    return [
        v if valid is None or ok else None
        for v, ok in zip(vals, valid if valid is not None else vals, strict=True)
    ]


def test_arithmetic_propagates_nulls() -> None:
    assert values(F.col("a") + F.col("b")) == [11, None, 246]
    assert values(F.col("a") * 0.5) == [0.5, 1.0, 123.0]
    assert values(2 - F.col("a")) == [1, 0, -244]


def test_integer_division_by_zero_is_null() -> None:
    assert values(F.col("a") // F.col("b")) == [0, None, None]
    assert values(F.col("a") % 123) == [1, 2, 0]


def test_predicates_treat_null_as_false() -> None:
    assert evaluate_predicate(F.col("b") >= 0, BATCH).tolist() == [True, False, True]
    assert evaluate_predicate(~(F.col("b") >= 0), BATCH).tolist() == [False, False, False]
    assert evaluate_predicate(F.col("b").is_null(), BATCH).tolist() == [False, True, False]
    assert evaluate_predicate((F.col("a") > 1) & (F.col("a") < 100), BATCH).tolist() == [
        False,
        True,
        False,
    ]


def test_string_comparisons() -> None:
    assert evaluate_predicate(F.col("s") == "Apple", BATCH).tolist() == [False, True, False]
    assert evaluate_predicate(F.col("s").isin(["Google", "Apple"]), BATCH).tolist() == [
        True,
        True,
        False,
    ]
    assert evaluate_predicate(F.col("s") == F.col("s"), BATCH).tolist() == [True, True, False]


def test_type_errors_are_clear() -> None:
    with pytest.raises(TypeError, match="bytes and numbers"):
        (F.col("s") + F.col("a")).evaluate(BATCH)
    with pytest.raises(TypeError, match="not boolean"):
        evaluate_predicate(F.col("a"), BATCH)


def test_vectorized_udf() -> None:
    assert values(F.udf(np.sqrt, F.col("a").cast("float64"))) == [1.0, np.sqrt(2), np.sqrt(246)]
    with pytest.raises(ValueError, match="returned 1 values"):
        F.udf(lambda a: a[:1], "a").evaluate(BATCH)
