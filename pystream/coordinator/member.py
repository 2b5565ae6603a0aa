"""One member of a classic consumer group, as the coordinator sees it.

A member is what JoinGroup told us (client id and host, timeouts, the
protocols it supports in order of preference with their metadata) plus what
the coordinator keeps for it: its assignment from the leader, the join or
sync request it is waiting on, and when its session runs out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Member:
    member_id: str
    group_instance_id: str | None
    client_id: str
    client_host: str
    rebalance_timeout_ms: int
    session_timeout_ms: int
    protocol_type: str
    # (name, metadata) in the member's order of preference.
    protocols: list[tuple[str, bytes]]
    assignment: bytes = b""
    # The JoinGroup / SyncGroup request waiting for the rebalance to move on:
    # a future the coordinator completes with the response fields.
    awaiting_join: Any = None
    awaiting_sync: Any = None
    # Set while a member that joined in this round has not yet been seen
    # again; such members expire after the longer new-member timeout.
    is_new: bool = False
    # Deadline (event-loop time, seconds) of the session or join timer.
    expires_at: float = 0.0
    timer: Any = field(default=None, repr=False)

    @property
    def is_static(self) -> bool:
        return self.group_instance_id is not None

    @property
    def is_awaiting_join(self) -> bool:
        return self.awaiting_join is not None

    @property
    def is_awaiting_sync(self) -> bool:
        return self.awaiting_sync is not None

    def protocol_names(self) -> list[str]:
        return [name for name, _ in self.protocols]

    def metadata(self, protocol: str) -> bytes:
        for name, data in self.protocols:
            if name == protocol:
                return data
        raise KeyError(f"member {self.member_id} does not support protocol {protocol!r}")

    def matches(self, protocols: list[tuple[str, bytes]]) -> bool:
        """Whether a rejoin brings the same protocols and metadata (no rebalance needed)."""
        return self.protocols == protocols

    def vote(self, candidates: set[str]) -> str:
        """The member's most preferred protocol among those every member supports."""
        for name, _ in self.protocols:
            if name in candidates:
                return name
        raise ValueError(f"member {self.member_id} supports none of {sorted(candidates)}")
