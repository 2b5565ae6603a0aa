"""One client connection: framing, flow control and in-order request handling.

`KafkaConnection` is a thin `asyncio.BufferedProtocol`: the socket reads
into buffers the sans-IO `FrameReceiver` hands out (large requests straight
into a buffer of their own size), whole frames are queued, and owns flow control in
both directions: reading pauses while too many requests wait, and response
writing waits while the transport's buffer is above its high-water mark.
A single task per connection answers the queued requests strictly in order,
as Kafka clients require.

Records in fetch responses arrive as `FileSlice`s; on a plaintext socket
with the standard event loop they are sent with `sendfile` (zero copy), from
a worker thread while the reader keeps pace and from the loop once it stalls
(`server/sendfile.py`); otherwise they are read with `pread` and written.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pystream.protocol.errors import ProtocolError
from pystream.protocol.types import FileSlice
from pystream.server.framing import BufferPool, FrameReceiver
from pystream.server.sendfile import pump_owned, sendfile_pool

if TYPE_CHECKING:
    from pystream.server.dispatcher import Dispatcher

log = logging.getLogger(__name__)

# At most this many decoded-but-unanswered requests before reading pauses.
MAX_QUEUED_FRAMES = 64


@dataclass(frozen=True)
class SocketBuffers:
    """`socket.send.buffer.bytes` and `socket.receive.buffer.bytes` (-1: OS default)."""

    send: int = -1
    receive: int = -1

    def apply(self, sock: socket.socket, send: bool = True) -> None:
        try:
            if send and self.send > 0:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.send)
            if self.receive > 0:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive)
        except OSError as e:
            log.warning("could not set socket buffer sizes: %s", e)


class _FdFile:
    """The minimal file object `loop.sendfile` needs, over a borrowed fd.

    `seek` is a no-op on purpose: the log's fd is shared, and sendfile is
    always given an explicit offset.
    """

    __slots__ = ("_fd",)

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd

    def seek(self, *_: Any) -> int:
        return 0


class KafkaConnection(asyncio.BufferedProtocol):
    def __init__(
        self,
        dispatcher: Dispatcher,
        max_frame_size: int,
        zero_copy: bool,
        buffers: SocketBuffers | None = None,
        pool: BufferPool | None = None,
    ) -> None:
        self._dispatcher = dispatcher
        self._buffers = buffers or SocketBuffers()
        self._receiver = FrameReceiver(max_frame_size, pool)
        self._frames: collections.deque[memoryview | bytes] = collections.deque()
        self._wakeup: asyncio.Future[None] | None = None
        self._drain: asyncio.Future[None] | None = None
        self._transport: asyncio.Transport | None = None
        self._task: asyncio.Task[None] | None = None
        self._reading_paused = False
        self._closing = False
        self._zero_copy = zero_copy
        self.peer = "?"
        self.last_active = time.monotonic()

    # ---- asyncio.Protocol ----
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing it.
        self._transport = transport  # type: ignore[assignment]
        peer = transport.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if peer else "?"
        if not self._dispatcher.register(self):
            log.warning("refusing connection from %s: max.connections reached", self.peer)
            self._closing = True
            transport.close()
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            self._buffers.apply(sock)
        self._task = asyncio.get_running_loop().create_task(self._serve())

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._receiver.get_buffer()

    def buffer_updated(self, nbytes: int) -> None:
        self.last_active = time.monotonic()
        try:
            frames = self._receiver.buffer_updated(nbytes)
        except ProtocolError as e:
            log.warning("closing connection from %s: %s", self.peer, e)
            self.close()
            return
        if not frames:
            return
        self._frames.extend(frames)
        if len(self._frames) >= MAX_QUEUED_FRAMES and not self._reading_paused:
            assert self._transport is not None
            self._transport.pause_reading()
            self._reading_paused = True
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def eof_received(self) -> bool:
        # Answer what was already received, then close (return False).
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._dispatcher.unregister(self)
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
        if self._task is not None:
            self._task.cancel()

    def pause_writing(self) -> None:
        if self._drain is None or self._drain.done():
            self._drain = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    # ---- request loop ----
    def close(self) -> None:
        self._closing = True
        if self._transport is not None:
            self._transport.close()

    @property
    def idle(self) -> bool:
        return not self._frames and (self._task is None or self._wakeup is not None)

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while not self._closing:
                if not self._frames:
                    self._wakeup = loop.create_future()
                    await self._wakeup
                    self._wakeup = None
                    continue
                frame = self._frames.popleft()
                if self._reading_paused and len(self._frames) < MAX_QUEUED_FRAMES // 2:
                    assert self._transport is not None
                    self._reading_paused = False
                    self._transport.resume_reading()
                chunks = await self._dispatcher.handle(self, frame)
                self._receiver.recycle(frame)
                del frame  # the buffer is reusable once no view of it is left
                if chunks is None:
                    continue
                if chunks is False:
                    self.close()
                    return
                await self._write(chunks)
                self.last_active = time.monotonic()
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("connection %s failed; closing it", self.peer)
            self.close()

    async def _send_file(
        self, loop: asyncio.AbstractEventLoop, transport: asyncio.Transport, chunk: FileSlice
    ) -> None:
        """Zero copy: from a worker thread while the reader keeps pace, then from the loop.

        The thread writes to the socket directly, so it starts only once the
        transport has nothing queued (the response header normally went out at
        once); see `server/sendfile.py`.
        """
        sent = 0
        sock = transport.get_extra_info("socket")
        if sock is not None and transport.get_write_buffer_size() == 0:
            dup = os.dup(sock.fileno())
            try:
                future = loop.run_in_executor(sendfile_pool(), pump_owned, dup, chunk)
            except BaseException:
                os.close(dup)
                raise
            sent = await future
        if sent < chunk.length and not transport.is_closing():
            await loop.sendfile(
                transport,
                _FdFile(chunk.fd),  # type: ignore[arg-type]
                chunk.position + sent,
                chunk.length - sent,
            )

    async def _write(self, chunks: list[Any]) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        loop = asyncio.get_running_loop()
        if len(chunks) > 1 and not any(isinstance(c, FileSlice) for c in chunks):
            chunks = [b"".join(chunks)] if sum(map(len, chunks)) < 65536 else chunks
        for chunk in chunks:
            if isinstance(chunk, FileSlice):
                if chunk.length == 0:
                    continue
                if self._zero_copy:
                    await self._send_file(loop, transport, chunk)
                else:
                    data = os.pread(chunk.fd, chunk.length, chunk.position)
                    if len(data) < chunk.length:
                        # The segment shrank under us (truncation): keep the
                        # frame length honest; clients drop partial batches.
                        data += bytes(chunk.length - len(data))
                    transport.write(data)
            else:
                transport.write(chunk)
            if self._drain is not None and not self._drain.done():
                await self._drain
