"""Joins: a stream with a static table, and two streams within the same event-time window.

Stream-table join: each batch's rows look up the table by key (inner or left); a key may
match several table rows. Null keys never match, as in SQL.

Windowed stream-stream join (append mode): rows of both sides are assigned to the tumbling
or hopping windows of their event-time column and match when keys and window are equal (a
hopping window puts a row in every window that contains it, so a pair of rows that share
several windows is emitted once per shared window, as a join on Spark's `window` column). Both sides
keep their rows as state; each batch joins new left rows with all right rows (state + new)
and old left rows with new right rows, so each pair is emitted exactly once, as soon as both
rows have arrived. `left_semi` emits each left row once per window, at its first match in that window (the
left state remembers which rows have matched). Rows of windows that end at or before the watermark are
evicted, and late rows are dropped before they reach the state.
"""

from __future__ import annotations

import numpy as np

from pystream.compute import grouping
from pystream.compute.windows import hopping, tumbling_start
from pystream.streams.batch import Column, MicroBatch, flat_column, take_column
from pystream.streams.bytes_column import BytesColumn, HeadersColumn
from pystream.streams.operators.chaining import check_chain
from pystream.streams.plan import NO_WATERMARK, BatchContext, Node, OutputMode, WatermarkNode
from pystream.streams.windows import HoppingWindow, TumblingWindow, WindowSpec

WINDOW_START, WINDOW_END = "window_start", "window_end"
MATCHED = "__matched"


def _key_codes(
    left: MicroBatch, right: MicroBatch, keys: list[str]
) -> tuple[np.ndarray, np.ndarray, int]:
    """Shared codes for the keys of both sides; rows with a null key get -1."""
    both = MicroBatch.concat([left.select(keys), right.select(keys)])
    groups = grouping.factorize(
        [flat_column(both[k], k, "join on") for k in keys], [both.valid.get(k) for k in keys]
    )
    codes = groups.codes.copy()
    for k in keys:
        codes[~both.validity(k)] = -1
    return codes[: left.num_rows], codes[left.num_rows :], groups.count


def _null_column(like: Column, n: int) -> tuple[Column, np.ndarray]:
    if isinstance(like, BytesColumn):
        return BytesColumn.from_pylist([None] * n, like.text), np.zeros(n, bool)
    if isinstance(like, HeadersColumn):
        return HeadersColumn.empty(n), np.zeros(n, bool)
    return np.zeros(n, dtype=like.dtype), np.zeros(n, bool)


def _combine(
    left: MicroBatch, li: np.ndarray, right: MicroBatch, ri: np.ndarray, skip: set[str]
) -> MicroBatch:
    out = left.take(li)
    cols: dict[str, Column] = {}
    valid: dict[str, np.ndarray | None] = {}
    for name, col in right.columns.items():
        if name in skip:
            continue
        out_name = name if name not in out.columns else f"{name}_right"
        cols[out_name] = take_column(col, ri)
        if name in right.valid:
            valid[out_name] = right.valid[name][ri]
    return out.with_columns(cols, valid)


class StreamTableJoin(Node):
    def __init__(self, child: Node, table: MicroBatch, keys: list[str], how: str) -> None:
        super().__init__(child)
        if how not in ("inner", "left"):
            raise ValueError("stream-table joins are 'inner' or 'left'")
        missing = [k for k in keys if k not in table]
        if missing:
            raise ValueError(f"join keys {missing} are not columns of the table")
        self.table, self.keys, self.how = table, keys, how

    def process(self, inputs: list[MicroBatch], ctx: BatchContext) -> MicroBatch:
        batch = inputs[0]
        lc, rc, n = _key_codes(batch, self.table, self.keys)
        li, ri = grouping.join_indices(lc, rc, n)
        joined = _combine(batch, li, self.table, ri, set(self.keys))
        if self.how == "inner":
            return joined
        unmatched = np.setdiff1d(np.arange(batch.num_rows), li)
        if len(unmatched) == 0:
            return joined
        rest = batch.take(unmatched)
        cols: dict[str, Column] = {}
        valid: dict[str, np.ndarray | None] = {}
        for name, col in self.table.columns.items():
            if name in self.keys:
                continue
            out_name = name if name not in batch.columns else f"{name}_right"
            cols[out_name], valid[out_name] = _null_column(col, rest.num_rows)
        both = MicroBatch.concat([joined, rest.with_columns(cols, valid)])
        order = np.argsort(np.concatenate([li, unmatched]), kind="stable")
        return both.take(order)


