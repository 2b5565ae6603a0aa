"""Where a produce append is written: on the event loop, or on a worker thread.

A worker-thread hop per request is not free: the queue wake-up, a thread
switch, the GIL handed back and the loop woken through its self-pipe cost
the broker about a quarter of its CPU per GB with 1 MiB produce requests,
at a time when the page cache takes a 1 MiB `pwrite` in a fraction of a
millisecond. But once the kernel throttles writers to the disk's writeback
rate (dirty pages above the limit), a `pwrite` can block for tens of
milliseconds, and on the loop that would stall every connection.

So large appends are written on the loop while writes are fast, and on a
worker thread (without the GIL) for `calm_s` after any write, on or off the
loop, took `slow_s` or more. Only the scheduling changes: the bytes, the
offsets and the order of appends to a partition are the same either way.

One instance serves the whole broker (writeback throttling is per device,
not per partition). Used from the event loop thread only; not thread-safe.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Appends smaller than this are always written on the loop: the hop would
# cost more than the write.
OFFLOOP_APPEND_BYTES = 64 * 1024
# A write taking this long would have stalled the loop noticeably.
SLOW_WRITE_S = 0.02
# How long large appends stay off the loop after a slow write.
CALM_S = 2.0


class WritePlacement:
    __slots__ = ("_clock", "_offloop_until", "calm_s", "slow_s")

    def __init__(
        self,
        slow_s: float = SLOW_WRITE_S,
        calm_s: float = CALM_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.slow_s = slow_s
        self.calm_s = calm_s
        self._clock = clock
        self._offloop_until = float("-inf")

    def on_loop(self, nbytes: int) -> bool:
        """Whether an append of `nbytes` should be written on the calling (loop) thread."""
        return nbytes < OFFLOOP_APPEND_BYTES or self._clock() >= self._offloop_until

    def record(self, seconds: float) -> None:
        """Reports how long a large append's write took, wherever it ran."""
        if seconds >= self.slow_s:
            self._offloop_until = self._clock() + self.calm_s


WRITE_PLACEMENT = WritePlacement()
"""The broker's placement (module state: every partition of the process shares it)."""
