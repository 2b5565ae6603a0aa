"""Event-time window specifications and duration parsing.

Windows are over an int64 millisecond event-time column and are half-open [start, end).
Aggregations over a window emit `window_start` and `window_end` columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_UNITS_MS = {
    "ms": 1,
    "millisecond": 1,
    "milliseconds": 1,
    "s": 1000,
    "sec": 1000,
    "second": 1000,
    "seconds": 1000,
    "m": 60_000,
    "min": 60_000,
    "minute": 60_000,
    "minutes": 60_000,
    "h": 3_600_000,
    "hour": 3_600_000,
    "hours": 3_600_000,
    "d": 86_400_000,
    "day": 86_400_000,
    "days": 86_400_000,
}
_DURATION = re.compile(r"^\s*(\d+)\s*([a-z]+)\s*$")


def duration_ms(value: int | str) -> int:
    """Milliseconds from an int (already ms) or text such as "10 seconds", "2s", "500 ms"."""
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"duration must not be negative: {value}")
        return value
    match = _DURATION.match(value.lower())
    if not match or match.group(2) not in _UNITS_MS:
        raise ValueError(f"cannot read duration {value!r} (try '10 seconds' or '500 ms')")
    return int(match.group(1)) * _UNITS_MS[match.group(2)]


@dataclass(frozen=True)
class TumblingWindow:
    column: str
    size: int
    offset: int = 0


@dataclass(frozen=True)
class HoppingWindow:
    column: str
    size: int
    slide: int
    offset: int = 0


@dataclass(frozen=True)
class SessionWindow:
    column: str
    gap: int


WindowSpec = TumblingWindow | HoppingWindow | SessionWindow


def window(
    column: str, size: int | str, slide: int | str | None = None, offset: int | str = 0
) -> TumblingWindow | HoppingWindow:
    """Tumbling window of `size`, or hopping (sliding) when `slide` differs from `size`."""
    size_ms, off = duration_ms(size), duration_ms(offset)
    if size_ms <= 0:
        raise ValueError("window size must be positive")
    if slide is None or duration_ms(slide) == size_ms:
        return TumblingWindow(column, size_ms, off)
    slide_ms = duration_ms(slide)
    if slide_ms <= 0 or slide_ms > size_ms:
        raise ValueError("slide must be positive and at most the window size")
    return HoppingWindow(column, size_ms, slide_ms, off)


def session_window(column: str, gap: int | str) -> SessionWindow:
    gap_ms = duration_ms(gap)
    if gap_ms <= 0:
        raise ValueError("session gap must be positive")
    return SessionWindow(column, gap_ms)
