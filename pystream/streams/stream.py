"""`Stream`: the user-facing, lazily built query (a Structured Streaming DataFrame).

Every method returns a new `Stream` over a new plan node; nothing runs until
`write_stream...start()`::

    bids = Stream.from_source(source)
    counts = (bids.with_watermark("ts", "5 seconds")
                  .group_by(F.window("ts", "10 seconds"), "auction")
                  .agg(F.count().alias("bids")))
    counts.write_stream.output_mode("append").sink(MemorySink()).start()
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pystream.streams.aggregates import AggregateFunction, Count
from pystream.streams.batch import MicroBatch
from pystream.streams.expressions import Expr, as_expr
from pystream.streams.formats import ValueFormat
from pystream.streams.operators import stateless
from pystream.streams.operators.aggregate import Aggregate
from pystream.streams.operators.dedup import Deduplicate
from pystream.streams.plan import Node, SourceNode, WatermarkNode
from pystream.streams.query import DataStreamWriter
from pystream.streams.sources.base import Source
from pystream.streams.windows import (
    HoppingWindow,
    SessionWindow,
    TumblingWindow,
    WindowSpec,
    duration_ms,
)

if TYPE_CHECKING:
    from pystream.streams.sinks.base import Sink


class Stream:
    def __init__(self, node: Node) -> None:
        self.node = node

    @classmethod
    def from_source(cls, source: Source) -> Stream:
        return cls(SourceNode(source))

    # ---- stateless ----------------------------------------------------------------------
    def select(self, *exprs: Expr | str) -> Stream:
        return Stream(
            stateless.Project(self.node, [as_expr(e) for e in exprs], keep_existing=False)
        )

    def with_column(self, name: str, expr: Expr | Any) -> Stream:
        return Stream(
            stateless.Project(self.node, [as_expr_value(expr).alias(name)], keep_existing=True)
        )

    def filter(self, condition: Expr) -> Stream:
        return Stream(stateless.Filter(self.node, condition))

    where = filter

    def map_batches(self, fn: Callable[[MicroBatch], MicroBatch]) -> Stream:
        """Apply a function to whole batches (numpy/numba inside; one call per batch)."""
        return Stream(stateless.MapBatches(self.node, fn))

    def map(
        self, fn: Callable[[dict[str, Any]], dict[str, Any]], schema: Mapping[str, str]
    ) -> Stream:
        """Per-record function, row dict in, row dict out (convenient, not fast)."""
        return Stream(stateless.MapRecords(self.node, fn, schema, flat=False))

    def flat_map(self, fn: Callable[[dict[str, Any]], Any], schema: Mapping[str, str]) -> Stream:
        """Per-record function returning any number of row dicts."""
        return Stream(stateless.MapRecords(self.node, fn, schema, flat=True))

    def decode(
        self, fmt: ValueFormat, column: str = "value", keep: list[str] | None = None
    ) -> Stream:
        """Replace a bytes column by the columns its format decodes to (keeping `keep`)."""
        return Stream(stateless.Decode(self.node, fmt, column, keep or []))

    def union(self, *others: Stream) -> Stream:
        return Stream(stateless.Union(self.node, *(o.node for o in others)))

    # ---- event time and state -----------------------------------------------------------
    def with_watermark(
        self, column: str, delay: int | str, late_sink: Sink | None = None
    ) -> Stream:
        """Event time is `column` (int64 ms); state waits `delay` for late rows.

        Rows older than the watermark are dropped by stateful operators, or written to
        `late_sink` (with the batch id) when one is given.
        """
        return Stream(WatermarkNode(self.node, column, duration_ms(delay), late_sink))

    def group_by(self, *keys: Expr | str | WindowSpec) -> GroupedStream:
        windows = [k for k in keys if isinstance(k, (TumblingWindow, HoppingWindow, SessionWindow))]
        if len(windows) > 1:
            raise ValueError("group_by takes at most one window")
        exprs = [
            as_expr(k)
            for k in keys
            if not isinstance(k, (TumblingWindow, HoppingWindow, SessionWindow))
        ]
        return GroupedStream(self, exprs, windows[0] if windows else None)

    def drop_duplicates(self, subset: list[str] | None = None) -> Stream:
        return Stream(Deduplicate(self.node, subset))

    def join(
        self, other: Any, on: str | list[str], how: str = "inner", window: WindowSpec | None = None
    ) -> Stream:
        """Stream-table join (`other` a MicroBatch; how: inner, left) or windowed stream-stream
        join (`other` a Stream; how: inner, left_outer, right_outer, full_outer, left_semi,
        left_anti). `how` takes Spark's spellings too ("left", "leftouter", "outer", ...).
        The outer sides' rows that never match in a window are emitted once, with nulls for
        the other side, once the watermark reaches the window's end."""
        from pystream.streams.operators.join import StreamStreamJoin, StreamTableJoin

        keys = [on] if isinstance(on, str) else list(on)
        if isinstance(other, Stream):
            if window is None:
                raise ValueError("a stream-stream join needs a window (its state is bounded by it)")
            return Stream(StreamStreamJoin(self.node, other.node, keys, window, how))
        if isinstance(other, MicroBatch):
            return Stream(StreamTableJoin(self.node, other, keys, how))
        raise TypeError(f"cannot join a stream with {type(other).__name__}")

    @property
    def write_stream(self) -> DataStreamWriter:
        return DataStreamWriter(self.node)


class GroupedStream:
    def __init__(self, stream: Stream, keys: list[Expr], window: WindowSpec | None) -> None:
        self.stream, self.keys, self.window = stream, keys, window

    def agg(self, *aggs: AggregateFunction) -> Stream:
        return Stream(Aggregate(self.stream.node, self.keys, self.window, list(aggs)))

    def count(self) -> Stream:
        return self.agg(Count(None, "count"))


def as_expr_value(value: Any) -> Expr:
    """Like `as_expr`, but a plain string is a literal here (with_column's value)."""
    from pystream.streams.expressions import Lit

    return value if isinstance(value, Expr) else Lit(value)
