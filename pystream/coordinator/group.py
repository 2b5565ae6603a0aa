"""The state of one classic group: members, generation, leader, protocol.

`Group` is a plain state machine with Kafka's states and transitions; it
knows nothing of timers, requests or storage (the coordinator drives it),
so it can be tested on its own.

States and the states they may be entered from (as Kafka's ClassicGroup):
- Empty: no members; offsets may still be committed (from PreparingRebalance
  once a rebalance ends with nobody left).
- PreparingRebalance: waiting for every member to (re)join (from Empty,
  Stable, CompletingRebalance).
- CompletingRebalance: joined; waiting for the leader's assignment
  (from PreparingRebalance).
- Stable: assignments handed out (from CompletingRebalance).
- Dead: removed; the object is only kept by requests still in flight (from
  any state).

Protocol selection: among the protocols every member supports, each member
votes for the one it lists first; the most votes win (ties go to the
candidate listed first by the longest-standing member).
"""

from __future__ import annotations

import enum
from collections import Counter

from pystream.coordinator.member import Member
from pystream.coordinator.records import OffsetAndMetadata


class GroupState(enum.Enum):
    EMPTY = "Empty"
    PREPARING_REBALANCE = "PreparingRebalance"
    COMPLETING_REBALANCE = "CompletingRebalance"
    STABLE = "Stable"
    DEAD = "Dead"


_S = GroupState
VALID_PREVIOUS: dict[GroupState, frozenset[GroupState]] = {
    _S.EMPTY: frozenset({_S.PREPARING_REBALANCE}),
    _S.PREPARING_REBALANCE: frozenset({_S.EMPTY, _S.STABLE, _S.COMPLETING_REBALANCE}),
    _S.COMPLETING_REBALANCE: frozenset({_S.PREPARING_REBALANCE}),
    _S.STABLE: frozenset({_S.COMPLETING_REBALANCE}),
    _S.DEAD: frozenset(GroupState),
}

TopicPartition = tuple[str, int]


class IllegalStateError(RuntimeError):
    """A transition Kafka's state machine does not allow (a coordinator bug)."""


class Group:
    def __init__(self, group_id: str, now_ms: int = -1) -> None:
        self.group_id = group_id
        self.state = GroupState.EMPTY
        self.state_timestamp = now_ms
        self.generation_id = 0
        self.protocol_type: str | None = None
        self.protocol_name: str | None = None
        self.leader_id: str | None = None
        self.members: dict[str, Member] = {}
        self.static_members: dict[str, str] = {}  # group.instance.id -> member id
        self.pending_members: set[str] = set()  # given an id, not yet joined with it
        self.offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        # Join round bookkeeping: whether a member joined since the round began
        # (the initial rebalance delay waits longer only while members keep coming).
        self.new_member_added = False
        self._protocol_votes: Counter[str] = Counter()

    # ---- state ----
    def is_in(self, *states: GroupState) -> bool:
        return self.state in states

    def transition(self, target: GroupState, now_ms: int = -1) -> None:
        if self.state not in VALID_PREVIOUS[target]:
            raise IllegalStateError(
                f"group {self.group_id}: {self.state.value} -> {target.value} is not allowed"
            )
        self.state = target
        self.state_timestamp = now_ms

    # ---- members ----
    def has(self, member_id: str) -> bool:
        return member_id in self.members

    def get(self, member_id: str) -> Member:
        return self.members[member_id]

    def is_leader(self, member_id: str) -> bool:
        return self.leader_id == member_id

    @property
    def is_empty(self) -> bool:
        return not self.members

    def add(self, member: Member) -> None:
        if not self.members:
            self.protocol_type = member.protocol_type
        self.members[member.member_id] = member
        self._protocol_votes.update(member.protocol_names())
        if self.leader_id is None:
            self.leader_id = member.member_id
        if member.group_instance_id is not None:
            self.static_members[member.group_instance_id] = member.member_id
        self.pending_members.discard(member.member_id)

    def remove(self, member_id: str) -> Member | None:
        member = self.members.pop(member_id, None)
        if member is None:
            return None
        self._protocol_votes.subtract(member.protocol_names())
        self._protocol_votes += Counter()  # drop zero counts
        instance = member.group_instance_id
        if instance is not None and self.static_members.get(instance) == member_id:
            del self.static_members[instance]
        if self.leader_id == member_id:
            self.leader_id = next(iter(self.members), None)
        return member

    def update_protocols(self, member: Member, protocols: list[tuple[str, bytes]]) -> None:
        self._protocol_votes.subtract(member.protocol_names())
        member.protocols = protocols
        self._protocol_votes.update(member.protocol_names())
        self._protocol_votes += Counter()

    def replace_static_member(self, instance_id: str, old_id: str, new_id: str) -> Member:
        """A static member came back with a new member id: it keeps its place,
        its assignment and (if it had it) the leadership."""
        member = self.members.pop(old_id)
        member.member_id = new_id
        self.members[new_id] = member
        self.static_members[instance_id] = new_id
        if self.leader_id == old_id:
            self.leader_id = new_id
        return member

    def static_member_id(self, instance_id: str | None) -> str | None:
        return None if instance_id is None else self.static_members.get(instance_id)

    # ---- protocols ----
    def supports_protocols(self, protocol_type: str, names: list[str]) -> bool:
        """Whether a member with these protocols may join (Kafka's rule)."""
        if not self.members:
            return bool(protocol_type) and bool(names)
        return protocol_type == self.protocol_type and any(
            self._protocol_votes[n] == len(self.members) for n in names
        )

    def candidate_protocols(self) -> set[str]:
        n = len(self.members)
        return {name for name, count in self._protocol_votes.items() if count == n}

    def select_protocol(self) -> str:
        candidates = self.candidate_protocols()
        if not candidates:
            raise IllegalStateError(f"group {self.group_id}: members share no protocol")
        votes = Counter(m.vote(candidates) for m in self.members.values())
        first = next(iter(self.members.values()))
        order = {name: i for i, name in enumerate(first.protocol_names())}
        return max(votes, key=lambda name: (votes[name], -order.get(name, 0)))

    # ---- join round ----
    def all_members_joined(self) -> bool:
        return not self.pending_members and all(m.is_awaiting_join for m in self.members.values())

    def not_yet_rejoined(self) -> list[Member]:
        return [m for m in self.members.values() if not m.is_awaiting_join]

    def max_rebalance_timeout_ms(self) -> int:
        return max((m.rebalance_timeout_ms for m in self.members.values()), default=0)

    def init_next_generation(self, now_ms: int = -1) -> None:
        """Ends a join round: a new generation with a protocol, or Empty."""
        self.generation_id += 1
        if self.members:
            self.protocol_name = self.select_protocol()
            self.transition(GroupState.COMPLETING_REBALANCE, now_ms)
        else:
            self.protocol_name = None
            self.transition(GroupState.EMPTY, now_ms)
        self.new_member_added = False

    def clear_assignments(self) -> None:
        for m in self.members.values():
            m.assignment = b""

    # ---- offsets ----
    def subscribed_topics(self) -> set[str] | None:
        """Topics the members subscribe to (consumer protocol), None if unknown."""
        from pystream.protocol.consumer_protocol import subscribed_topics

        if self.protocol_type != "consumer" or self.protocol_name is None:
            return None
        topics: set[str] = set()
        for m in self.members.values():
            found = subscribed_topics(m.metadata(self.protocol_name))
            if found is None:
                return None
            topics |= found
        return topics
