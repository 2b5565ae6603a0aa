"""Record bytes to a consumer from a worker thread, while the consumer keeps pace.

`loop.sendfile` makes every sendfile(2) call in the event loop's thread, and a
call returns only when the socket's send buffer is full. With a reader that
drains the socket as fast as the kernel fills it, one call moves megabytes,
and meanwhile every other connection waits for the loop: two librdkafka
consumers of one broker read one after the other, not side by side.

`pump` runs in a small pool of worker threads (sendfile(2) and poll(2) release
the GIL) on a duplicate of the socket's descriptor, so fetch responses to
different connections are sent in parallel. It gives up as soon as the socket
stays full for `STALL_S` (a reader that is not keeping pace) and reports how
much it sent; the connection sends the rest with `loop.sendfile`, which waits
for a slow reader on the event loop without holding a thread. So a thread is
only ever busy while bytes move.
"""

from __future__ import annotations

import os
import select
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pystream.protocol.types import FileSlice

# Threads that may send record bytes at once (fetches to different connections).
SENDFILE_THREADS = 4
# A socket that stays full this long goes back to the event loop.
STALL_S = 0.005

_pool: ThreadPoolExecutor | None = None


def sendfile_pool() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(SENDFILE_THREADS, thread_name_prefix="pystream-sendfile")
    return _pool


def pump(sock_fd: int, file_fd: int, offset: int, count: int, stall_s: float = STALL_S) -> int:
    """sendfile(2) from `file_fd` at `offset` to a non-blocking socket until `count` bytes
    are sent, the file ends, or the socket stays unwritable for `stall_s`; returns the
    bytes sent. Connection errors (the reader went away) are raised."""
    poller = select.poll()
    poller.register(sock_fd, select.POLLOUT)
    timeout_ms = max(1, round(stall_s * 1000))
    sent = 0
    while sent < count:
        try:
            n = os.sendfile(sock_fd, file_fd, offset + sent, count - sent)
        except (BlockingIOError, InterruptedError):
            if not poller.poll(timeout_ms):
                break
            continue
        if n == 0:  # the file is shorter than the slice (truncated meanwhile)
            break
        sent += n
    return sent


def pump_owned(sock_fd: int, chunk: FileSlice, stall_s: float = STALL_S) -> int:
    """`pump` of a `FileSlice` on a descriptor this call owns and closes.

    `sock_fd` is a duplicate made for this call, so the connection may close its
    own descriptor meanwhile without the number being reused under us; holding
    `chunk` keeps the segment file open until the thread is done with it.
    """
    try:
        return pump(sock_fd, chunk.fd, chunk.position, chunk.length, stall_s)
    finally:
        os.close(sock_fd)
