"""The record formats of `__consumer_offsets`, as Kafka writes them.

Every record's key and value start with an int16 version. The key version
says what the record is: 0 or 1 an offset commit (`OffsetCommitKey`), 2 a
group's metadata (`GroupMetadataKey`). Newer Kafka writes other key types
for KIP-848 groups; they are reported as unknown and skipped, never
misread. A null value is a tombstone: the key's offset or group is gone.

Versions written are the ones Kafka 2.3+ writes, so a Kafka broker could
read a copied `__consumer_offsets` and Kafka's tools can decode ours:
key 1 / value 3 for offsets (value 1 when an expire timestamp is set, as
OffsetCommit v2-v4 allowed), key 2 / value 3 for groups.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pystream.protocol.codec import Reader, Writer
from pystream.protocol.errors import ProtocolError
from pystream.protocol.messages.group_metadata_key import GroupMetadataKey
from pystream.protocol.messages.group_metadata_value import GroupMetadataValue
from pystream.protocol.messages.offset_commit_key import OffsetCommitKey
from pystream.protocol.messages.offset_commit_value import OffsetCommitValue

__all__ = [
    "GroupMetadataKey",
    "GroupMetadataValue",
    "OffsetCommitKey",
    "OffsetCommitValue",
    "RecordFormatError",
    "decode_key",
    "decode_value",
    "encode_key",
    "encode_value",
    "group_record",
    "offset_record",
]

OFFSET_KEY_VERSION = 1
GROUP_KEY_VERSION = 2
OFFSET_VALUE_VERSION = 3
OFFSET_VALUE_VERSION_WITH_EXPIRY = 1
GROUP_VALUE_VERSION = 3

_VERSION = struct.Struct(">h")

Key = OffsetCommitKey | GroupMetadataKey
Value = OffsetCommitValue | GroupMetadataValue


class RecordFormatError(ValueError):
    """A key or value that is not one of the formats above (or is damaged)."""


def encode_key(key: Key) -> bytes:
    w = Writer()
    if isinstance(key, OffsetCommitKey):
        w.int16(OFFSET_KEY_VERSION)
        key.encode(w, OFFSET_KEY_VERSION)
    else:
        w.int16(GROUP_KEY_VERSION)
        key.encode(w, 0)
    return w.getvalue()


def encode_value(value: Value) -> bytes:
    w = Writer()
    if isinstance(value, OffsetCommitValue):
        version = (
            OFFSET_VALUE_VERSION_WITH_EXPIRY
            if value.expire_timestamp >= 0
            else OFFSET_VALUE_VERSION
        )
    else:
        version = GROUP_VALUE_VERSION
    w.int16(version)
    value.encode(w, version)
    return w.getvalue()


def _version(data: bytes | memoryview, what: str) -> int:
    if len(data) < 2:
        raise RecordFormatError(f"{what} of {len(data)} bytes has no version")
    return int(_VERSION.unpack_from(data, 0)[0])


def decode_key(data: bytes | memoryview) -> Key:
    """Decodes a key; RecordFormatError for unknown key types or damage."""
    version = _version(data, "key")
    reader = Reader(data, 2)
    try:
        if version in (0, 1):
            key: Key = OffsetCommitKey.decode(reader, version)
        elif version == GROUP_KEY_VERSION:
            key = GroupMetadataKey.decode(reader, 0)
        else:
            raise RecordFormatError(f"unknown key type {version}")
    except ProtocolError as e:
        raise RecordFormatError(f"damaged key (type {version}): {e}") from None
    if reader.remaining():
        raise RecordFormatError(f"key (type {version}) has {reader.remaining()} extra bytes")
    return key


def decode_value(key: Key, data: bytes | memoryview) -> Value:
    """Decodes the value belonging to `key` (any version Kafka has written)."""
    version = _version(data, "value")
    cls: type[OffsetCommitValue] | type[GroupMetadataValue] = (
        OffsetCommitValue if isinstance(key, OffsetCommitKey) else GroupMetadataValue
    )
    if not cls.MIN_VERSION <= version <= cls.MAX_VERSION:
        raise RecordFormatError(f"{cls.__name__} version {version} is not known")
    try:
        # Kafka tolerates trailing bytes in values (newer writers may append
        # fields to old versions), so they are not an error here.
        return cls.decode(Reader(data, 2), version)
    except ProtocolError as e:
        raise RecordFormatError(f"damaged {cls.__name__} v{version}: {e}") from None


@dataclass(frozen=True, slots=True)
class OffsetAndMetadata:
    """A committed offset as the coordinator keeps it in memory."""

    offset: int
    leader_epoch: int = -1
    metadata: str = ""
    commit_timestamp: int = -1
    expire_timestamp: int = -1


def offset_record(
    group: str, topic: str, partition: int, committed: OffsetAndMetadata | None
) -> tuple[bytes, bytes | None]:
    """The (key, value) record of one commit; a tombstone when `committed` is None."""
    key = encode_key(OffsetCommitKey(group=group, topic=topic, partition=partition))
    if committed is None:
        return key, None
    value = OffsetCommitValue(
        offset=committed.offset,
        leader_epoch=committed.leader_epoch,
        metadata=committed.metadata,
        commit_timestamp=committed.commit_timestamp,
        expire_timestamp=committed.expire_timestamp,
    )
    return key, encode_value(value)


def offset_from_value(value: OffsetCommitValue) -> OffsetAndMetadata:
    return OffsetAndMetadata(
        offset=value.offset,
        leader_epoch=value.leader_epoch,
        metadata=value.metadata,
        commit_timestamp=value.commit_timestamp,
        expire_timestamp=value.expire_timestamp,
    )


def group_record(group: str, value: GroupMetadataValue | None) -> tuple[bytes, bytes | None]:
    """The (key, value) record of a group's metadata; None writes a tombstone."""
    key = encode_key(GroupMetadataKey(group=group))
    return key, None if value is None else encode_value(value)
