"""The group coordinator: classic consumer groups with Kafka's semantics,
on the broker's event loop.

Everything runs on the event loop thread, so a group is never touched by
two requests at once. The parts: `core.py` (state, persistence,
validation), `rebalance.py` (join/sync, rounds, timeouts), `offsets.py`
(commit, fetch, delete, expiry); this module adds the lifecycle (loading
from `__consumer_offsets`), Heartbeat, LeaveGroup and the admin APIs.
Kafka's error codes, and the order in which it checks them, are kept so
clients behave as they would against Kafka.
"""

from __future__ import annotations

import asyncio
import logging

from pystream.coordinator.core import now_ms
from pystream.coordinator.group import Group, GroupState
from pystream.coordinator.loader import load_groups
from pystream.coordinator.offsets import OffsetManagement
from pystream.coordinator.records import group_record
from pystream.coordinator.results import (
    CoordinatorError,
    GroupDescription,
    GroupListing,
    JoinResult,
    MemberDescription,
    SyncResult,
)
from pystream.coordinator.store import StoreError
from pystream.protocol.errors import ErrorCode

log = logging.getLogger(__name__)

S = GroupState
E = ErrorCode


class GroupCoordinator(OffsetManagement):
    # ---- lifecycle ----
    async def start(self) -> None:
        """Loads every group from the store; concurrent callers share one load."""
        if self.loaded:
            return
        if self._loading is None:
            self._event_loop = asyncio.get_running_loop()
            self._loading = self._event_loop.create_task(self._load())
        loading = self._loading
        try:
            await asyncio.shield(loading)
        except Exception:
            # A failed load (e.g. the offsets topic could not be opened) is
            # retried by the next caller instead of leaving the coordinator
            # answering COORDINATOR_LOAD_IN_PROGRESS for ever.
            if self._loading is loading:
                self._loading = None
            log.exception("group coordinator failed to load")
            raise

    async def _load(self) -> None:
        if self._prepare is not None:
            await self._prepare()
        store = self.store
        if self._run_blocking is not None:
            latest = await self._run_blocking(self._read_all)
        else:
            latest = self._read_all()
        for partition, records in enumerate(latest):
            self.compactor.loaded(partition, records)
            for group_id, group in load_groups(records).items():
                self.groups[group_id] = group
                for member in group.members.values():
                    self._schedule_session(group, member)
            self.compactor.maybe_start(partition, [])
        self.loaded = True
        self._expiry_task = asyncio.get_running_loop().create_task(self._expiry_loop())
        log.info(
            "group coordinator loaded %d groups from %d partitions",
            len(self.groups),
            store.num_partitions,
        )

    def _read_all(self) -> list[dict[bytes, bytes | None]]:
        return [self.store.read_latest(p) for p in range(self.store.num_partitions)]

    async def stop(self) -> None:
        if self._compactor is not None:
            self._compactor.stop()
        if self._loading is not None and not self._loading.done():
            self._loading.cancel()
        self._loading = None
        if self._expiry_task is not None:
            self._expiry_task.cancel()
        for handle in [*self._join_timers.values(), *self._sync_timers.values()]:
            handle.cancel()
        for group in self.groups.values():
            for member in group.members.values():
                if member.timer is not None:
                    member.timer.cancel()
                if member.awaiting_join is not None and not member.awaiting_join.done():
                    member.awaiting_join.set_result(JoinResult(E.NOT_COORDINATOR))
                if member.awaiting_sync is not None and not member.awaiting_sync.done():
                    member.awaiting_sync.set_result(SyncResult(E.NOT_COORDINATOR))
        self.groups.clear()
        self._join_timers.clear()
        self._sync_timers.clear()
        self._initial_delay.clear()
        self.loaded = False

    # ---- Heartbeat ----
    def heartbeat(
        self, group_id: str, member_id: str, instance_id: str | None, generation_id: int
    ) -> ErrorCode:
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
            if group.is_in(S.EMPTY):
                raise CoordinatorError(E.UNKNOWN_MEMBER_ID)
        except CoordinatorError as e:
            log.debug(
                "heartbeat %s member=%r gen %d -> %s",
                group_id,
                member_id,
                generation_id,
                e.code.name,
            )
            return e.code
        member = group.get(member_id)
        self._schedule_session(group, member)
        if group.is_in(S.PREPARING_REBALANCE):
            return E.REBALANCE_IN_PROGRESS
        return E.NONE

    # ---- LeaveGroup ----
    def leave_group(
        self, group_id: str, leaving: list[tuple[str, str | None]]
    ) -> tuple[ErrorCode, list[ErrorCode]]:
        """(top-level error, per-member errors) for members given as (member id, instance id)."""
        if not self.loaded:
            return E.COORDINATOR_LOAD_IN_PROGRESS, []
        if not group_id:
            return E.INVALID_GROUP_ID, []
        group = self.groups.get(group_id)
        if group is None:
            return E.NONE, [E.UNKNOWN_MEMBER_ID for _ in leaving]
        if group.is_in(S.DEAD):
            return E.COORDINATOR_NOT_AVAILABLE, []
        errors = []
        for member_id, instance_id in leaving:
            errors.append(self._leave_one(group, member_id, instance_id))
        return E.NONE, errors

    def _leave_one(self, group: Group, member_id: str, instance_id: str | None) -> ErrorCode:
        if instance_id is not None:
            existing = group.static_member_id(instance_id)
            if existing is None:
                return E.UNKNOWN_MEMBER_ID
            # An empty member id (the admin client's removal) matches any incarnation.
            if member_id and member_id != existing:
                return E.FENCED_INSTANCE_ID
            member_id = existing
        elif member_id in group.pending_members:
            group.pending_members.discard(member_id)
            self._maybe_complete_join(group)
            return E.NONE
        member = group.members.get(member_id)
        if member is None:
            return E.UNKNOWN_MEMBER_ID
        log.info("group %s: member %s left", group.group_id, member_id)
        self._remove_member(group, member, "left the group")
        return E.NONE

    # ---- DescribeGroups / ListGroups / DeleteGroups ----
    def describe_group(self, group_id: str) -> GroupDescription:
        if not self.loaded:
            return GroupDescription(group_id, E.COORDINATOR_LOAD_IN_PROGRESS, "", "", "")
        group = self.groups.get(group_id)
        if group is None:
            return GroupDescription(group_id, E.NONE, S.DEAD.value, "", "")
        stable = group.is_in(S.STABLE)
        protocol = group.protocol_name if stable else None
        members = [
            MemberDescription(
                member_id=m.member_id,
                group_instance_id=m.group_instance_id,
                client_id=m.client_id,
                client_host=m.client_host,
                metadata=m.metadata(protocol) if protocol is not None else b"",
                assignment=m.assignment if stable else b"",
            )
            for m in group.members.values()
        ]
        return GroupDescription(
            group_id,
            E.NONE,
            group.state.value,
            group.protocol_type or "",
            (group.protocol_name or "") if stable else "",
            members,
        )

    def list_groups(self, states: list[str] | None = None) -> list[GroupListing]:
        self._check_loaded()
        wanted = {s.lower() for s in states} if states else None
        return [
            GroupListing(g.group_id, g.protocol_type or "", g.state.value)
            for g in self.groups.values()
            if not g.is_in(S.DEAD) and (wanted is None or g.state.value.lower() in wanted)
        ]

    def delete_group(self, group_id: str) -> ErrorCode:
        if not self.loaded:
            return E.COORDINATOR_LOAD_IN_PROGRESS
        group = self.groups.get(group_id)
        if group is None or group.is_in(S.DEAD):
            return E.GROUP_ID_NOT_FOUND
        if not group.is_in(S.EMPTY):
            return E.NON_EMPTY_GROUP
        try:
            self._delete_group_records(group)
        except StoreError as e:
            return e.code
        return E.NONE

    def _delete_group_records(self, group: Group) -> None:
        from pystream.coordinator.records import offset_record

        records = [offset_record(group.group_id, t, p, None) for t, p in group.offsets]
        records.append(group_record(group.group_id, None))
        self._append(group.group_id, records)
        group.transition(S.DEAD, now_ms())
        self.groups.pop(group.group_id, None)
        self._cancel_join_timer(group)
        self._cancel_sync_timer(group)
        log.info("group %s deleted", group.group_id)
