"""The machine's physical limits, measured in the same run as the brokers they bound.

- Sequential disk write: 1 MiB blocks to a new file, one fsync at the end,
  timed including the fsync (what a broker that flushes its segment pays).
- Sequential disk read, twice: "cold" after `posix_fadvise(DONTNEED)` asks the
  kernel to evict the file's clean pages (the unprivileged stand-in for
  dropping the page cache; on a VM the host may still cache), and "cached"
  straight from the page cache, which is where a broker's recent reads come
  from.
- Loopback TCP: one sender and one receiver thread over 127.0.0.1 with 4 MiB
  socket buffers (both sides block in syscalls, which release the GIL).

MB is 2**20 bytes, as in the rest of the harness.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from pystream.bench.stats import MB

BLOCK = 1024 * 1024
SOCKET_BUFFER = 4 * 1024 * 1024


@dataclass(frozen=True)
class DiskLimits:
    directory: str
    size_mib: int
    write_fsync_mb_s: float
    read_cold_mb_s: float
    read_cached_mb_s: float
    cold_read_method: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def measure_disk(directory: Path, size_mib: int = 512) -> DiskLimits:
    """Write then read back `size_mib` MiB in `directory` (removed afterwards)."""
    if size_mib < 1:
        raise ValueError("size_mib must be at least 1")
    directory.mkdir(parents=True, exist_ok=True)
    block = os.urandom(BLOCK)
    fd, name = tempfile.mkstemp(prefix="pystream-disk-", dir=directory)
    path = Path(name)
    try:
        start = time.perf_counter()
        with os.fdopen(fd, "wb", buffering=0) as out:
            for _ in range(size_mib):
                out.write(block)
            os.fsync(out.fileno())
        write_s = time.perf_counter() - start
        method = _evict(path)
        cold_s = _read_all(path)
        cached_s = _read_all(path)
    finally:
        path.unlink(missing_ok=True)
    total = size_mib * BLOCK
    return DiskLimits(
        directory=str(directory),
        size_mib=size_mib,
        write_fsync_mb_s=total / MB / write_s,
        read_cold_mb_s=total / MB / cold_s,
        read_cached_mb_s=total / MB / cached_s,
        cold_read_method=method,
    )


def measure_loopback_tcp(size_mib: int = 2048) -> float:
    """MB/s through one loopback TCP connection."""
    if size_mib < 1:
        raise ValueError("size_mib must be at least 1")
    total = size_mib * BLOCK
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
        port = server.getsockname()[1]
        received: list[int] = []
        receiver = threading.Thread(target=_receive, args=(server, total, received), daemon=True)
        receiver.start()
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER)
            block = memoryview(os.urandom(BLOCK))
            start = time.perf_counter()
            for _ in range(size_mib):
                client.sendall(block)
            client.shutdown(socket.SHUT_WR)
            receiver.join()
            elapsed = time.perf_counter() - start
    if not received or received[0] != total:
        raise RuntimeError(f"loopback test received {received[:1]} of {total} bytes")
    return total / MB / elapsed


def _receive(server: socket.socket, total: int, received: list[int]) -> None:
    conn, _ = server.accept()
    with conn:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)
        buf = bytearray(BLOCK)
        view = memoryview(buf)
        got = 0
        while got < total:
            n = conn.recv_into(view)
            if n == 0:
                break
            got += n
        received.append(got)


def _evict(path: Path) -> str:
    """Ask the kernel to drop the file's (clean, fsynced) pages; say how the cold read was done."""
    if not hasattr(os, "posix_fadvise"):
        return "page cache (no posix_fadvise here: the cold read is cached)"
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    return "posix_fadvise(DONTNEED) after fsync (best effort; a VM host may still cache)"


def _read_all(path: Path) -> float:
    buf = bytearray(BLOCK)
    start = time.perf_counter()
    with path.open("rb", buffering=0) as src:
        while src.readinto(buf):
            pass
    return time.perf_counter() - start