class StreamStreamJoin(Node):
    stateful = True

    def __init__(
        self, left: Node, right: Node, keys: list[str], window: WindowSpec, how: str = "inner"
    ) -> None:
        super().__init__(left, right)
        if not isinstance(window, (TumblingWindow, HoppingWindow)):
            raise ValueError("stream-stream joins support tumbling and hopping windows")
        if how not in ("inner", "left_semi"):
            raise ValueError("stream-stream joins are 'inner' or 'left_semi'")
        self.keys, self.window, self.how = keys, window, how
        self.left_state: MicroBatch | None = None
        self.right_state: MicroBatch | None = None

    def check_output_mode(self, mode: str) -> None:
        check_chain(self, mode)
        if mode != OutputMode.APPEND:
            raise ValueError("stream-stream joins emit in append mode only")
        for side in self.inputs:
            if side.watermark is None:
                raise ValueError("both sides of a stream-stream join need with_watermark(...)")

    def snapshot(self) -> dict[str, MicroBatch]:
        out = {}
        if self.left_state is not None:
            out["left"] = self.left_state
        if self.right_state is not None:
            out["right"] = self.right_state
        return out

    def restore(self, tables: dict[str, MicroBatch]) -> None:
        self.left_state, self.right_state = tables.get("left"), tables.get("right")

    def _prepare(
        self, batch: MicroBatch, wm: WatermarkNode | None, ctx: BatchContext
    ) -> MicroBatch | None:
        if not batch.columns:
            return None
        batch = self.split_late(batch, ctx, wm)
        ts = np.asarray(batch[self.window.column], dtype=np.int64)
        w = self.window
        if isinstance(w, HoppingWindow):
            rows, starts = hopping(ts, w.size, w.slide, w.offset)
            return batch.take(rows).with_columns({WINDOW_START: starts})
        return batch.with_columns({WINDOW_START: tumbling_start(ts, w.size, w.offset)})

    def _pairs(
        self, left: MicroBatch | None, right: MicroBatch | None
    ) -> tuple[np.ndarray, np.ndarray]:
        if left is None or right is None or left.num_rows == 0 or right.num_rows == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        lc, rc, n = _key_codes(left, right, [WINDOW_START, *self.keys])
        return grouping.join_indices(lc, rc, n)

    def _join(self, left: MicroBatch | None, right: MicroBatch | None) -> MicroBatch | None:
        li, ri = self._pairs(left, right)
        if len(li) == 0:
            return None
        assert left is not None and right is not None
        return _combine(left, li, right, ri, {WINDOW_START, *self.keys})

    def _semi(
        self, left: MicroBatch | None, right_all: MicroBatch | None, right: MicroBatch | None
    ) -> list[MicroBatch]:
        found = []
        state = self.left_state
        if state is not None:
            li, _ = self._pairs(state, right)
            matched = np.asarray(state[MATCHED]).copy()
            hit = np.unique(li)
            hit = hit[~matched[hit]]
            if len(hit):
                found.append(state.take(hit))
                matched[hit] = True
                self.left_state = state.with_columns({MATCHED: matched})
        if left is not None and left.num_rows:
            li, _ = self._pairs(left, right_all)
            hit = np.unique(li)
            found.append(left.take(hit))
            flags = np.zeros(left.num_rows, bool)
            flags[hit] = True
            left = left.with_columns({MATCHED: flags})
            self.left_state = _append(self.left_state, left)
        return [f.select([c for c in f.names if c != MATCHED]) for f in found if f.num_rows]

    def process(self, inputs: list[MicroBatch], ctx: BatchContext) -> MicroBatch:
        left = self._prepare(inputs[0], self.inputs[0].watermark, ctx)
        right = self._prepare(inputs[1], self.inputs[1].watermark, ctx)
        right_all = _append(self.right_state, right)
        if self.how == "left_semi":
            found = self._semi(left, right_all, right)
            self.left_state = _evict(self.left_state, self.window.size, ctx.watermark)
        else:
            parts = [self._join(left, right_all), self._join(self.left_state, right)]
            self.left_state = _evict(
                _append(self.left_state, left), self.window.size, ctx.watermark
            )
            found = [p for p in parts if p is not None]
        self.right_state = _evict(right_all, self.window.size, ctx.watermark)
        if not found:
            return MicroBatch({})
        out = MicroBatch.concat(found)
        start = np.asarray(out[WINDOW_START])
        front = {WINDOW_START: start, WINDOW_END: start + self.window.size}
        return MicroBatch(
            front | {k: v for k, v in out.columns.items() if k != WINDOW_START}, out.valid
        )


def _append(state: MicroBatch | None, new: MicroBatch | None) -> MicroBatch | None:
    if new is None or new.num_rows == 0:
        return state
    return new if state is None else MicroBatch.concat([state, new])


def _evict(state: MicroBatch | None, size: int, watermark: int) -> MicroBatch | None:
    if state is None or watermark == NO_WATERMARK:
        return state
    return state.filter(np.asarray(state[WINDOW_START]) + size > watermark)
