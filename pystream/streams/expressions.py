"""Column expressions: a small tree evaluated with numpy, one array operation per node.

`col("price") * 0.908`, `(col("auction") % 123) == 0`, `col("channel") == "Google"`.
Nulls follow SQL: an arithmetic or comparison result is null where any input is null, and a
filter keeps only rows whose predicate is true (not null). Evaluation returns the values and
a validity mask (None when there are no nulls).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from pystream.streams.batch import Column, MicroBatch
from pystream.streams.bytes_column import BytesColumn, HeadersColumn

Evaluated = tuple[Column, np.ndarray | None]


def _array(values: Column, expr: Expr) -> np.ndarray:
    """`values` as a numpy array; a headers column is not one (pick a header first)."""
    if isinstance(values, HeadersColumn):
        raise TypeError(f"{expr!r} is a headers column; pick a header with .header(key)")
    if isinstance(values, BytesColumn):
        raise TypeError(f"{expr!r} is a bytes column, not numbers")
    return values


def _and_valid(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


class Expr:
    """Base of the expression tree. Operators build new nodes; `evaluate` runs them."""

    def evaluate(self, batch: MicroBatch) -> Evaluated:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return repr(self)

    def alias(self, name: str) -> Expr:
        return Alias(self, name)

    def columns(self) -> set[str]:
        return set()

    # arithmetic and comparison build BinaryOp nodes
    def _bin(self, op: str, other: Any, swap: bool = False) -> Expr:
        other_expr = other if isinstance(other, Expr) else Lit(other)
        return BinaryOp(op, other_expr, self) if swap else BinaryOp(op, self, other_expr)

    def __add__(self, o: Any) -> Expr:
        return self._bin("+", o)

    def __radd__(self, o: Any) -> Expr:
        return self._bin("+", o, True)

    def __sub__(self, o: Any) -> Expr:
        return self._bin("-", o)

    def __rsub__(self, o: Any) -> Expr:
        return self._bin("-", o, True)

    def __mul__(self, o: Any) -> Expr:
        return self._bin("*", o)

    def __rmul__(self, o: Any) -> Expr:
        return self._bin("*", o, True)

    def __truediv__(self, o: Any) -> Expr:
        return self._bin("/", o)

    def __floordiv__(self, o: Any) -> Expr:
        return self._bin("//", o)

    def __mod__(self, o: Any) -> Expr:
        return self._bin("%", o)

    def __eq__(self, o: Any) -> Expr:  # type: ignore[override]
        return self._bin("==", o)

    def __ne__(self, o: Any) -> Expr:  # type: ignore[override]
        return self._bin("!=", o)

    def __lt__(self, o: Any) -> Expr:
        return self._bin("<", o)

    def __le__(self, o: Any) -> Expr:
        return self._bin("<=", o)

    def __gt__(self, o: Any) -> Expr:
        return self._bin(">", o)

    def __ge__(self, o: Any) -> Expr:
        return self._bin(">=", o)

    def __and__(self, o: Any) -> Expr:
        return self._bin("&", o)

    def __or__(self, o: Any) -> Expr:
        return self._bin("|", o)

    def __invert__(self) -> Expr:
        return Not(self)

    def __neg__(self) -> Expr:
        return BinaryOp("-", Lit(0), self)

    def is_null(self) -> Expr:
        return IsNull(self)

    def is_not_null(self) -> Expr:
        return Not(IsNull(self))

    def cast(self, dtype: str) -> Expr:
        return Cast(self, dtype)

    def isin(self, values: list[Any]) -> Expr:
        return IsIn(self, list(values))

    def header(self, key: str | bytes) -> Expr:
        """On a headers column: the value (bytes) of each record's last header named `key`,
        null where there is none (Kafka's `Headers.lastHeader`). `.cast("str")` gives text."""
        return HeaderValue(self, key)

    __hash__ = object.__hash__


class Col(Expr):
    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def columns(self) -> set[str]:
        return {self._name}

    def evaluate(self, batch: MicroBatch) -> Evaluated:
        column = batch[self._name]
        if isinstance(column, BytesColumn):
            return column, column.valid
        return column, batch.valid.get(self._name)

    def __repr__(self) -> str:
        return self._name


class Lit(Expr):
    def __init__(self, value: Any) -> None:
        self.value = value

    def evaluate(self, batch: MicroBatch) -> Evaluated:
        if isinstance(self.value, (bytes, str)):
            return BytesColumn.from_pylist(
                [self.value] * batch.num_rows, isinstance(self.value, str)
            ), None
        if self.value is None:
            return np.zeros(batch.num_rows), np.zeros(batch.num_rows, dtype=bool)
        return np.full(batch.num_rows, self.value), None

    def __repr__(self) -> str:
        return repr(self.value)


class Alias(Expr):
    def __init__(self, child: Expr, name: str) -> None:
        self.child, self._name = child, name

    @property
    def name(self) -> str:
        return self._name

    def columns(self) -> set[str]:
        return self.child.columns()

    def evaluate(self, batch: MicroBatch) -> Evaluated:
        return self.child.evaluate(batch)


_NUMERIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": np.true_divide,
    "//": np.floor_divide,
    "%": np.mod,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "&": np.logical_and,
    "|": np.logical_or,
}


