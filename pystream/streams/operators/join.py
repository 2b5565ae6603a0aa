"""Joins: a stream with a static table, and two streams within the same event-time window.

Stream-table join: each batch's rows look up the table by key (inner or left); a key may
match several table rows. Null keys never match, as in SQL.

Windowed stream-stream join (append mode): rows of both sides are assigned to the tumbling
or hopping windows of their event-time column and match when keys and window are equal (a
hopping window puts a row in every window that contains it, so a pair of rows that share
several windows is emitted once per shared window, as a join on Spark's `window` column).
Both sides keep their rows (one per row and window) as state, with a flag saying whether
a row has matched where the join needs it; each batch joins new left rows with all right
rows (state + new) and old left rows with new right rows, so each pair is emitted exactly
once, as soon as both rows have arrived. `left_semi` emits each left row once per window, at its first
match in that window. Rows of windows that end at or before the watermark are evicted, and
late rows are dropped before they reach the state. When rows are evicted, the outer joins
(`left_outer`, `right_outer`, `full_outer`) emit those of their outer side(s) that never
matched in that window, once, with nulls for the other side's columns (keys and window
from the row itself); `left_anti` emits such left rows alone. Eviction is the first moment
a row is sure to stay unmatched: a row of a later batch is either late or only in windows
that end after the watermark.
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

INNER, LEFT_OUTER, RIGHT_OUTER, FULL_OUTER = "inner", "left_outer", "right_outer", "full_outer"
LEFT_SEMI, LEFT_ANTI = "left_semi", "left_anti"
# Spark's spellings (JoinType.apply: case and underscores ignored) -> the name used here
JOIN_TYPES = {
    "inner": INNER,
    "leftouter": LEFT_OUTER,
    "left": LEFT_OUTER,
    "rightouter": RIGHT_OUTER,
    "right": RIGHT_OUTER,
    "fullouter": FULL_OUTER,
    "full": FULL_OUTER,
    "outer": FULL_OUTER,
    "leftsemi": LEFT_SEMI,
    "semi": LEFT_SEMI,
    "leftanti": LEFT_ANTI,
    "anti": LEFT_ANTI,
}


def join_type(how: str, allowed: tuple[str, ...], what: str) -> str:
    """`how` in any of Spark's spellings as one of `allowed`, or a ValueError naming them."""
    found = JOIN_TYPES.get(how.lower().replace("_", "")) if isinstance(how, str) else None
    if found not in allowed:
        raise ValueError(
            f"{what} joins are {', '.join(repr(a) for a in allowed)} "
            f"(or Spark's spellings of them, such as 'left' for 'left_outer'), not {how!r}"
        )
    assert found is not None
    return found


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
        nulls = np.zeros(n, bool)
        return BytesColumn(
            np.zeros(n + 1, np.int64), np.empty(0, np.uint8), nulls, like.text
        ), nulls
    if isinstance(like, HeadersColumn):
        return HeadersColumn.empty(n), np.zeros(n, bool)
    return np.zeros((n, *like.shape[1:]), dtype=like.dtype), np.zeros(n, bool)


def _right_names(left: MicroBatch, right: MicroBatch, skip: set[str]) -> dict[str, str]:
    """Output name of each right column the join keeps (a clash with the left gets _right)."""
    return {
        name: name if name not in left.columns else f"{name}_right"
        for name in right.columns
        if name not in skip
    }


def _combine(
    left: MicroBatch, li: np.ndarray, right: MicroBatch, ri: np.ndarray, skip: set[str]
) -> MicroBatch:
    out = left.take(li)
    cols: dict[str, Column] = {}
    valid: dict[str, np.ndarray | None] = {}
    for name, out_name in _right_names(left, right, skip).items():
        cols[out_name] = take_column(right[name], ri)
        if name in right.valid:
            valid[out_name] = right.valid[name][ri]
    return out.with_columns(cols, valid)


def _pad_right(rows: MicroBatch, right: MicroBatch, skip: set[str]) -> MicroBatch:
    """Left `rows` with nulls in the right columns `_combine` would add."""
    cols: dict[str, Column] = {}
    valid: dict[str, np.ndarray | None] = {}
    for name, out_name in _right_names(rows, right, skip).items():
        cols[out_name], valid[out_name] = _null_column(right[name], rows.num_rows)
    return rows.with_columns(cols, valid)


def _pad_left(left: MicroBatch, rows: MicroBatch, skip: set[str]) -> MicroBatch:
    """Right `rows` laid out as `_combine(left, ..., rows, ...)`: the shared columns (`skip`)
    from `rows`, nulls in the other left columns."""
    n = rows.num_rows
    cols: dict[str, Column] = {}
    valid: dict[str, np.ndarray] = {}
    for name, like in left.columns.items():
        if name in skip:
            col = rows[name]  # a key or the window: the same on both sides, in the left's dtype
            if isinstance(col, np.ndarray) and isinstance(like, np.ndarray):
                col = col.astype(like.dtype, copy=False)
            cols[name] = col
            valid[name] = rows.validity(name)
        else:
            cols[name], valid[name] = _null_column(like, n)
    for name, out_name in _right_names(left, rows, skip).items():
        cols[out_name] = rows[name]
        if name in rows.valid:
            valid[out_name] = rows.valid[name]
    return MicroBatch(cols, valid, num_rows=n)


