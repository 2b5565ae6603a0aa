"""The group coordinator's settings, read from Kafka's broker config names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Kafka's GroupCoordinator constant: how long a member that joined (and is
# waiting for the round to end) may go unheard before it is dropped.
NEW_MEMBER_JOIN_TIMEOUT_MS = 5 * 60 * 1000


@dataclass(frozen=True)
class CoordinatorConfig:
    min_session_timeout_ms: int = 6000
    max_session_timeout_ms: int = 1800000
    initial_rebalance_delay_ms: int = 3000
    max_group_size: int = 2147483647
    offsets_partitions: int = 50
    offsets_retention_ms: int = 10080 * 60 * 1000
    offsets_retention_check_interval_ms: int = 600000
    offset_metadata_max_bytes: int = 4096
    new_member_join_timeout_ms: int = NEW_MEMBER_JOIN_TIMEOUT_MS
    # Compaction of __consumer_offsets (see compaction.py).
    compaction_min_records: int = 10000
    compaction_min_ratio: float = 0.5

    @classmethod
    def from_broker(cls, config: Any) -> CoordinatorConfig:
        """From a BrokerConfig (or any mapping with `get`)."""

        def num(key: str, default: int) -> int:
            value = config.get(key, default)
            return default if value is None else int(value)

        return cls(
            min_session_timeout_ms=num("group.min.session.timeout.ms", 6000),
            max_session_timeout_ms=num("group.max.session.timeout.ms", 1800000),
            initial_rebalance_delay_ms=num("group.initial.rebalance.delay.ms", 3000),
            max_group_size=num("group.max.size", 2147483647),
            offsets_partitions=max(1, num("offsets.topic.num.partitions", 50)),
            offsets_retention_ms=num("offsets.retention.minutes", 10080) * 60 * 1000,
            offsets_retention_check_interval_ms=num("offsets.retention.check.interval.ms", 600000),
            offset_metadata_max_bytes=num("offset.metadata.max.bytes", 4096),
            compaction_min_ratio=float(config.get("log.cleaner.min.cleanable.ratio", 0.5) or 0.5),
        )