def _bytes_equal(a: BytesColumn, b: BytesColumn) -> np.ndarray:
    same_len = a.lengths() == b.lengths()
    return same_len & (a.to_fixed() == b.to_fixed())


class BinaryOp(Expr):
    def __init__(self, op: str, left: Expr, right: Expr) -> None:
        if op not in _NUMERIC:
            raise ValueError(f"unknown operator {op!r}")
        self.op, self.left, self.right = op, left, right

    def columns(self) -> set[str]:
        return self.left.columns() | self.right.columns()

    def evaluate(self, batch: MicroBatch) -> Evaluated:
        if (
            self.op in ("==", "!=")
            and isinstance(self.right, Lit)
            and isinstance(self.right.value, (bytes, str))
        ):
            left, lvalid = self.left.evaluate(batch)
            if isinstance(left, BytesColumn):
                hit = left.equals_scalar(self.right.value)
                return (hit if self.op == "==" else ~hit), lvalid
        left, lvalid = self.left.evaluate(batch)
        right, rvalid = self.right.evaluate(batch)
        valid = _and_valid(lvalid, rvalid)
        if isinstance(left, BytesColumn) or isinstance(right, BytesColumn):
            if not (isinstance(left, BytesColumn) and isinstance(right, BytesColumn)):
                raise TypeError(f"cannot apply {self.op!r} to bytes and numbers in {self!r}")
            if self.op not in ("==", "!="):
                raise TypeError(f"operator {self.op!r} is not supported on bytes columns")
            eq = _bytes_equal(left, right)
            return (eq if self.op == "==" else ~eq), valid
        left, right = _array(left, self.left), _array(right, self.right)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = _NUMERIC[self.op](left, right)
        if self.op in ("//", "%") and left.dtype.kind in "iu" and right.dtype.kind in "iu":
            zero = right == 0  # integer division by zero gives null, not numpy's 0
            if zero.any():
                valid = ~zero if valid is None else valid & ~zero
        return out, valid

    def __repr__(self) -> str:
        return f"({self.left!r} {self.op} {self.right!r})"


class Not(Expr):
    def __init__(self, child: Expr) -> None:
        self.child = child

    def columns(self) -> set[str]:
        return self.child.columns()

    def evaluate(self, batch: MicroBatch) -> Evaluated:
        values, valid = self.child.evaluate(batch)
        if isinstance(values, BytesColumn):
            raise TypeError(f"cannot negate the bytes column {self.child!r}")
        return np.logical_not(_array(values, self.child)), valid

    def __repr__(self) -> str:
        return f"~{self.child!r}"


