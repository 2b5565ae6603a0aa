"""Committed offsets: OffsetCommit, OffsetFetch, OffsetDelete and expiry.

Part of the `GroupCoordinator` (see coordinator.py). A commit is written to `__consumer_offsets` first and
only then becomes visible, so what a fetch returns survives a restart.

Expiry (`offsets.retention.minutes`, as Kafka since KIP-211): offsets of an
Empty group expire a retention period after the group became empty
(after their commit for groups that never had members); offsets of a
Stable consumer group expire for topics no member subscribes to any more;
a v1 value's explicit expire timestamp wins. An Empty group left without
offsets is removed.
"""

from __future__ import annotations

import asyncio
import logging
import time

from pystream.coordinator.group import Group, GroupState
from pystream.coordinator.rebalance import Rebalancing
from pystream.coordinator.records import OffsetAndMetadata, group_record, offset_record
from pystream.coordinator.results import CommitRequestPartition, CoordinatorError, PartitionOffset
from pystream.coordinator.store import StoreError
from pystream.protocol.errors import ErrorCode

log = logging.getLogger(__name__)

S = GroupState
E = ErrorCode
TopicPartition = tuple[str, int]


def _now_ms() -> int:
    return int(time.time() * 1000)


class OffsetManagement(Rebalancing):
    """Offset commit, fetch, delete and expiry, on top of group membership."""

    # ---- OffsetCommit ----
    def commit_offsets(
        self,
        group_id: str,
        generation_id: int,
        member_id: str,
        instance_id: str | None,
        partitions: list[CommitRequestPartition],
        retention_ms: int = -1,
        api_version: int = 8,
    ) -> list[ErrorCode]:
        """One error per partition, in order."""
        try:
            self._check_loaded()
            group = self._group_for_commit(group_id, generation_id, member_id, api_version)
            if group is not None:
                self._validate_commit(group, generation_id, member_id, instance_id)
        except CoordinatorError as e:
            return [e.code] * len(partitions)
        now = _now_ms()
        errors: list[ErrorCode] = []
        accepted: dict[TopicPartition, OffsetAndMetadata] = {}
        for p in partitions:
            metadata = p.metadata or ""
            if len(metadata.encode()) > self.config.offset_metadata_max_bytes:
                errors.append(E.OFFSET_METADATA_TOO_LARGE)
                continue
            errors.append(E.NONE)
            commit_ts = p.commit_timestamp if p.commit_timestamp >= 0 else now
            accepted[(p.topic, p.partition)] = OffsetAndMetadata(
                offset=p.offset,
                leader_epoch=p.leader_epoch,
                metadata=metadata,
                commit_timestamp=commit_ts,
                expire_timestamp=commit_ts + retention_ms if retention_ms >= 0 else -1,
            )
        if not accepted:
            return errors
        if group is None:
            group = self.groups[group_id] = Group(group_id, now)
        records = [offset_record(group_id, t, p, om) for (t, p), om in accepted.items()]
        try:
            self._append(group_id, records)
        except StoreError as e:
            return [e.code if err == E.NONE else err for err in errors]
        group.offsets.update(accepted)
        return errors

    def _group_for_commit(
        self, group_id: str, generation_id: int, member_id: str, version: int
    ) -> Group | None:
        group = self.groups.get(group_id)
        if group is not None:
            return group
        if generation_id < 0 and not member_id:
            return None  # a commit outside group management: the group is created
        # Kafka: a commit naming a generation of a group it does not know.
        raise CoordinatorError(E.GROUP_ID_NOT_FOUND if version >= 9 else E.ILLEGAL_GENERATION)

    def _validate_commit(
        self,
        group: Group,
        generation_id: int,
        member_id: str,
        instance_id: str | None,
    ) -> None:
        """Kafka's ClassicGroup.validateOffsetCommit."""
        if group.is_in(S.DEAD):
            raise CoordinatorError(E.COORDINATOR_NOT_AVAILABLE)
        if generation_id < 0 and group.is_in(S.EMPTY):
            return  # an admin or a consumer without group management
        if generation_id >= 0 or member_id or instance_id is not None:
            self.validate_member(group, member_id, instance_id)
            if generation_id != group.generation_id:
                raise CoordinatorError(E.ILLEGAL_GENERATION)
        elif not group.is_in(S.EMPTY):
            raise CoordinatorError(E.UNKNOWN_MEMBER_ID)
        if group.is_in(S.COMPLETING_REBALANCE):
            # The member knows the new generation but not yet its assignment.
            raise CoordinatorError(E.REBALANCE_IN_PROGRESS)
        member = group.members.get(member_id)
        if member is not None:
            self._schedule_session(group, member)

    # ---- OffsetFetch ----
    def fetch_offsets(
        self, group_id: str, partitions: list[TopicPartition] | None
    ) -> tuple[ErrorCode, list[PartitionOffset]]:
        """(group error, offsets); `partitions` None means every committed partition."""
        if not self.loaded:
            return E.COORDINATOR_LOAD_IN_PROGRESS, []
        group = self.groups.get(group_id)
        offsets = {} if group is None or group.is_in(S.DEAD) else group.offsets
        if partitions is None:
            partitions = sorted(offsets)
        out = []
        for topic, partition in partitions:
            om = offsets.get((topic, partition))
            if om is None:
                out.append(PartitionOffset(topic, partition, -1, -1, ""))
            else:
                out.append(
                    PartitionOffset(topic, partition, om.offset, om.leader_epoch, om.metadata)
                )
        return E.NONE, out

    # ---- OffsetDelete ----
    def delete_offsets(
        self, group_id: str, partitions: list[TopicPartition]
    ) -> tuple[ErrorCode, list[ErrorCode]]:
        if not self.loaded:
            return E.COORDINATOR_LOAD_IN_PROGRESS, []
        if not group_id:
            return E.INVALID_GROUP_ID, []
        group = self.groups.get(group_id)
        if group is None or group.is_in(S.DEAD):
            return E.GROUP_ID_NOT_FOUND, []
        subscribed: set[str] = set()
        if not group.is_in(S.EMPTY):
            found = group.subscribed_topics()
            if found is None:
                # Members whose subscriptions we cannot read: Kafka refuses.
                return E.NON_EMPTY_GROUP, []
            subscribed = found
        errors = []
        gone: list[TopicPartition] = []
        for tp in partitions:
            if tp[0] in subscribed:
                errors.append(E.GROUP_SUBSCRIBED_TO_TOPIC)
            else:
                errors.append(E.NONE)
                if tp in group.offsets:
                    gone.append(tp)
        if gone:
            try:
                self._append(group_id, [offset_record(group_id, t, p, None) for t, p in gone])
            except StoreError as e:
                return e.code, []
            for tp in gone:
                group.offsets.pop(tp, None)
        return E.NONE, errors

    # ---- expiry ----
    async def _expiry_loop(self) -> None:
        interval = max(self.config.offsets_retention_check_interval_ms, 10) / 1000
        while True:
            await asyncio.sleep(interval)
            try:
                self.expire_offsets(_now_ms())
            except Exception:  # keep the loop alive; the next round retries
                log.exception("offset expiry failed")

    def expire_offsets(self, now: int) -> int:
        """Removes expired offsets (and groups left with nothing); returns the count."""
        retention = self.config.offsets_retention_ms
        removed = 0
        for group in list(self.groups.values()):
            if group.is_in(S.DEAD):
                continue
            expired = [
                tp for tp, om in group.offsets.items() if _expired(group, tp, om, now, retention)
            ]
            records = [offset_record(group.group_id, t, p, None) for t, p in expired]
            drop_group = group.is_in(S.EMPTY) and len(expired) == len(group.offsets)
            if drop_group:
                records.append(group_record(group.group_id, None))
            if not records:
                continue
            try:
                self._append(group.group_id, records)
            except StoreError as e:
                log.warning("group %s: could not expire offsets: %s", group.group_id, e)
                continue
            for tp in expired:
                del group.offsets[tp]
            removed += len(expired)
            if drop_group:
                group.transition(S.DEAD, now)
                del self.groups[group.group_id]
                log.info("group %s expired", group.group_id)
        return removed


def _expired(
    group: Group, tp: TopicPartition, om: OffsetAndMetadata, now: int, retention: int
) -> bool:
    if om.expire_timestamp >= 0:
        return now >= om.expire_timestamp
    if group.is_in(S.EMPTY):
        base = om.commit_timestamp
        if group.protocol_type is not None and group.state_timestamp >= 0:
            base = group.state_timestamp
        return now - base >= retention
    if group.is_in(S.STABLE) and group.protocol_type == "consumer":
        subscribed = group.subscribed_topics()
        if subscribed is not None and tp[0] not in subscribed:
            return now - om.commit_timestamp >= retention
    return False
