"""Groups to records and back: what the coordinator writes about a group,
and how a partition of `__consumer_offsets` becomes groups again.

Loading keeps only the latest value per key (the store hands over exactly
that), so the work grows with the number of live groups and offsets, not
with the length of the topic's history. A loaded group with members is
Stable and its members must heartbeat within their session timeout, or
they are removed, as after a coordinator move in Kafka.
"""

from __future__ import annotations

import logging

from pystream.coordinator.group import Group, GroupState
from pystream.coordinator.member import Member
from pystream.coordinator.records import (
    GroupMetadataKey,
    GroupMetadataValue,
    OffsetCommitKey,
    OffsetCommitValue,
    RecordFormatError,
    decode_key,
    decode_value,
    offset_from_value,
)

log = logging.getLogger(__name__)


def group_value(group: Group) -> GroupMetadataValue:
    protocol = group.protocol_name
    return GroupMetadataValue(
        protocol_type=group.protocol_type or "",
        generation=group.generation_id,
        protocol=protocol,
        leader=group.leader_id if group.members else None,
        current_state_timestamp=group.state_timestamp,
        members=[
            GroupMetadataValue.MemberMetadata(
                member_id=m.member_id,
                group_instance_id=m.group_instance_id,
                client_id=m.client_id,
                client_host=m.client_host,
                rebalance_timeout=m.rebalance_timeout_ms,
                session_timeout=m.session_timeout_ms,
                subscription=m.metadata(protocol) if protocol is not None else b"",
                assignment=m.assignment,
            )
            for m in group.members.values()
        ],
    )


def group_from_value(group_id: str, value: GroupMetadataValue) -> Group:
    group = Group(group_id, value.current_state_timestamp)
    group.generation_id = value.generation
    group.protocol_type = value.protocol_type or None
    group.protocol_name = value.protocol
    for m in value.members:
        if value.protocol is None:
            break
        member = Member(
            member_id=m.member_id,
            group_instance_id=m.group_instance_id,
            client_id=m.client_id,
            client_host=m.client_host,
            # v0 values have no rebalance timeout: Kafka uses the session timeout.
            rebalance_timeout_ms=m.rebalance_timeout or m.session_timeout,
            session_timeout_ms=m.session_timeout,
            protocol_type=value.protocol_type,
            protocols=[(value.protocol, bytes(m.subscription))],
            assignment=bytes(m.assignment),
        )
        group.add(member)
    if value.leader is not None and value.leader in group.members:
        group.leader_id = value.leader
    group.state = GroupState.STABLE if group.members else GroupState.EMPTY
    return group


def load_groups(latest: dict[bytes, bytes | None]) -> dict[str, Group]:
    """Groups (with their offsets) from one partition's latest key/values."""
    metadata: dict[str, GroupMetadataValue] = {}
    offsets: dict[str, list[tuple[OffsetCommitKey, OffsetCommitValue]]] = {}
    skipped = 0
    for raw_key, raw_value in latest.items():
        if raw_value is None:
            continue  # tombstone: the latest word on this key is "gone"
        try:
            key = decode_key(raw_key)
            value = decode_value(key, raw_value)
        except RecordFormatError as e:
            skipped += 1
            log.debug("skipping record in __consumer_offsets: %s", e)
            continue
        if isinstance(key, GroupMetadataKey):
            assert isinstance(value, GroupMetadataValue)
            metadata[key.group] = value
        else:
            assert isinstance(value, OffsetCommitValue)
            offsets.setdefault(key.group, []).append((key, value))
    if skipped:
        log.warning("skipped %d records of unknown type in __consumer_offsets", skipped)
    groups: dict[str, Group] = {}
    for group_id in metadata.keys() | offsets.keys():
        value_ = metadata.get(group_id)
        group = group_from_value(group_id, value_) if value_ is not None else Group(group_id)
        for key, value in offsets.get(group_id, ()):
            group.offsets[(key.topic, key.partition)] = offset_from_value(value)
        groups[group_id] = group
    return groups
