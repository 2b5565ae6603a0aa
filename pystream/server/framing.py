"""Receiving request frames with as few copies as the kernel allows.

`FrameReceiver` is the sans-IO half of an `asyncio.BufferedProtocol`: the
event loop asks it for a buffer (`get_buffer`) and tells it how many bytes
arrived (`buffer_updated`). Small requests land in a reusable scratch
buffer and are copied out whole. A large request gets a `bytearray` of its
own, and the socket reads straight into it; the frame is then handed over
as a writable `memoryview`, so the produce path can validate and stamp
record batches in place and append them to the log without another copy.
The last few large buffers are kept and one is reused for the next large
request once nothing references it any more (no memoryview of it is alive),
which saves zeroing and faulting in a fresh megabyte per produce request. A
pipelining client (librdkafka keeps several produce requests in flight) has
the next request arriving while the previous one is still being appended,
so one spare is not enough: `MAX_SPARE_BUFFERS` of them are. Sizes are
rounded up to `SCRATCH_SIZE`, since consecutive produce requests differ by
a few bytes.

Sizes are checked before any allocation: negative or above the limit is a
`ProtocolError` and the connection must be closed.
"""

from __future__ import annotations

import struct
import sys

from pystream.protocol.errors import FrameTooLargeError, InvalidRequestError

_SIZE = struct.Struct(">i")
SCRATCH_SIZE = 64 * 1024
# Large buffers kept per connection for reuse: the request being appended and
# the one after it. (More would only help while appends run off the loop and
# requests queue up; each costs a megabyte per producer connection.)
MAX_SPARE_BUFFERS = 2


def large_buffer_size(frame_size: int) -> int:
    """The capacity allocated for a large frame: rounded up, since consecutive produce
    requests differ by a few bytes (record varints grow) and a buffer of the exact
    size would be reused only for frames no bigger."""
    return -(-frame_size // SCRATCH_SIZE) * SCRATCH_SIZE


class FrameReceiver:
    __slots__ = (
        "_big",
        "_big_filled",
        "_big_size",
        "_end",
        "_scratch",
        "_spares",
        "_start",
        "frames",
        "max_frame_size",
    )

    def __init__(self, max_frame_size: int) -> None:
        self.max_frame_size = max_frame_size
        self._scratch = bytearray(SCRATCH_SIZE)
        self._start = 0  # first unparsed byte in scratch
        self._end = 0  # one past the last received byte in scratch
        self._big: bytearray | None = None
        self._big_filled = 0
        self._big_size = 0
        self._spares: list[bytearray] = []  # the last large buffers, reused when unreferenced
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
                self._keep_spare(self._big)
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
        spares = self._spares
        for i in range(len(spares)):  # not enumerate: its result tuple holds a reference
            spare = spares[i]
            # References: the list, `spare` and getrefcount's argument. Any
            # more is a live memoryview (or a holder of one) still reading the
            # request that buffer carried.
            if size <= len(spare) <= 2 * size and sys.getrefcount(spare) == 3:
                del spares[i]
                return spare
        return bytearray(large_buffer_size(size))

    def _keep_spare(self, buffer: bytearray) -> None:
        spares = self._spares
        if len(spares) == MAX_SPARE_BUFFERS:
            del spares[0]  # the oldest
        spares.append(buffer)

    def _compact(self) -> None:
        pending = self._end - self._start
        self._scratch[:pending] = self._scratch[self._start : self._end]
        self._start, self._end = 0, pending
