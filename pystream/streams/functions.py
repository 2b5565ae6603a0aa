"""Column and aggregate functions, in the style of `pyspark.sql.functions`.

from pystream.streams import functions as F
F.col("price") * 0.908, F.count(), F.sum("price"), F.window("ts", "10 seconds")
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pystream.streams.aggregates import (
    AggregateFunction,
    ApproxCountDistinct,
    ArgMax,
    Count,
    Max,
    Mean,
    Min,
    Sum,
    Udaf,
)
from pystream.streams.expressions import Col, Expr, Lit, Udf, as_expr
from pystream.streams.windows import session_window, window

__all__ = [
    "approx_count_distinct",
    "arg_max",
    "col",
    "count",
    "header",
    "lit",
    "max",
    "mean",
    "min",
    "session_window",
    "sum",
    "udaf",
    "udf",
    "window",
]


def col(name: str) -> Expr:
    return Col(name)


def lit(value: Any) -> Expr:
    return Lit(value)


def header(key: str | bytes, column: Expr | str = "headers") -> Expr:
    """The value (bytes) of each record's last header named `key`, null where it has none:
    `F.header("trace-id")`, the same as `F.col("headers").header("trace-id")`."""
    return as_expr(column).header(key)


def udf(fn: Callable[..., Any], *args: Expr | str) -> Expr:
    """Apply `fn` to whole columns (numpy arrays in, array out); numba functions welcome."""
    return Udf(fn, [as_expr(a) for a in args])


def count(expr: Expr | str | None = None) -> AggregateFunction:
    """Rows per group, or non-null values of `expr`."""
    return Count(None if expr is None else as_expr(expr))


def sum(expr: Expr | str) -> AggregateFunction:
    return Sum(as_expr(expr))


def min(expr: Expr | str) -> AggregateFunction:
    return Min(as_expr(expr))


def max(expr: Expr | str) -> AggregateFunction:
    return Max(as_expr(expr))


def mean(expr: Expr | str) -> AggregateFunction:
    return Mean(as_expr(expr))


avg = mean


def approx_count_distinct(expr: Expr | str, rsd: float = 0.05) -> AggregateFunction:
    """HyperLogLog distinct count; `rsd` is the relative standard deviation asked for."""
    return ApproxCountDistinct(as_expr(expr), rsd)


def arg_max(expr: Expr | str, *columns: str) -> AggregateFunction:
    """The `columns` of the row with the largest `expr` in each group."""
    if not columns:
        raise ValueError("arg_max needs the columns to return")
    return ArgMax(as_expr(expr), list(columns))


def udaf(
    expr: Expr | str,
    update: Any,
    merge: Any,
    init: float = 0.0,
    finish: Callable[[Any], Any] | None = None,
) -> AggregateFunction:
    """A numba aggregate: `update(acc, x)` and `merge(a, b)` are `numba.njit` functions."""
    return Udaf(as_expr(expr), update, merge, init, finish)