class StreamTableJoin(Node):
    def __init__(self, child: Node, table: MicroBatch, keys: list[str], how: str) -> None:
        super().__init__(child)
        how = join_type(how, (INNER, LEFT_OUTER), "stream-table")
        missing = [k for k in keys if k not in table]
        if missing:
            raise ValueError(f"join keys {missing} are not columns of the table")
        self.table, self.keys, self.how = table, keys, how

    def process(self, inputs: list[MicroBatch], ctx: BatchContext) -> MicroBatch:
        batch = inputs[0]
        lc, rc, n = _key_codes(batch, self.table, self.keys)
        li, ri = grouping.join_indices(lc, rc, n)
        joined = _combine(batch, li, self.table, ri, set(self.keys))
        if self.how == INNER:
            return joined
        unmatched = np.setdiff1d(np.arange(batch.num_rows), li)
        if len(unmatched) == 0:
            return joined
        rest = _pad_right(batch.take(unmatched), self.table, set(self.keys))
        both = MicroBatch.concat([joined, rest])
        order = np.argsort(np.concatenate([li, unmatched]), kind="stable")
        return both.take(order)


class StreamStreamJoin(Node):
    """State: `left_state` and `right_state`, one row per input row and window, only for
    windows that end after the watermark. A side whose unmatched rows this join emits (or,
    for left_semi, the first match of its rows) keeps a MATCHED flag per row, set once any
    pair in that window is emitted. Not thread-safe."""

    stateful = True

    def __init__(
        self, left: Node, right: Node, keys: list[str], window: WindowSpec, how: str = INNER
    ) -> None:
        super().__init__(left, right)
        if not isinstance(window, (TumblingWindow, HoppingWindow)):
            raise ValueError("stream-stream joins support tumbling and hopping windows")
        kinds = (INNER, LEFT_OUTER, RIGHT_OUTER, FULL_OUTER, LEFT_SEMI, LEFT_ANTI)
        self.how = join_type(how, kinds, "stream-stream")
        # the sides whose never-matched rows are emitted when evicted
        self.unmatched = (
            self.how in (LEFT_OUTER, FULL_OUTER, LEFT_ANTI),
            self.how in (RIGHT_OUTER, FULL_OUTER),
        )
        # the sides whose state keeps a MATCHED flag
        self.flags = (self.unmatched[0] or self.how == LEFT_SEMI, self.unmatched[1])
        self.keys, self.window = keys, window
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
        self.left_state = _with_flags(tables.get("left"), self.flags[0])
        self.right_state = _with_flags(tables.get("right"), self.flags[1])

    def _prepare(
        self, batch: MicroBatch, wm: WatermarkNode | None, ctx: BatchContext, flagged: bool
    ) -> MicroBatch | None:
        if not batch.columns:
            return None
        batch = self.split_late(batch, ctx, wm)
        ts = np.asarray(batch[self.window.column], dtype=np.int64)
        w = self.window
        if isinstance(w, HoppingWindow):
            rows, starts = hopping(ts, w.size, w.slide, w.offset)
            batch = batch.take(rows)
        else:
            starts = tumbling_start(ts, w.size, w.offset)
        if not flagged:
            return batch.with_columns({WINDOW_START: starts})
        return batch.with_columns({WINDOW_START: starts, MATCHED: np.zeros(len(starts), bool)})

    def _pairs(
        self, left: MicroBatch | None, right: MicroBatch | None
    ) -> tuple[np.ndarray, np.ndarray]:
        if left is None or right is None or left.num_rows == 0 or right.num_rows == 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        lc, rc, n = _key_codes(left, right, [WINDOW_START, *self.keys])
        return grouping.join_indices(lc, rc, n)

    def _new_pairs(
        self, left: MicroBatch | None, right: MicroBatch | None, right_all: MicroBatch | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pairs (indices into state + new, both sides) that involve at least one new row."""
        n_left, n_right = _rows(self.left_state), _rows(self.right_state)
        li, ri = self._pairs(left, right_all)
        old_li, new_ri = self._pairs(self.left_state, right)
        return np.concatenate([li + n_left, old_li]), np.concatenate([ri, new_ri + n_right])

    def _matches(
        self, left: MicroBatch, li: np.ndarray, right: MicroBatch, ri: np.ndarray
    ) -> MicroBatch | None:
        """What this join emits for new pairs: joined rows, left rows at their first match
        (semi) or nothing (anti: a match only rules a row out)."""
        if len(li) == 0 or self.how == LEFT_ANTI:
            return None
        if self.how == LEFT_SEMI:
            hit = np.unique(li)
            return _values(left.take(hit[~np.asarray(left[MATCHED])[hit]]))
        return _combine(_values(left), li, _values(right), ri, {WINDOW_START, *self.keys})

    def _unmatched(
        self, left: MicroBatch | None, right: MicroBatch | None, gone: list[MicroBatch | None]
    ) -> list[MicroBatch]:
        """The evicted rows (`gone`: left, right) that never matched, as this join emits them."""
        out = []
        skip = {WINDOW_START, *self.keys}
        left_rows, right_rows = (_never_matched(g) for g in gone)
        if left_rows is not None and self.how in (LEFT_OUTER, FULL_OUTER):
            out.append(_pad_right(left_rows, _values(_template(right, "right")), skip))
        if left_rows is not None and self.how == LEFT_ANTI:
            out.append(left_rows)
        if right_rows is not None and self.how in (RIGHT_OUTER, FULL_OUTER):
            out.append(_pad_left(_values(_template(left, "left")), right_rows, skip))
        return out

    def process(self, inputs: list[MicroBatch], ctx: BatchContext) -> MicroBatch:
        left = self._prepare(inputs[0], self.inputs[0].watermark, ctx, self.flags[0])
        right = self._prepare(inputs[1], self.inputs[1].watermark, ctx, self.flags[1])
        left_all = _append(self.left_state, left)
        right_all = _append(self.right_state, right)
        li, ri = self._new_pairs(left, right, right_all)
        found = []
        if len(li):
            assert left_all is not None and right_all is not None
            found.append(self._matches(left_all, li, right_all, ri))
            left_all = _mark(left_all, li) if self.flags[0] else left_all
            right_all = _mark(right_all, ri) if self.flags[1] else right_all
        size, wm = self.window.size, ctx.watermark
        self.left_state, left_gone = _evict(left_all, size, wm, self.unmatched[0])
        self.right_state, right_gone = _evict(right_all, size, wm, self.unmatched[1])
        found += self._unmatched(left_all, right_all, [left_gone, right_gone])
        parts = [f for f in found if f is not None and f.num_rows]
        if not parts:
            return MicroBatch({})
        out = MicroBatch.concat(parts)
        start = np.asarray(out[WINDOW_START])
        front = {WINDOW_START: start, WINDOW_END: start + self.window.size}
        return MicroBatch(
            front | {k: v for k, v in out.columns.items() if k != WINDOW_START}, out.valid
        )


def _rows(state: MicroBatch | None) -> int:
    return 0 if state is None else state.num_rows


def _values(state: MicroBatch) -> MicroBatch:
    """State rows without the MATCHED flag."""
    if MATCHED not in state:
        return state
    return state.select([c for c in state.names if c != MATCHED])


def _with_flags(state: MicroBatch | None, flagged: bool) -> MicroBatch | None:
    """Restored state with a MATCHED flag exactly when this join keeps one (they differ only
    for a checkpoint written by another join type; its rows then count as not matched)."""
    if state is None or (MATCHED in state) == flagged:
        return state
    if not flagged:
        return _values(state)
    return state.with_columns({MATCHED: np.zeros(state.num_rows, bool)})


def _mark(state: MicroBatch, rows: np.ndarray) -> MicroBatch:
    flags = np.asarray(state[MATCHED]).copy()
    flags[rows] = True
    return state.with_columns({MATCHED: flags})


def _never_matched(gone: MicroBatch | None) -> MicroBatch | None:
    if gone is None:
        return None
    rows = gone.filter(~np.asarray(gone[MATCHED]))
    return _values(rows) if rows.num_rows else None


def _template(side: MicroBatch | None, name: str) -> MicroBatch:
    """The columns of a side, for null padding (state keeps them even when empty)."""
    if side is None:
        raise RuntimeError(
            f"the {name} side of an outer stream-stream join has sent no batch with columns, "
            "so its unmatched counterpart rows cannot be padded"
        )
    return side


def _append(state: MicroBatch | None, new: MicroBatch | None) -> MicroBatch | None:
    """State plus new rows; an empty state keeps its columns (outer joins pad with them)."""
    if new is None or (state is not None and new.num_rows == 0):
        return state
    return new if state is None else MicroBatch.concat([state, new])


def _evict(
    state: MicroBatch | None, size: int, watermark: int, keep_gone: bool
) -> tuple[MicroBatch | None, MicroBatch | None]:
    """(rows of windows still open, rows of windows that end at or before the watermark,
    if `keep_gone`)."""
    if state is None or watermark == NO_WATERMARK:
        return state, None
    open_ = np.asarray(state[WINDOW_START]) + size > watermark
    if open_.all():
        return state, None
    return state.filter(open_), state.filter(~open_) if keep_gone else None
