"""Helpers for hand-crafting RecordBatch v2 bytes (bad ones included)."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pytest

from pystream import _native

HEADER = struct.Struct(">qiibIhiqqqhii")  # the 61-byte v2 batch header
CRC_POS = 17
CRC_FROM = 21


def zigzag_varint(v: int) -> bytes:
    """Kafka varint/varlong encoding of a (possibly negative) integer."""
    u = (v << 1) ^ (v >> 63)
    out = bytearray()
    while u >= 0x80:
        out.append((u & 0x7F) | 0x80)
        u >>= 7
    out.append(u)
    return bytes(out)


def encode_record(
    key: bytes | None,
    value: bytes | None,
    *,
    offset_delta: int = 0,
    timestamp_delta: int = 0,
    headers: list[tuple[bytes, bytes | None]] | None = None,
) -> bytes:
    def nullable(b: bytes | None) -> bytes:
        return zigzag_varint(-1) if b is None else zigzag_varint(len(b)) + b

    hs = headers or []
    body = (
        b"\x00"
        + zigzag_varint(timestamp_delta)
        + zigzag_varint(offset_delta)
        + nullable(key)
        + nullable(value)
        + zigzag_varint(len(hs))
        + b"".join(nullable(k) + nullable(v) for k, v in hs)
    )
    return zigzag_varint(len(body)) + body


def raw_batch(
    section: bytes,
    count: int,
    *,
    attributes: int = 0,
    last_offset_delta: int | None = None,
    base_offset: int = 0,
    base_timestamp: int = 0,
    max_timestamp: int = 0,
    producer_id: int = -1,
    producer_epoch: int = -1,
    base_sequence: int = -1,
) -> bytes:
    """A batch around an arbitrary records section, with a correct CRC."""
    lod = count - 1 if last_offset_delta is None else last_offset_delta
    header = HEADER.pack(
        base_offset,
        HEADER.size - 12 + len(section),
        -1,
        2,
        0,
        attributes,
        lod,
        base_timestamp,
        max_timestamp,
        producer_id,
        producer_epoch,
        base_sequence,
        count,
    )
    b = bytearray(header + section)
    fix_crc(b)
    return bytes(b)


def fix_crc(b: bytearray) -> None:
    struct.pack_into(">I", b, CRC_POS, _native.crc32c(bytes(b[CRC_FROM:])))


@pytest.fixture
def craft() -> Callable[..., bytes]:
    return raw_batch


@pytest.fixture
def record_bytes() -> Callable[..., bytes]:
    return encode_record


@pytest.fixture
def varint() -> Callable[[int], bytes]:
    return zigzag_varint


@pytest.fixture
def recrc() -> Callable[[bytearray], None]:
    return fix_crc
