"""Streaming aggregation: group keys (optionally an event-time window) -> aggregate values.

State is one columnar table: the group key columns followed by every aggregate's partial
fields (`__a<i>_<field>`). Each batch computes partials for its own groups, concatenates
them under the state table and combines per group, so the cost per batch is one grouping
pass over (state + batch groups), with no per-group Python.

Output modes (Spark's rules): complete emits every group each batch and keeps all state;
update emits the groups this batch changed; append emits a window once the watermark has
passed its end, and needs an event-time window plus a watermark. With a watermark, groups
of windows that ended at or before it are evicted in append and update mode, which is what
bounds the state.

After a windowed aggregation or join, an aggregation grouped by the upstream `window_start`
and `window_end` is *window-derived* (see `chaining`): it closes a window when the watermark
reaches its end and drops nothing as late.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from pystream.compute import grouping
from pystream.compute import windows as wkernels
from pystream.streams.aggregates import AggregateFunction, ArgMax, Partials
from pystream.streams.batch import Column, MicroBatch, flat_column, take_column
from pystream.streams.expressions import Expr
from pystream.streams.operators.chaining import check_chain, windowed_upstream
from pystream.streams.plan import BatchContext, Node, OutputMode
from pystream.streams.windows import HoppingWindow, SessionWindow, TumblingWindow, WindowSpec

WINDOW_START, WINDOW_END = "window_start", "window_end"


class Aggregate(Node):
    stateful = True

    def __init__(
        self,
        child: Node,
        keys: list[Expr],
        window: WindowSpec | None,
        aggs: list[AggregateFunction],
    ) -> None:
        super().__init__(child)
        if not aggs:
            raise ValueError("agg() needs at least one aggregate function")
        self.keys, self.window, self.aggs = keys, window, aggs
        self.key_names = ([WINDOW_START, WINDOW_END] if window else []) + [k.name for k in keys]
        self.state: MicroBatch | None = None

    # ---- plan checks --------------------------------------------------------------------
    @cached_property
    def derived_window(self) -> bool:
        """Grouped by the windows of an upstream windowed operator (see `chaining`)."""
        names = {k.name for k in self.keys}
        return (
            self.window is None and {WINDOW_START, WINDOW_END} <= names and windowed_upstream(self)
        )

    def check_output_mode(self, mode: str) -> None:
        derived = self.derived_window
        check_chain(self, mode, derived)
        windowed = self.window is not None or derived
        if mode == OutputMode.APPEND and (not windowed or self.watermark is None):
            raise ValueError(
                "append output mode on an aggregation needs an event-time window and a "
                "watermark (with_watermark); use update or complete mode otherwise"
            )
        wm = self.watermark
        if self.window is not None and wm is not None and self.window.column != wm.column:
            raise ValueError(
                f"window column {self.window.column!r} differs from the watermark column {wm.column!r}"
            )

    # ---- state --------------------------------------------------------------------------
    def snapshot(self) -> dict[str, MicroBatch]:
        return {} if self.state is None else {"groups": self.state}

    def restore(self, tables: dict[str, MicroBatch]) -> None:
        self.state = tables.get("groups")

    def _field(self, i: int, name: str) -> str:
        return f"__a{i}_{name}"

    # ---- per batch ----------------------------------------------------------------------
    def _keyed(
        self, batch: MicroBatch
    ) -> tuple[MicroBatch, dict[str, Column], dict[str, np.ndarray]]:
        """Rows (repeated per hopping window) with their key columns."""
        keys: dict[str, Column] = {}
        valid: dict[str, np.ndarray] = {}
        spec = self.window
        if isinstance(spec, HoppingWindow):
            # rows are repeated once per window: copy only the columns the keys and aggregates read
            needed = {spec.column}.union(
                *(k.columns() for k in self.keys), *(a.input_columns() for a in self.aggs)
            )
            batch = batch.select([n for n in batch.names if n in needed])
            rows, starts = wkernels.hopping(
                np.asarray(batch[spec.column]), spec.size, spec.slide, spec.offset
            )
            batch = batch.take(rows)
            keys[WINDOW_START], keys[WINDOW_END] = starts, starts + spec.size
        elif isinstance(spec, TumblingWindow):
            starts = wkernels.tumbling_start(np.asarray(batch[spec.column]), spec.size, spec.offset)
            keys[WINDOW_START], keys[WINDOW_END] = starts, starts + spec.size
        for expr in self.keys:
            values, mask = expr.evaluate(batch)
            keys[expr.name] = values
            if mask is not None:
                valid[expr.name] = mask
        return batch, keys, valid

    def _partials(self, batch: MicroBatch, codes: np.ndarray, n: int) -> dict[str, Column]:
        out: dict[str, Column] = {}
        for i, agg in enumerate(self.aggs):
            for name, values in agg.partial(batch, codes, n).items():
                out[self._field(i, name)] = values
        return out

    def _combine(self, table: MicroBatch, codes: np.ndarray, n: int) -> dict[str, Column]:
        out: dict[str, Column] = {}
        for i, agg in enumerate(self.aggs):
            partials: Partials = {f: table[self._field(i, f)] for f in agg.fields}
            for name, values in agg.combine(codes, n, partials).items():
                out[self._field(i, name)] = values
        return out

    def process(self, inputs: list[MicroBatch], ctx: BatchContext) -> MicroBatch:
        # a window-derived aggregation gets rows its upstream operator already filtered
        batch = inputs[0] if self.derived_window else self.split_late(inputs[0], ctx)
        if isinstance(self.window, SessionWindow):
            merged, updated = self._merge_sessions(batch)
        else:
            merged, updated = self._merge_groups(batch)
        return self._emit(merged, updated, ctx)

    def _merge_groups(self, batch: MicroBatch) -> tuple[MicroBatch, np.ndarray]:
        if not batch.columns:  # nothing came from upstream (an operator with no output)
            return self._fold(None, self.key_names)
        batch, keys, valid = self._keyed(batch)
        names = self.key_names
        if batch.num_rows:
            groups = grouping.factorize(
                [flat_column(keys[k], k, "group by") for k in names],
                [valid.get(k) for k in names],
            )
            key_cols = {k: take_column(keys[k], groups.first) for k in names}
            key_valid = {k: m[groups.first] for k, m in valid.items()}
            fresh = MicroBatch(
                key_cols | self._partials(batch, groups.codes, groups.count), key_valid
            )
        else:
            fresh = None
        return self._fold(fresh, names)

    def _fold(self, fresh: MicroBatch | None, names: list[str]) -> tuple[MicroBatch, np.ndarray]:
        """Combine new partial rows with the state table; mark groups the new rows touched."""
        old = self.state
        if fresh is None or fresh.num_rows == 0:
            if old is None:
                return MicroBatch({}), np.zeros(0, bool)
            return old, np.zeros(old.num_rows, bool)
        table = fresh if old is None else MicroBatch.concat([old, fresh])
        groups = grouping.factorize(
            [flat_column(table[k], k, "group by") for k in names],
            [table.valid.get(k) for k in names],
        )
        merged = (
            table.select(names)
            .take(groups.first)
            .with_columns(self._combine(table, groups.codes, groups.count))
        )
        updated = np.zeros(groups.count, bool)
        updated[groups.codes[0 if old is None else old.num_rows :]] = True
        return merged, updated

    def _merge_sessions(self, batch: MicroBatch) -> tuple[MicroBatch, np.ndarray]:
        spec = self.window
        assert isinstance(spec, SessionWindow)
        key_names = [k.name for k in self.keys]
        if batch.num_rows:
            _, keys, valid = self._keyed(batch)
            ts = np.asarray(batch[spec.column], dtype=np.int64)
            one_per_row = np.arange(batch.num_rows, dtype=np.int64)
            fresh = MicroBatch(
                {WINDOW_START: ts, WINDOW_END: ts + spec.gap}
                | keys
                | self._partials(batch, one_per_row, batch.num_rows),
                valid,
            )
        else:
            fresh = None
        old = self.state
        if fresh is None:
            if old is None:
                return MicroBatch({}), np.zeros(0, bool)
            return old, np.zeros(old.num_rows, bool)
        table = fresh if old is None else MicroBatch.concat([old, fresh])
        is_new = np.zeros(table.num_rows, bool)
        is_new[0 if old is None else old.num_rows :] = True
        if key_names:
            key_codes = grouping.factorize(
                [flat_column(table[k], k, "group by") for k in key_names],
                [table.valid.get(k) for k in key_names],
            ).codes
        else:
            key_codes = np.zeros(table.num_rows, np.int64)
        starts = np.asarray(table[WINDOW_START])
        ends = np.asarray(table[WINDOW_END])
        order, session, n = wkernels.sessions(key_codes, starts, ends)
        table = table.take(order)
        first = np.full(n, table.num_rows, dtype=np.int64)
        np.minimum.at(first, session, np.arange(table.num_rows))
        start = grouping.group_min(session, n, np.asarray(table[WINDOW_START]))
        end = grouping.group_max(session, n, np.asarray(table[WINDOW_END]))
        merged = (
            table.select(key_names)
            .take(first)
            .with_columns({WINDOW_START: start, WINDOW_END: end} | self._combine(table, session, n))
        )
        merged = merged.select(self.key_names + [c for c in merged.names if c.startswith("__a")])
        updated = np.zeros(n, bool)
        updated[session[is_new[order]]] = True
        return merged, updated

    def _emit(self, merged: MicroBatch, updated: np.ndarray, ctx: BatchContext) -> MicroBatch:
        if merged.num_rows == 0:
            self.state = None if self.state is None else merged
            return self._finish(merged if merged.columns else None)
        mode = ctx.output_mode
        closed = np.zeros(merged.num_rows, bool)
        if (self.window is not None or self.derived_window) and self.watermark is not None:
            closed = np.asarray(merged[WINDOW_END]) <= ctx.watermark
        if mode == OutputMode.COMPLETE:
            out, keep = merged, np.ones(merged.num_rows, bool)
        elif mode == OutputMode.UPDATE:
            out, keep = merged.filter(updated), ~closed
        else:
            out, keep = merged.filter(closed), ~closed
        self.state = merged.filter(keep)
        ctx.count("state_rows", self.state.num_rows)
        return self._finish(out)

    def _finish(self, table: MicroBatch | None) -> MicroBatch:
        """Key columns plus finished aggregate values."""
        if table is None or not table.columns:
            return self._empty_output()
        cols: dict[str, Column] = {k: table[k] for k in self.key_names}
        valid = {k: table.valid[k] for k in self.key_names if k in table.valid}
        for i, agg in enumerate(self.aggs):
            partials = {f: table[self._field(i, f)] for f in agg.fields}
            if isinstance(agg, ArgMax):
                cols.update(agg.outputs(partials))
                continue
            values, mask = agg.finish(partials)
            cols[agg.name] = values
            if mask is not None:
                valid[agg.name] = mask
        return MicroBatch(cols, valid, num_rows=table.num_rows)

    def _empty_output(self) -> MicroBatch:
        return MicroBatch({}, num_rows=0)
