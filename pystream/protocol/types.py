"""Value types the codec hands out: file slices for zero-copy record data, raw
tagged fields, and Kafka's UUID conventions."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import NamedTuple


@dataclass(frozen=True, slots=True)
class FileSlice:
    """`length` bytes of an open file starting at `position`.

    A `records` field may hold one when encoding; the Writer then emits it as its
    own chunk so the broker can `sendfile` it instead of copying it through Python.
    The codec never reads the file.
    """

    fd: int
    position: int
    length: int

    def __post_init__(self) -> None:
        if self.fd < 0 or self.position < 0 or self.length < 0:
            raise ValueError(f"invalid FileSlice {self.fd}, {self.position}, {self.length}")

    def __len__(self) -> int:
        return self.length


class RawTaggedField(NamedTuple):
    """A tagged field this codec does not know, kept as its tag and raw bytes so
    it survives a decode/encode round trip."""

    tag: int
    data: bytes


ZERO_UUID = uuid.UUID(int=0)
"""Kafka's `Uuid.ZERO_UUID`: the default of every uuid field."""


def uuid_to_kafka_str(value: uuid.UUID) -> str:
    """The base64url (unpadded) text form Kafka tools print for topic and cluster ids."""
    return base64.urlsafe_b64encode(value.bytes).rstrip(b"=").decode("ascii")


def uuid_from_kafka_str(text: str) -> uuid.UUID:
    """Parse Kafka's 22-character base64url form of a UUID."""
    if len(text) != 22:
        raise ValueError(f"not a Kafka UUID string: {text!r}")
    return uuid.UUID(bytes=base64.urlsafe_b64decode(text + "=="))
