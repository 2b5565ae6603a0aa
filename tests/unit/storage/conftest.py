"""Helpers for the storage tests: build valid v2 batches and decode the
on-disk files with `struct`, independently of the Rust code (the CRC32C is a
pure-Python table here on purpose)."""

from __future__ import annotations

import struct
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pystream.storage import LogConfig, PartitionLog

HEADER = struct.Struct(">qiibIhiqqqhii")  # the 61-byte v2 batch header


def _crc32c_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def varint(v: int) -> bytes:
    u = (v << 1) ^ (v >> 63)
    out = bytearray()
    while u >= 0x80:
        out.append((u & 0x7F) | 0x80)
        u >>= 7
    out.append(u)
    return bytes(out)


def build_batch(
    base_offset: int,
    timestamps: list[int],
    *,
    value_size: int = 10,
    epoch: int = 0,
    log_append_time: bool = False,
) -> bytes:
    """An uncompressed v2 batch with one record per timestamp."""
    records = bytearray()
    for i, ts in enumerate(timestamps):
        value = bytes([i % 251]) * value_size
        body = (
            b"\x00"
            + varint(ts - timestamps[0])
            + varint(i)
            + varint(-1)
            + varint(len(value))
            + value
            + varint(0)
        )
        records += varint(len(body)) + body
    attributes = 0x08 if log_append_time else 0
    header = HEADER.pack(
        base_offset,
        49 + len(records),
        epoch,
        2,
        0,
        attributes,
        len(timestamps) - 1,
        timestamps[0],
        max(timestamps),
        -1,
        -1,
        -1,
        len(timestamps),
    )
    batch = bytearray(header + records)
    struct.pack_into(">I", batch, 17, crc32c(bytes(batch[21:])))
    return bytes(batch)


def decode_log(path: Path) -> list[dict[str, int]]:
    """Every batch header of a .log file, checking length and CRC."""
    return decode_batches(path.read_bytes())


def decode_batches(data: bytes) -> list[dict[str, int]]:
    """Every batch header of a run of whole batches, checking length and CRC."""
    out, pos = [], 0
    while pos < len(data):
        f = HEADER.unpack_from(data, pos)
        size = f[1] + 12
        assert f[3] == 2, f"magic at {pos}"
        assert crc32c(data[pos + 21 : pos + size]) == f[4], f"crc at {pos}"
        out.append(
            {"position": pos, "base": f[0], "last": f[0] + f[6], "max_ts": f[8], "size": size}
        )
        pos += size
    assert pos == len(data)
    return out


def decode_index(path: Path) -> list[tuple[int, int]]:
    """(absolute offset, position) entries of a trimmed .index file."""
    base = int(path.name.split(".")[0])
    data = path.read_bytes()
    assert len(data) % 8 == 0
    return [
        (base + rel, pos) for rel, pos in struct.iter_unpack(">II", data) if (rel, pos) != (0, 0)
    ]


def decode_time_index(path: Path) -> list[tuple[int, int]]:
    """(timestamp, absolute offset) entries of a trimmed .timeindex file."""
    base = int(path.name.split(".")[0])
    data = path.read_bytes()
    assert len(data) % 12 == 0
    return [(ts, base + rel) for ts, rel in struct.iter_unpack(">qI", data) if ts != 0]


def append_batches(
    plog: PartitionLog, n: int, records: int = 3, value_size: int = 100, ts0: int = 1_000_000
) -> list[bytes]:
    """Appends `n` batches from the log end; record i has timestamp ts0 + offset."""
    out = []
    for _ in range(n):
        leo = plog.log_end_offset
        b = build_batch(leo, [ts0 + leo + i for i in range(records)], value_size=value_size)
        plog.append(b, leo + records - 1)
        out.append(b)
    return out


SMALL = {"segment.bytes": 2048, "index.interval.bytes": 200, "segment.index.bytes": 4096}


def open_log(path: Path, recovery_point: int = 0, **props: Any) -> tuple[PartitionLog, Any]:
    config = LogConfig.from_dict({**SMALL, **props})
    return PartitionLog.open(path, "t", 0, config, recovery_point=recovery_point)


@pytest.fixture
def kb() -> SimpleNamespace:
    """The helpers above, for tests (conftest modules are not importable)."""
    return SimpleNamespace(
        crc32c=crc32c,
        build_batch=build_batch,
        decode_log=decode_log,
        decode_batches=decode_batches,
        decode_index=decode_index,
        decode_time_index=decode_time_index,
        append_batches=append_batches,
        open_log=open_log,
        SMALL=SMALL,
    )
