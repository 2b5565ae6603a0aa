"""What a load-generating worker process hands back to the runner, and the start-line helpers."""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any

READY_TIMEOUT_S = 30.0  # connecting and fetching metadata before the clock starts


@dataclass
class WorkerReport:
    """What one worker process measured; plain data so it crosses the process queue.

    Times are `time.monotonic()` readings, comparable across the processes of
    one machine on Linux (CLOCK_MONOTONIC is system-wide).
    """

    index: int
    records: int = 0
    bytes: int = 0
    errors: int = 0
    first_error: str = ""
    started: float = 0.0
    finished: float = 0.0
    cpu_s: float = 0.0
    latencies: array = field(default_factory=lambda: array("d"))
    extra: dict[str, Any] = field(default_factory=dict)
    failure: str = ""  # set when the worker could not run at all


def abort_barrier(barrier: Any) -> None:
    """Release the other workers waiting at the start line when this one cannot start."""
    try:
        barrier.abort()
    except Exception:
        pass
