"""Which stateful operators may follow another one in a query, and how they see event time.

A stateful operator downstream of another gets rows the upstream one emitted, not raw events,
so the raw event-time rules do not fit it: an upstream aggregation emits a window's groups in
the batch whose watermark passed the window's end, so every row it emits is "late" for a
plain watermark check, and a windowed join emits a pair as soon as both rows are there, so
the pair's event times can be below the watermark while its window is still open.

The rule kept here is Spark's multiple-stateful-operator rule reduced to what can be done
exactly: after an event-time windowed operator (a windowed or session aggregation, or a
windowed stream-stream join), the next stateful operator must be an aggregation grouped by
the upstream `window_start` and `window_end` columns (plus any other keys), in append mode.
Such a *window-derived* aggregation drops nothing as late (the upstream operator already
applied the late-data policy to the events) and closes a window when the watermark reaches
its end, which is exactly when the upstream operator has emitted all of it: an aggregation
emits every group of a window in the batch its end passes the watermark, and a windowed join
cannot emit a pair for a window whose end is at or below the batch's watermark (both rows
would be late), while an outer or anti join emits its unmatched rows in the batch whose
watermark passes the window's end, as an aggregation does. So each window is emitted once
and complete. `drop_duplicates` emits raw
rows with their own event time, so anything may follow it.
"""

from __future__ import annotations

from pystream.streams.plan import Node, OutputMode

WINDOW_START, WINDOW_END = "window_start", "window_end"


def upstream_stateful(node: Node) -> list[Node]:
    """Stateful operators feeding `node` (directly or through stateless ones), nearest first."""
    found: list[Node] = []
    seen: set[int] = set()
    frontier = list(node.inputs)
    while frontier:
        nxt: list[Node] = []
        for n in frontier:
            if id(n) in seen:
                continue
            seen.add(id(n))
            if n.stateful:
                found.append(n)
            nxt.extend(n.inputs)
        frontier = nxt
    return found


def emits_windows(node: Node) -> bool:
    """True for operators whose output rows are event-time windows (window_start/_end)."""
    from pystream.streams.operators.aggregate import Aggregate
    from pystream.streams.operators.join import StreamStreamJoin

    if isinstance(node, StreamStreamJoin):
        return True
    return isinstance(node, Aggregate) and (node.window is not None or node.derived_window)


def windowed_upstream(node: Node) -> bool:
    return any(emits_windows(n) for n in upstream_stateful(node))


def check_chain(node: Node, mode: str, derived_window: bool = False) -> None:
    """Refuse stateful operators after a windowed one unless they are window-derived."""
    from pystream.streams.operators.dedup import Deduplicate

    upstream = [n for n in upstream_stateful(node) if not isinstance(n, Deduplicate)]
    if not upstream:
        return
    if not derived_window:
        raise ValueError(
            f"{type(node).__name__} cannot follow an aggregation or a stream-stream join; "
            "a second aggregation can, grouped by 'window_start' and 'window_end' of a windowed "
            "one, in append mode"
        )
    if mode != OutputMode.APPEND:
        raise ValueError(
            "chained stateful operators run in append mode only (each upstream window is "
            "emitted once, when it closes)"
        )
