"""The "consumer" embedded protocol: subscriptions and assignments inside
JoinGroup metadata and SyncGroup assignments.

The coordinator treats these bytes as opaque except where Kafka looks
inside them too: OffsetDelete refuses topics a member subscribes to, and
DescribeGroups / the CLI show assignments. Both sides (the client's group
membership and the tools) encode and decode them here.

Like Kafka's ConsumerProtocol, a payload starts with an int16 version; a
version newer than we know is read as the newest we know (later versions
only add fields at the end).
"""

from __future__ import annotations

import struct

from pystream.protocol.codec import Reader, Writer
from pystream.protocol.errors import ProtocolError
from pystream.protocol.messages.consumer_protocol_assignment import ConsumerProtocolAssignment
from pystream.protocol.messages.consumer_protocol_subscription import (
    ConsumerProtocolSubscription,
)

_VERSION = struct.Struct(">h")

SUBSCRIPTION_VERSION = 1
ASSIGNMENT_VERSION = 1


def _read_version(data: bytes, highest: int) -> tuple[int, Reader] | None:
    if len(data) < 2:
        return None
    version = int(_VERSION.unpack_from(data, 0)[0])
    if version < 0:
        return None
    return min(version, highest), Reader(data, 2)


def decode_subscription(data: bytes) -> ConsumerProtocolSubscription | None:
    """The subscription, or None when the bytes are not one."""
    head = _read_version(data, ConsumerProtocolSubscription.MAX_VERSION)
    if head is None:
        return None
    version, reader = head
    try:
        return ConsumerProtocolSubscription.decode(reader, version)
    except ProtocolError:
        return None


def subscribed_topics(data: bytes) -> set[str] | None:
    sub = decode_subscription(data)
    return None if sub is None else set(sub.topics)


def encode_subscription(
    topics: list[str],
    user_data: bytes | None = None,
    owned: dict[str, list[int]] | None = None,
    version: int = SUBSCRIPTION_VERSION,
) -> bytes:
    sub = ConsumerProtocolSubscription(
        topics=sorted(topics),
        user_data=user_data,
        owned_partitions=[
            ConsumerProtocolSubscription.TopicPartition(topic=t, partitions=sorted(ps))
            for t, ps in sorted((owned or {}).items())
        ],
    )
    w = Writer()
    w.int16(version)
    sub.encode(w, version)
    return w.getvalue()


def decode_assignment(data: bytes) -> dict[str, list[int]] | None:
    """topic -> partitions; {} for an empty assignment, None when not decodable."""
    if not data:
        return {}
    head = _read_version(data, ConsumerProtocolAssignment.MAX_VERSION)
    if head is None:
        return None
    version, reader = head
    try:
        assignment = ConsumerProtocolAssignment.decode(reader, version)
    except ProtocolError:
        return None
    out: dict[str, list[int]] = {}
    for tp in assignment.assigned_partitions:
        out.setdefault(tp.topic, []).extend(tp.partitions)
    return out


def encode_assignment(
    partitions: dict[str, list[int]],
    user_data: bytes | None = None,
    version: int = ASSIGNMENT_VERSION,
) -> bytes:
    assignment = ConsumerProtocolAssignment(
        assigned_partitions=[
            ConsumerProtocolAssignment.TopicPartition(topic=t, partitions=sorted(ps))
            for t, ps in sorted(partitions.items())
        ],
        user_data=user_data,
    )
    w = Writer()
    w.int16(version)
    assignment.encode(w, version)
    return w.getvalue()
