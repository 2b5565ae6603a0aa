"""Rebalancing: JoinGroup and SyncGroup, the join round and its timers,
session timeouts and removing members, with Kafka's classic semantics.

Requests that must wait for the rebalance (JoinGroup until the round ends,
SyncGroup until the leader's assignment arrives) get a future; timers are
`loop.call_later` handles:
- a member's session timer (heartbeats push it back; while the member is
  in a join round or waiting for its assignment the round's own timer
  governs it, except for members new in this round);
- a pending member's timer (issued an id with MEMBER_ID_REQUIRED, not back);
- the group's join timer: `group.initial.rebalance.delay.ms` for a group
  that was Empty (extended while members keep arriving, up to the
  rebalance timeout), otherwise the largest member rebalance timeout,
  after which members that did not rejoin are removed;
- the group's sync timer: members that have not asked for their assignment
  a rebalance timeout after the join round ended are removed (KIP-814).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from pystream.coordinator.core import CoordinatorState, now_ms
from pystream.coordinator.group import Group, GroupState
from pystream.coordinator.member import Member
from pystream.coordinator.results import (
    CoordinatorError,
    JoinMember,
    JoinParams,
    JoinResult,
    SyncResult,
)
from pystream.coordinator.store import StoreError
from pystream.protocol.errors import ErrorCode

log = logging.getLogger(__name__)

S = GroupState
E = ErrorCode


class Rebalancing(CoordinatorState):
    def _schedule_session(
        self, group: Group, member: Member, timeout_ms: int | None = None
    ) -> None:
        if member.timer is not None:
            member.timer.cancel()
        if timeout_ms is None:
            timeout_ms = (
                self.config.new_member_join_timeout_ms
                if member.is_new
                else member.session_timeout_ms
            )
        member.timer = self._loop().call_later(
            timeout_ms / 1000, self._on_session_expired, group, member.member_id, member
        )

    def _on_session_expired(self, group: Group, member_id: str, member: Member) -> None:
        if group.members.get(member_id) is not member or group.is_in(S.DEAD):
            return
        if (member.is_awaiting_join or member.is_awaiting_sync) and not member.is_new:
            return  # the round's own timer decides for members taking part in it
        log.info("group %s: member %s expired", group.group_id, member_id)
        self._remove_member(group, member, "session timeout")

    # ---- JoinGroup ----
    async def join_group(self, p: JoinParams) -> JoinResult:
        try:
            self._check_loaded()
            if not p.group_id:
                raise CoordinatorError(E.INVALID_GROUP_ID)
            cfg = self.config
            if not cfg.min_session_timeout_ms <= p.session_timeout_ms <= cfg.max_session_timeout_ms:
                raise CoordinatorError(E.INVALID_SESSION_TIMEOUT)
            if p.rebalance_timeout_ms < 0:
                p.rebalance_timeout_ms = p.session_timeout_ms
            group = self.groups.get(p.group_id)
            if group is None:
                if p.member_id:
                    raise CoordinatorError(E.UNKNOWN_MEMBER_ID)
                group = self.groups[p.group_id] = Group(p.group_id, now_ms())
            if not group.supports_protocols(p.protocol_type, [n for n, _ in p.protocols]):
                raise CoordinatorError(E.INCONSISTENT_GROUP_PROTOCOL)
            fut = self._join_known(group, p) if p.member_id else self._join_unknown(group, p)
        except CoordinatorError as e:
            log.debug("join %s member=%r -> %s", p.group_id, p.member_id, e.code.name)
            return JoinResult(e.code, member_id=p.member_id)
        if isinstance(fut, JoinResult):
            result = fut
        else:
            result = await fut
        log.debug(
            "join %s member=%r instance=%r -> %s gen %d member %s",
            p.group_id,
            p.member_id,
            p.group_instance_id,
            result.error.name,
            result.generation_id,
            result.member_id,
        )
        return result

    def _join_future(self) -> asyncio.Future[JoinResult]:
        return self._loop().create_future()

    def _full(self, group: Group) -> bool:
        return len(group.members) + len(group.pending_members) >= self.config.max_group_size

    def _join_unknown(self, group: Group, p: JoinParams) -> Any:
        if group.is_in(S.DEAD):
            raise CoordinatorError(E.COORDINATOR_NOT_AVAILABLE)
        if p.group_instance_id is not None:
            new_id = f"{p.group_instance_id}-{uuid.uuid4()}"
            old_id = group.static_member_id(p.group_instance_id)
            if old_id is not None:
                return self._replace_static_member(group, p, old_id, new_id)
            if self._full(group):
                raise CoordinatorError(E.GROUP_MAX_SIZE_REACHED)
            return self._add_member_and_rebalance(group, p, new_id)
        if self._full(group):
            raise CoordinatorError(E.GROUP_MAX_SIZE_REACHED)
        new_id = f"{p.client_id}-{uuid.uuid4()}"
        if p.require_known_member_id:
            group.pending_members.add(new_id)
            self._loop().call_later(
                p.session_timeout_ms / 1000, self._on_pending_expired, group, new_id
            )
            return JoinResult(E.MEMBER_ID_REQUIRED, member_id=new_id)
        return self._add_member_and_rebalance(group, p, new_id)

    def _on_pending_expired(self, group: Group, member_id: str) -> None:
        if member_id in group.pending_members:
            group.pending_members.discard(member_id)
            if group.is_in(S.PREPARING_REBALANCE):
                self._maybe_complete_join(group)

    def _join_known(self, group: Group, p: JoinParams) -> Any:
        if group.is_in(S.DEAD):
            raise CoordinatorError(E.COORDINATOR_NOT_AVAILABLE)
        if p.member_id in group.pending_members:
            if p.group_instance_id is not None:
                raise CoordinatorError(E.UNKNOWN_MEMBER_ID)
            return self._add_member_and_rebalance(group, p, p.member_id)
        self.validate_member(group, p.member_id, p.group_instance_id)
        member = group.get(p.member_id)
        if group.is_in(S.PREPARING_REBALANCE):
            return self._update_member_and_rebalance(group, member, p)
        if group.is_in(S.COMPLETING_REBALANCE):
            if member.matches(p.protocols):
                # A resend (e.g. the response was lost): same generation again.
                return self._join_response(group, member)
            return self._update_member_and_rebalance(group, member, p)
        if group.is_in(S.STABLE):
            if group.is_leader(member.member_id) or not member.matches(p.protocols):
                return self._update_member_and_rebalance(group, member, p)
            return self._join_response(group, member)
        raise CoordinatorError(E.UNKNOWN_MEMBER_ID)

    def _join_response(
        self, group: Group, member: Member, skip_assignment: bool = False
    ) -> JoinResult:
        leader = group.is_leader(member.member_id)
        protocol = group.protocol_name
        members = (
            [
                JoinMember(m.member_id, m.group_instance_id, m.metadata(protocol))
                for m in group.members.values()
            ]
            if leader and protocol is not None
            else []
        )
        return JoinResult(
            E.NONE,
            member_id=member.member_id,
            generation_id=group.generation_id,
            protocol_type=group.protocol_type,
            protocol_name=protocol,
            leader_id=group.leader_id or "",
            skip_assignment=skip_assignment,
            members=members,
        )

    def _add_member_and_rebalance(self, group: Group, p: JoinParams, member_id: str) -> Any:
        member = Member(
            member_id=member_id,
            group_instance_id=p.group_instance_id,
            client_id=p.client_id,
            client_host=p.client_host,
            rebalance_timeout_ms=p.rebalance_timeout_ms,
            session_timeout_ms=p.session_timeout_ms,
            protocol_type=p.protocol_type,
            protocols=list(p.protocols),
        )
        fut = self._join_future()
        member.awaiting_join = fut
        member.is_new = True
        group.add(member)
        group.new_member_added = True
        self._schedule_session(group, member)
        self._maybe_prepare_rebalance(group, f"member {member_id} joined")
        self._maybe_complete_join(group)
        return fut

    def _update_member_and_rebalance(self, group: Group, member: Member, p: JoinParams) -> Any:
        group.update_protocols(member, list(p.protocols))
        member.session_timeout_ms = p.session_timeout_ms
        member.rebalance_timeout_ms = p.rebalance_timeout_ms
        fut = self._join_future()
        if member.awaiting_join is not None and not member.awaiting_join.done():
            # A second join while the first still waits: the first is superseded.
            member.awaiting_join.set_result(JoinResult(E.REBALANCE_IN_PROGRESS, member.member_id))
        member.awaiting_join = fut
        self._maybe_prepare_rebalance(group, f"member {member.member_id} rejoined")
        self._maybe_complete_join(group)
        return fut

    def _replace_static_member(self, group: Group, p: JoinParams, old_id: str, new_id: str) -> Any:
        old = group.get(old_id)
        # The old incarnation is fenced: whatever it was waiting on ends now.
        for waiting in (old.awaiting_join, old.awaiting_sync):
            if waiting is not None and not waiting.done():
                waiting.set_result(
                    JoinResult(E.FENCED_INSTANCE_ID, old_id)
                    if waiting is old.awaiting_join
                    else SyncResult(E.FENCED_INSTANCE_ID)
                )
        old.awaiting_join = old.awaiting_sync = None
        old_protocols = old.protocols
        member = group.replace_static_member(p.group_instance_id or "", old_id, new_id)
        group.update_protocols(member, list(p.protocols))
        member.session_timeout_ms = p.session_timeout_ms
        member.rebalance_timeout_ms = p.rebalance_timeout_ms
        member.client_id, member.client_host = p.client_id, p.client_host
        unchanged = group.protocol_name in group.candidate_protocols() and (
            group.select_protocol() == group.protocol_name
        )
        if group.is_in(S.STABLE) and unchanged:
            try:
                self._persist_group(group)
            except StoreError as e:
                member = group.replace_static_member(p.group_instance_id or "", new_id, old_id)
                group.update_protocols(member, old_protocols)
                raise CoordinatorError(e.code) from None
            self._schedule_session(group, member)
            # Nothing changed for the group: no rebalance. A v9+ leader is told
            # not to reassign; older leaders' SyncGroup gets the kept assignment.
            skip = p.supports_skip_assignment and group.is_leader(new_id)
            return self._join_response(group, member, skip_assignment=skip)
        fut = self._join_future()
        member.awaiting_join = fut
        self._schedule_session(group, member)
        if group.is_in(S.COMPLETING_REBALANCE):
            # The leader may be assigning to the old id; only a new round is safe.
            self._prepare_rebalance(group, f"static member {p.group_instance_id} replaced")
        else:
            self._maybe_prepare_rebalance(group, f"static member {p.group_instance_id} rejoined")
        self._maybe_complete_join(group)
        return fut

    # ---- the join round ----
    def _maybe_prepare_rebalance(self, group: Group, reason: str) -> None:
        if group.is_in(S.STABLE, S.COMPLETING_REBALANCE, S.EMPTY):
            self._prepare_rebalance(group, reason)

    def _prepare_rebalance(self, group: Group, reason: str) -> None:
        if group.is_in(S.COMPLETING_REBALANCE):
            self._cancel_sync_timer(group)
            group.clear_assignments()
            for m in group.members.values():
                if m.awaiting_sync is not None:
                    if not m.awaiting_sync.done():
                        m.awaiting_sync.set_result(SyncResult(E.REBALANCE_IN_PROGRESS))
                    m.awaiting_sync = None
        initial = group.is_in(S.EMPTY)
        group.transition(S.PREPARING_REBALANCE, now_ms())
        log.info(
            "group %s: preparing rebalance (generation %d): %s",
            group.group_id,
            group.generation_id,
            reason,
        )
        self._cancel_join_timer(group)
        loop = self._loop()
        if initial:
            delay = self.config.initial_rebalance_delay_ms
            remaining = max(group.max_rebalance_timeout_ms() - delay, 0)
            group.new_member_added = False
            self._initial_delay.add(group.group_id)
            self._join_timers[group.group_id] = loop.call_later(
                delay / 1000, self._on_initial_delay, group, remaining
            )
        else:
            self._join_timers[group.group_id] = loop.call_later(
                group.max_rebalance_timeout_ms() / 1000, self._complete_join, group
            )
            # Like Kafka's purgatory: the round may already be complete (e.g. the
            # last member just left).
            self._maybe_complete_join(group)

    def _on_initial_delay(self, group: Group, remaining_ms: int) -> None:
        self._join_timers.pop(group.group_id, None)
        self._initial_delay.discard(group.group_id)
        if group.new_member_added and remaining_ms > 0:
            group.new_member_added = False
            delay = min(self.config.initial_rebalance_delay_ms, remaining_ms)
            self._initial_delay.add(group.group_id)
            self._join_timers[group.group_id] = self._loop().call_later(
                delay / 1000, self._on_initial_delay, group, remaining_ms - delay
            )
            return
        self._complete_join(group)

    def _maybe_complete_join(self, group: Group) -> None:
        if not group.is_in(S.PREPARING_REBALANCE):
            return
        if group.group_id not in self._initial_delay and group.all_members_joined():
            self._complete_join(group)

    def _complete_join(self, group: Group) -> None:
        if not group.is_in(S.PREPARING_REBALANCE):
            return
        self._cancel_join_timer(group)
        for member in group.not_yet_rejoined():
            log.info("group %s: member %s did not rejoin", group.group_id, member.member_id)
            self._drop(group, member)
        group.init_next_generation(now_ms())
        if group.is_in(S.EMPTY):
            log.info("group %s is empty (generation %d)", group.group_id, group.generation_id)
            try:
                self._persist_group(group)
            except StoreError as e:
                log.warning("group %s: could not store empty group: %s", group.group_id, e)
            return
        log.info(
            "group %s: generation %d with %d members, protocol %s, leader %s",
            group.group_id,
            group.generation_id,
            len(group.members),
            group.protocol_name,
            group.leader_id,
        )
        for member in list(group.members.values()):
            fut = member.awaiting_join
            member.awaiting_join = None
            member.is_new = False
            if fut is not None and not fut.done():
                fut.set_result(self._join_response(group, member))
            self._schedule_session(group, member)
        self._sync_timers[group.group_id] = self._loop().call_later(
            group.max_rebalance_timeout_ms() / 1000,
            self._on_sync_timeout,
            group,
            group.generation_id,
        )

    def _on_sync_timeout(self, group: Group, generation: int) -> None:
        self._sync_timers.pop(group.group_id, None)
        if not group.is_in(S.COMPLETING_REBALANCE) or group.generation_id != generation:
            return
        late = [m for m in group.members.values() if not m.is_awaiting_sync]
        for member in late:
            log.info("group %s: member %s did not sync", group.group_id, member.member_id)
            self._drop(group, member)
        if group.is_empty:
            self._prepare_rebalance(group, "no member synced")
            self._complete_join(group)
        else:
            self._prepare_rebalance(group, "members did not sync in time")

    # ---- removing members ----
    def _drop(self, group: Group, member: Member) -> None:
        """Removes a member and answers whatever it waits on; no state change."""
        group.remove(member.member_id)
        if member.timer is not None:
            member.timer.cancel()
            member.timer = None
        if member.awaiting_join is not None and not member.awaiting_join.done():
            member.awaiting_join.set_result(JoinResult(E.UNKNOWN_MEMBER_ID, member.member_id))
        if member.awaiting_sync is not None and not member.awaiting_sync.done():
            member.awaiting_sync.set_result(SyncResult(E.UNKNOWN_MEMBER_ID))
        member.awaiting_join = member.awaiting_sync = None

    def _remove_member(self, group: Group, member: Member, reason: str) -> None:
        self._drop(group, member)
        if group.is_in(S.STABLE, S.COMPLETING_REBALANCE):
            self._prepare_rebalance(group, f"removing member {member.member_id}: {reason}")
        elif group.is_in(S.PREPARING_REBALANCE):
            self._maybe_complete_join(group)

    # ---- SyncGroup ----
    async def sync_group(
        self,
        group_id: str,
        generation_id: int,
        member_id: str,
        instance_id: str | None,
        protocol_type: str | None,
        protocol_name: str | None,
        assignments: dict[str, bytes],
    ) -> SyncResult:
        try:
            self._check_loaded()
            if not group_id:
                raise CoordinatorError(E.INVALID_GROUP_ID)
            group = self.groups.get(group_id)
            if group is None:
                raise CoordinatorError(E.UNKNOWN_MEMBER_ID)
            if group.is_in(S.DEAD):
                raise CoordinatorError(E.COORDINATOR_NOT_AVAILABLE)
            self.validate_member(group, member_id, instance_id)
            if generation_id != group.generation_id:
                raise CoordinatorError(E.ILLEGAL_GENERATION)
            if (protocol_type is not None and protocol_type != group.protocol_type) or (
                protocol_name is not None and protocol_name != group.protocol_name
            ):
                raise CoordinatorError(E.INCONSISTENT_GROUP_PROTOCOL)
            if group.is_in(S.EMPTY):
                raise CoordinatorError(E.UNKNOWN_MEMBER_ID)
            if group.is_in(S.PREPARING_REBALANCE):
                raise CoordinatorError(E.REBALANCE_IN_PROGRESS)
        except CoordinatorError as e:
            log.debug(
                "sync %s member=%r gen %d -> %s", group_id, member_id, generation_id, e.code.name
            )
            return SyncResult(e.code)
        member = group.get(member_id)
        self._schedule_session(group, member)
        if group.is_in(S.STABLE):
            return self._sync_response(group, member.assignment)
        fut: asyncio.Future[SyncResult] = self._loop().create_future()
        if member.awaiting_sync is not None and not member.awaiting_sync.done():
            member.awaiting_sync.set_result(SyncResult(E.REBALANCE_IN_PROGRESS))
        member.awaiting_sync = fut
        if group.is_leader(member_id):
            self._complete_sync(group, assignments)
        return await fut

    def _sync_response(self, group: Group, assignment: bytes) -> SyncResult:
        return SyncResult(E.NONE, group.protocol_type, group.protocol_name, assignment)

    def _complete_sync(self, group: Group, assignments: dict[str, bytes]) -> None:
        for member in group.members.values():
            member.assignment = assignments.get(member.member_id, b"")
        try:
            self._persist_group(group)
        except StoreError as e:
            log.warning("group %s: could not store assignment: %s", group.group_id, e)
            group.clear_assignments()
            for m in group.members.values():
                if m.awaiting_sync is not None and not m.awaiting_sync.done():
                    m.awaiting_sync.set_result(SyncResult(e.code))
                m.awaiting_sync = None
            self._prepare_rebalance(group, "storing the assignment failed")
            return
        self._cancel_sync_timer(group)
        group.transition(S.STABLE, now_ms())
        for m in group.members.values():
            if m.awaiting_sync is not None:
                if not m.awaiting_sync.done():
                    m.awaiting_sync.set_result(self._sync_response(group, m.assignment))
                m.awaiting_sync = None
        log.info("group %s: generation %d is stable", group.group_id, group.generation_id)
