"""Aggregate functions in three steps: partial (rows -> per-group partial state), combine
(partials of the same group -> one partial; associative, so batch partials merge into state)
and finish (partial -> the output value).

Partial state is columnar (one array, or a 2-d array for sketches, per partial field), so an
aggregation's state is itself a `MicroBatch` that checkpoints like any other. Nulls in the
input are skipped; a group whose inputs are all null finishes as null (count finishes as 0).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pystream.compute import grouping, hll
from pystream.streams.batch import Column, MicroBatch, take_column
from pystream.streams.expressions import Expr, as_expr

Partials = dict[str, Column]


class AggregateFunction:
    fields: tuple[str, ...] = ()
    label = "agg"

    def __init__(self, expr: Expr | None, alias: str | None = None) -> None:
        self.expr = expr
        self._alias = alias

    @property
    def name(self) -> str:
        if self._alias:
            return self._alias
        return self.label if self.expr is None else f"{self.label}({self.expr.name})"

    def alias(self, name: str) -> AggregateFunction:
        self._alias = name
        return self

    def input_columns(self) -> set[str]:
        return set() if self.expr is None else self.expr.columns()

    def _values(self, batch: MicroBatch, codes: np.ndarray) -> tuple[Any, np.ndarray]:
        assert self.expr is not None
        values, valid = self.expr.evaluate(batch)
        if valid is None:
            return values, codes
        return take_column(values, np.flatnonzero(valid)), codes[valid]

    def partial(self, batch: MicroBatch, codes: np.ndarray, n: int) -> Partials:
        raise NotImplementedError

    def combine(self, codes: np.ndarray, n: int, partials: Partials) -> Partials:
        raise NotImplementedError

    def finish(self, partials: Partials) -> tuple[Column, np.ndarray | None]:
        raise NotImplementedError


class Count(AggregateFunction):
    fields = ("n",)
    label = "count"

    def partial(self, batch: MicroBatch, codes: np.ndarray, n: int) -> Partials:
        if self.expr is None:
            return {"n": grouping.group_count(codes, n)}
        _, valid = self.expr.evaluate(batch)
        return {"n": grouping.group_count(codes, n, valid)}

    def combine(self, codes: np.ndarray, n: int, partials: Partials) -> Partials:
        return {"n": grouping.group_sum(codes, n, partials["n"])}  # type: ignore[arg-type]

    def finish(self, partials: Partials) -> tuple[Column, np.ndarray | None]:
        return partials["n"], None


class Sum(AggregateFunction):
    fields = ("s", "n")
    label = "sum"

    def partial(self, batch: MicroBatch, codes: np.ndarray, n: int) -> Partials:
        values, codes = self._values(batch, codes)
        return {"s": grouping.group_sum(codes, n, values), "n": grouping.group_count(codes, n)}

    def combine(self, codes: np.ndarray, n: int, partials: Partials) -> Partials:
        return {k: grouping.group_sum(codes, n, partials[k]) for k in self.fields}  # type: ignore[arg-type]

    def finish(self, partials: Partials) -> tuple[Column, np.ndarray | None]:
        return partials["s"], np.asarray(partials["n"]) > 0


class Mean(Sum):
    label = "mean"

    def partial(self, batch: MicroBatch, codes: np.ndarray, n: int) -> Partials:
        values, codes = self._values(batch, codes)
        s = grouping.group_sum(codes, n, np.asarray(values, dtype=np.float64))
        return {"s": s, "n": grouping.group_count(codes, n)}

    def finish(self, partials: Partials) -> tuple[Column, np.ndarray | None]:
        count = np.asarray(partials["n"])
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(partials["s"]) / np.maximum(count, 1), count > 0


class Min(AggregateFunction):
    fields = ("v", "n")
    label = "min"
    _reduce = staticmethod(grouping.group_min)

    def partial(self, batch: MicroBatch, codes: np.ndarray, n: int) -> Partials:
        values, codes = self._values(batch, codes)
        return {"v": self._reduce(codes, n, values), "n": grouping.group_count(codes, n)}

    def combine(self, codes: np.ndarray, n: int, partials: Partials) -> Partials:
        count = np.asarray(partials["n"])
        keep = count > 0  # an all-null partial holds a sentinel, not a value
        return {
            "v": self._reduce(codes[keep], n, np.asarray(partials["v"])[keep]),
            "n": grouping.group_sum(codes, n, count),
        }

    def finish(self, partials: Partials) -> tuple[Column, np.ndarray | None]:
        return partials["v"], np.asarray(partials["n"]) > 0


class Max(Min):
    label = "max"
    _reduce = staticmethod(grouping.group_max)


class ApproxCountDistinct(AggregateFunction):
    fields = ("hll",)
    label = "approx_count_distinct"

    def __init__(self, expr: Expr, rsd: float = 0.05, alias: str | None = None) -> None:
        super().__init__(expr, alias)
        self.p = hll.precision_for(rsd)

    def partial(self, batch: MicroBatch, codes: np.ndarray, n: int) -> Partials:
        values, codes = self._values(batch, codes)
        return {"hll": hll.registers(codes, n, values, self.p)}

    def combine(self, codes: np.ndarray, n: int, partials: Partials) -> Partials:
        return {"hll": hll.merge(codes, n, partials["hll"])}  # type: ignore[arg-type]

    def finish(self, partials: Partials) -> tuple[Column, np.ndarray | None]:
        return hll.estimate(partials["hll"]), None  # type: ignore[arg-type]


class ArgMax(AggregateFunction):
    """The values of `columns` from the row with the largest `expr` (earliest row on ties).

    Output: one column per entry of `columns`, under the column's own name (or the alias, when
    exactly one column is asked for). Null ordering values are rejected.
    """

    label = "arg_max"

    def __init__(self, expr: Expr, columns: list[str], alias: str | None = None) -> None:
        super().__init__(expr, alias)
        self.columns = columns
        self.fields = ("v", *columns)

    def input_columns(self) -> set[str]:
        return super().input_columns() | set(self.columns)

    def _pick(self, codes: np.ndarray, n: int, values: np.ndarray, cols: Partials) -> Partials:
        idx = grouping.group_argmax(codes, n, values)
        out: Partials = {"v": values[idx]}
        for c in self.columns:
            out[c] = take_column(cols[c], idx)
        return out

    def partial(self, batch: MicroBatch, codes: np.ndarray, n: int) -> Partials:
        assert self.expr is not None
        values, valid = self.expr.evaluate(batch)
        if valid is not None:
            raise ValueError(f"arg_max ordering expression {self.expr!r} has nulls")
        return self._pick(codes, n, np.asarray(values), {c: batch[c] for c in self.columns})

    def combine(self, codes: np.ndarray, n: int, partials: Partials) -> Partials:
        return self._pick(codes, n, np.asarray(partials["v"]), partials)

    def finish(self, partials: Partials) -> tuple[Column, np.ndarray | None]:
        return partials[self.columns[0]], None

    def outputs(self, partials: Partials) -> dict[str, Column]:
        if self._alias and len(self.columns) == 1:
            return {self._alias: partials[self.columns[0]]}
        return {c: partials[c] for c in self.columns}


class Udaf(AggregateFunction):
    """A numba aggregate in Flink's accumulator style over float64 values.

    `update(acc, x) -> acc` folds a value in; `merge(a, b) -> acc` joins two accumulators;
    both must be `numba.njit` functions. `finish` (optional, numpy-vectorized) maps the
    accumulator array to results. Rows fold in arrival order within a batch.
    """

    fields = ("acc", "n")
    label = "udaf"

    def __init__(
        self,
        expr: Expr,
        update: Any,
        merge: Any,
        init: float = 0.0,
        finish: Callable[[np.ndarray], np.ndarray] | None = None,
        alias: str | None = None,
    ) -> None:
        super().__init__(expr, alias)
        self.update, self.merge, self.init, self.finish_fn = update, merge, init, finish

    def partial(self, batch: MicroBatch, codes: np.ndarray, n: int) -> Partials:
        from pystream.compute import kernels

        values, codes = self._values(batch, codes)
        acc = np.full(n, self.init, dtype=np.float64)
        kernels.fold_groups(self.update, codes, np.asarray(values, dtype=np.float64), acc)
        return {"acc": acc, "n": grouping.group_count(codes, n)}

    def combine(self, codes: np.ndarray, n: int, partials: Partials) -> Partials:
        from pystream.compute import kernels

        acc = np.full(n, self.init, dtype=np.float64)
        seen = np.zeros(n, dtype=np.bool_)
        kernels.merge_groups(self.merge, codes, np.asarray(partials["acc"]), acc, seen)
        return {"acc": acc, "n": grouping.group_sum(codes, n, partials["n"])}  # type: ignore[arg-type]

    def finish(self, partials: Partials) -> tuple[Column, np.ndarray | None]:
        acc = np.asarray(partials["acc"])
        out = acc if self.finish_fn is None else np.asarray(self.finish_fn(acc))
        return out, np.asarray(partials["n"]) > 0


def expr_of(value: Any) -> Expr:
    return as_expr(value)
