"""`server/sendfile.py`: sending file slices to a socket from a worker thread."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

from pystream.protocol.types import FileSlice
from pystream.server.sendfile import pump, pump_owned

DATA = os.urandom(3 * 1024 * 1024 + 17)


@pytest.fixture()
def data_fd(tmp_path: Path):
    path = tmp_path / "segment"
    path.write_bytes(DATA)
    fd = os.open(path, os.O_RDONLY)
    yield fd
    os.close(fd)


def _pair(sndbuf: int = 65536) -> tuple[socket.socket, socket.socket]:
    listener = socket.create_server(("127.0.0.1", 0))
    with listener:
        sender = socket.create_connection(listener.getsockname())
        receiver, _ = listener.accept()
    sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    sender.setblocking(False)
    return sender, receiver


def _read_all(sock: socket.socket, n: int, out: bytearray, delay_s: float = 0.0) -> None:
    while len(out) < n:
        chunk = sock.recv(min(65536, n - len(out)))
        if not chunk:
            return
        out += chunk
        if delay_s:
            time.sleep(delay_s)


def test_a_reader_that_keeps_pace_gets_the_whole_slice(data_fd: int) -> None:
    sender, receiver = _pair()
    got = bytearray()
    reader = threading.Thread(target=_read_all, args=(receiver, len(DATA) - 100, got))
    reader.start()
    sent = pump(sender.fileno(), data_fd, 100, len(DATA) - 100, stall_s=2.0)
    reader.join(10)
    assert sent == len(DATA) - 100
    assert bytes(got) == DATA[100:]
    sender.close()
    receiver.close()


def test_a_reader_that_stalls_gets_a_prefix_and_the_count_says_how_long(data_fd: int) -> None:
    sender, receiver = _pair()
    sent = pump(sender.fileno(), data_fd, 0, len(DATA), stall_s=0.01)  # nobody reads
    assert 0 < sent < len(DATA)
    got = bytearray()
    sender.close()  # the reader sees exactly the prefix, then EOF
    _read_all(receiver, len(DATA), got)
    assert bytes(got) == DATA[:sent]
    receiver.close()


def test_a_slice_past_the_end_of_the_file_stops_at_the_end(data_fd: int) -> None:
    sender, receiver = _pair()
    got = bytearray()
    reader = threading.Thread(target=_read_all, args=(receiver, 4096, got))
    reader.start()
    sent = pump(sender.fileno(), data_fd, len(DATA) - 4096, 1 << 20, stall_s=2.0)
    reader.join(10)
    assert sent == 4096
    assert bytes(got) == DATA[-4096:]
    sender.close()
    receiver.close()


def test_a_reader_that_went_away_is_a_connection_error(data_fd: int) -> None:
    sender, receiver = _pair()
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    receiver.close()  # RST
    time.sleep(0.05)
    with pytest.raises(OSError):
        pump(sender.fileno(), data_fd, 0, len(DATA), stall_s=0.5)
    sender.close()


def test_pump_owned_closes_its_descriptor_and_keeps_the_slice(data_fd: int) -> None:
    sender, receiver = _pair()
    dup = os.dup(sender.fileno())
    got = bytearray()
    reader = threading.Thread(target=_read_all, args=(receiver, 8192, got))
    reader.start()
    assert pump_owned(dup, FileSlice(data_fd, 0, 8192), stall_s=2.0) == 8192
    reader.join(10)
    assert bytes(got) == DATA[:8192]
    with pytest.raises(OSError):
        os.fstat(dup)  # closed by pump_owned; the connection's own fd is untouched
    os.fstat(sender.fileno())
    sender.close()
    receiver.close()
