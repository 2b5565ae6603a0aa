"""Stateless operators: projection, filter, per-batch and per-record functions, decoding.

Per-batch functions (`map_batches`) get and return a `MicroBatch` and may use numpy or numba
freely; they run once per batch. Per-record functions (`map`, `flat_map`) are for convenience
and run a Python call per row: prefer expressions or `map_batches` where speed matters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from pystream.streams.batch import Column, MicroBatch
from pystream.streams.bytes_column import BytesColumn
from pystream.streams.expressions import Expr, evaluate_predicate
from pystream.streams.formats import ValueFormat
from pystream.streams.plan import BatchContext, Node


class Project(Node):
    """select / with_column: evaluate expressions into named columns."""

    def __init__(self, child: Node, exprs: list[Expr], keep_existing: bool) -> None:
        super().__init__(child)
        self.exprs, self.keep_existing = exprs, keep_existing

    def process(self, inputs: list[MicroBatch], ctx: BatchContext) -> MicroBatch:
        batch = inputs[0]
        cols: dict[str, Column] = {}
        valid: dict[str, np.ndarray | None] = {}
        for expr in self.exprs:
            values, mask = expr.evaluate(batch)
            cols[expr.name], valid[expr.name] = values, mask
        if self.keep_existing:
            return batch.with_columns(cols, valid)
        return MicroBatch(cols, {k: v for k, v in valid.items() if v is not None}, batch.num_rows)


class Filter(Node):
    def __init__(self, child: Node, condition: Expr) -> None:
        super().__init__(child)
        self.condition = condition

    def process(self, inputs: list[MicroBatch], ctx: BatchContext) -> MicroBatch:
        batch = inputs[0]
        if batch.num_rows == 0:
            return batch
        return batch.filter(evaluate_predicate(self.condition, batch))


class MapBatches(Node):
    def __init__(self, child: Node, fn: Callable[[MicroBatch], MicroBatch]) -> None:
        super().__init__(child)
        self.fn = fn

    def process(self, inputs: list[MicroBatch], ctx: BatchContext) -> MicroBatch:
        out = self.fn(inputs[0])
        if not isinstance(out, MicroBatch):
            raise TypeError(f"map_batches function returned {type(out).__name__}, not MicroBatch")
        return out


class MapRecords(Node):
    """Per-record `map` (one row out per row in) or `flat_map` (any number of rows out)."""

    def __init__(
        self,
        child: Node,
        fn: Callable[[dict[str, Any]], Any],
        schema: Mapping[str, str],
        flat: bool,
    ) -> None:
        super().__init__(child)
        self.fn, self.schema, self.flat = fn, dict(schema), flat

    def process(self, inputs: list[MicroBatch], ctx: BatchContext) -> MicroBatch:
        rows_in = inputs[0].to_pylist()
        if self.flat:
            rows: list[Mapping[str, Any]] = [r for row in rows_in for r in _as_rows(self.fn(row))]
        else:
            rows = [self.fn(row) for row in rows_in]
        return MicroBatch.from_pylist(rows, self.schema)


def _as_rows(out: Iterable[Mapping[str, Any]] | None) -> Iterable[Mapping[str, Any]]:
    return () if out is None else out


class Decode(Node):
    """Decode a bytes column (Kafka's `value`) with a value format into typed columns."""

    def __init__(self, child: Node, fmt: ValueFormat, column: str, keep: list[str]) -> None:
        super().__init__(child)
        self.fmt, self.column, self.keep = fmt, column, keep

    def process(self, inputs: list[MicroBatch], ctx: BatchContext) -> MicroBatch:
        batch = inputs[0]
        raw = batch[self.column]
        if not isinstance(raw, BytesColumn):
            raise TypeError(f"column {self.column!r} holds numbers, not bytes to decode")
        decoded = self.fmt.decode(raw, batch.num_rows)
        return batch.select(self.keep).with_columns(decoded.columns, decoded.valid)


class Union(Node):
    def process(self, inputs: list[MicroBatch], ctx: BatchContext) -> MicroBatch:
        return MicroBatch.concat(inputs)