class IsNull(Expr):
    def __init__(self, child: Expr) -> None:
        self.child = child

    def columns(self) -> set[str]:
        return self.child.columns()

    def evaluate(self, batch: MicroBatch) -> Evaluated:
        _, valid = self.child.evaluate(batch)
        return (np.zeros(batch.num_rows, bool) if valid is None else ~valid), None

    def __repr__(self) -> str:
        return f"{self.child!r}.is_null()"


class IsIn(Expr):
    def __init__(self, child: Expr, values: list[Any]) -> None:
        self.child, self.values = child, values

    def columns(self) -> set[str]:
        return self.child.columns()

    def evaluate(self, batch: MicroBatch) -> Evaluated:
        values, valid = self.child.evaluate(batch)
        if isinstance(values, BytesColumn):
            hit = np.zeros(len(values), bool)
            for v in self.values:
                hit |= values.equals_scalar(v)
            return hit, valid
        return np.isin(_array(values, self.child), np.asarray(self.values)), valid

    def __repr__(self) -> str:
        return f"{self.child!r}.isin({self.values!r})"


class Cast(Expr):
    def __init__(self, child: Expr, dtype: str) -> None:
        self.child, self.dtype = child, dtype

    def columns(self) -> set[str]:
        return self.child.columns()

    def evaluate(self, batch: MicroBatch) -> Evaluated:
        values, valid = self.child.evaluate(batch)
        if isinstance(values, BytesColumn):
            if self.dtype == "str":
                return values.decode_text(), valid
            raise TypeError(f"cannot cast a bytes column to {self.dtype}")
        return _array(values, self.child).astype(self.dtype), valid

    def __repr__(self) -> str:
        return f"{self.child!r}.cast({self.dtype!r})"


class HeaderValue(Expr):
    """The value of a named record header, from a headers column (one vectorized pass over
    the flat header keys; no per-record Python)."""

    def __init__(self, child: Expr, key: str | bytes) -> None:
        self.child, self.key = child, key

    @property
    def name(self) -> str:
        key = self.key.decode("utf-8", "replace") if isinstance(self.key, bytes) else self.key
        return f"{self.child.name}[{key}]"

    def columns(self) -> set[str]:
        return self.child.columns()

    def evaluate(self, batch: MicroBatch) -> Evaluated:
        values, _ = self.child.evaluate(batch)
        if not isinstance(values, HeadersColumn):
            raise TypeError(
                f"{self.child!r} is not a headers column, it has no header {self.key!r}"
            )
        picked = values.get(self.key)
        return picked, picked.valid

    def __repr__(self) -> str:
        return f"{self.child!r}.header({self.key!r})"


class Udf(Expr):
    """A function applied to whole columns at once (numpy ufuncs, numba @vectorize/@njit)."""

    def __init__(self, fn: Callable[..., Any], args: list[Expr]) -> None:
        self.fn, self.args = fn, args

    def columns(self) -> set[str]:
        return set().union(*(a.columns() for a in self.args))

    def evaluate(self, batch: MicroBatch) -> Evaluated:
        evaluated = [a.evaluate(batch) for a in self.args]
        valid: np.ndarray | None = None
        for _, v in evaluated:
            valid = _and_valid(valid, v)
        out = self.fn(*(values for values, _ in evaluated))
        if not isinstance(out, BytesColumn):
            out = np.asarray(out)
        if len(out) != batch.num_rows:
            raise ValueError(
                f"udf {getattr(self.fn, '__name__', self.fn)} returned {len(out)} values for {batch.num_rows} rows"
            )
        return out, valid

    def __repr__(self) -> str:
        return f"{getattr(self.fn, '__name__', 'udf')}({', '.join(map(repr, self.args))})"


def as_expr(value: Any) -> Expr:
    if isinstance(value, Expr):
        return value
    if isinstance(value, str):
        return Col(value)
    return Lit(value)


def evaluate_predicate(expr: Expr, batch: MicroBatch) -> np.ndarray:
    values, valid = expr.evaluate(batch)
    if isinstance(values, (BytesColumn, HeadersColumn)) or values.dtype != bool:
        raise TypeError(f"filter condition {expr!r} is not boolean")
    return values if valid is None else values & valid
