"""Receiving request frames with as few copies as the kernel allows.

`FrameReceiver` is the sans-IO half of an `asyncio.BufferedProtocol`: the
event loop asks it for a buffer (`get_buffer`) and tells it how many bytes
arrived (`buffer_updated`). Small requests land in a reusable scratch
buffer and are copied out whole. A large request gets a `bytearray` of its
own, and the socket reads straight into it; the frame is then handed over
as a writable `memoryview`, so the produce path can validate and stamp
record batches in place and append them to the log without another copy.
When a connection has answered a request it hands the frame back
(`recycle`) and its buffer goes to a `BufferPool` shared by the broker's
connections; the next large request, on any connection, reuses a pooled
buffer once nothing references it any more (no memoryview of it is alive).
That saves zeroing and faulting in a fresh megabyte per produce request, and
a new producer connection starts with the buffers of earlier ones. Buffers
are recycled when their request is done, not when it arrives: a pipelining
client (librdkafka keeps many produce requests in flight) has several
requests queued while one is appended, and a queued request's buffer is
never free. Sizes are rounded up to `SCRATCH_SIZE`, since consecutive produce
requests differ by a few bytes.

Sizes are checked before any allocation: negative or above the limit is a
`ProtocolError` and the connection must be closed.
"""

from __future__ import annotations

import builtins
import struct
import sys
import time
from collections.abc import Callable

from pystream.protocol.errors import FrameTooLargeError, InvalidRequestError

_SIZE = struct.Struct(">i")
SCRATCH_SIZE = 64 * 1024
# Free large buffers a pool keeps, in bytes (a few dozen 1 MiB produce
# requests: enough for several pipelining producers).
POOL_BYTES = 64 * 1024 * 1024
# A pool nobody has taken from for this long gives its memory back.
POOL_IDLE_S = 60.0


def large_buffer_size(frame_size: int) -> int:
    """The capacity allocated for a large frame: rounded up, since consecutive produce
    requests differ by a few bytes (record varints grow) and a buffer of the exact
    size would be reused only for frames no bigger."""
    return -(-frame_size // SCRATCH_SIZE) * SCRATCH_SIZE


class BufferPool:
    """Large request buffers of answered requests, for reuse by later ones.

    Shared by the connections of one event loop and used from that loop's
    thread only. Holds at most `max_bytes`; the longest unused go first, and
    all of them once no large request has come for `POOL_IDLE_S` (`trim`).
    """

    __slots__ = ("_bytes", "_clock", "_free", "_last_take", "max_bytes")

    def __init__(
        self, max_bytes: int = POOL_BYTES, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_bytes = max_bytes
        self._free: list[bytearray] = []
        self._bytes = 0
        self._clock = clock
        self._last_take = clock()

    @property
    def nbytes(self) -> int:
        return self._bytes

    def trim(self, idle_s: float = POOL_IDLE_S) -> None:
        """Drops every buffer if none was asked for in the last `idle_s` seconds."""
        if self._free and self._clock() - self._last_take >= idle_s:
            self._free.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._free)

    def take(self, size: int) -> bytearray | None:
        """A free buffer that holds `size` bytes without wasting more than half of
        itself, or None."""
        self._last_take = self._clock()
        free = self._free
        for i in range(len(free) - 1, -1, -1):  # the most recently freed first
            buffer = free[i]
            # References: the list, `buffer` and getrefcount's argument. Any
            # more is a live memoryview (or a holder of one) still reading the
            # request the buffer carried.
            if size <= len(buffer) <= 2 * size and sys.getrefcount(buffer) == 3:
                del free[i]
                self._bytes -= len(buffer)
                return buffer
        return None

    def give(self, buffer: bytearray) -> None:
        free = self._free
        if len(buffer) > self.max_bytes or any(b is buffer for b in free):
            return
        free.append(buffer)
        self._bytes += len(buffer)
        while self._bytes > self.max_bytes:
            self._bytes -= len(free.pop(0))


class FrameReceiver:
    __slots__ = (
        "_big",
        "_big_filled",
        "_big_size",
        "_end",
        "_pool",
        "_scratch",
        "_start",
        "frames",
        "max_frame_size",
    )

    def __init__(self, max_frame_size: int, pool: BufferPool | None = None) -> None:
        self.max_frame_size = max_frame_size
        self._pool = pool if pool is not None else BufferPool()
        self._scratch = bytearray(SCRATCH_SIZE)
        self._start = 0  # first unparsed byte in scratch
        self._end = 0  # one past the last received byte in scratch
        self._big: bytearray | None = None
        self._big_filled = 0
        self._big_size = 0
        self.frames: list[memoryview | bytes] = []

    def get_buffer(self) -> memoryview:
        if self._big is not None:
            return memoryview(self._big)[self._big_filled : self._big_size]
        if self._end == len(self._scratch):
            self._compact()
        return memoryview(self._scratch)[self._end :]

    def buffer_updated(self, nbytes: int) -> list[memoryview | bytes]:
        """Accounts for `nbytes` received; returns the frames now complete."""
        frames: list[memoryview | bytes] = []
        if self._big is not None:
            self._big_filled += nbytes
            if self._big_filled == self._big_size:
                frames.append(memoryview(self._big)[: self._big_size])
                self._big = None
            return frames
        self._end += nbytes
        scratch = self._scratch
        while self._end - self._start >= 4:
            size = _SIZE.unpack_from(scratch, self._start)[0]
            if size < 0:
                raise InvalidRequestError(f"negative frame size {size}")
            if size > self.max_frame_size:
                raise FrameTooLargeError(
                    f"frame of {size} bytes exceeds socket.request.max.bytes ({self.max_frame_size})"
                )
            body = self._start + 4
            have = self._end - body
            if have >= size:
                frames.append(bytes(scratch[body : body + size]))
                self._start = body + size
                continue
            if size > len(scratch) - body:
                # Too big for the scratch space left: give it its own buffer
                # and let the socket fill the rest directly.
                big = self._large_buffer(size)
                big[:have] = scratch[body : self._end]
                self._big, self._big_filled, self._big_size = big, have, size
                self._start = self._end = 0
            break
        if self._start == self._end:
            self._start = self._end = 0
        return frames

    def _large_buffer(self, size: int) -> bytearray:
        buffer = self._pool.take(size)
        return buffer if buffer is not None else bytearray(large_buffer_size(size))

    def recycle(self, frame: memoryview | bytes) -> None:
        """Takes back a frame whose request has been answered: its large buffer (if it
        had one) may carry a later request once no view of it is left."""
        if isinstance(frame, memoryview):
            buffer = frame.obj  # large frames are the only views handed out
            # builtins': tests count allocations by shadowing this module's `bytearray`
            if isinstance(buffer, builtins.bytearray) and buffer is not self._scratch:
                self._pool.give(buffer)

    def _compact(self) -> None:
        pending = self._end - self._start
        self._scratch[:pending] = self._scratch[self._start : self._end]
        self._start, self._end = 0, pending
