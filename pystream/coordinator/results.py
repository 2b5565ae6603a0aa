"""What the coordinator hands back to the API handlers: plain values, so the
coordinator does not depend on any one version of the wire messages."""

from __future__ import annotations

from dataclasses import dataclass, field

from pystream.protocol.errors import ErrorCode


class CoordinatorError(Exception):
    """A request the coordinator refuses, with Kafka's error code."""

    def __init__(self, code: ErrorCode) -> None:
        super().__init__(code.name)
        self.code = code


@dataclass
class JoinParams:
    group_id: str
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    session_timeout_ms: int
    rebalance_timeout_ms: int
    protocol_type: str
    protocols: list[tuple[str, bytes]]
    # JoinGroup v4+: a new member first gets its id back with MEMBER_ID_REQUIRED.
    require_known_member_id: bool = True
    # JoinGroup v9+: a static leader that rejoins may be told not to reassign.
    supports_skip_assignment: bool = False
    reason: str | None = None


@dataclass
class JoinMember:
    member_id: str
    group_instance_id: str | None
    metadata: bytes


@dataclass
class JoinResult:
    error: ErrorCode
    member_id: str = ""
    generation_id: int = -1
    protocol_type: str | None = None
    protocol_name: str | None = None
    leader_id: str = ""
    skip_assignment: bool = False
    members: list[JoinMember] = field(default_factory=list)


@dataclass
class SyncResult:
    error: ErrorCode
    protocol_type: str | None = None
    protocol_name: str | None = None
    assignment: bytes = b""


@dataclass
class MemberDescription:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    metadata: bytes
    assignment: bytes


@dataclass
class GroupDescription:
    group_id: str
    error: ErrorCode
    state: str
    protocol_type: str
    protocol_name: str
    members: list[MemberDescription] = field(default_factory=list)


@dataclass
class GroupListing:
    group_id: str
    protocol_type: str
    state: str


@dataclass
class PartitionOffset:
    topic: str
    partition: int
    offset: int = -1
    leader_epoch: int = -1
    metadata: str | None = ""
    error: ErrorCode = ErrorCode.NONE


@dataclass
class CommitRequestPartition:
    topic: str
    partition: int
    offset: int
    leader_epoch: int = -1
    metadata: str | None = ""
    # OffsetCommit v1 carries a per-partition commit timestamp.
    commit_timestamp: int = -1
