"""Topic-level log configs under Kafka's names: defaults, parsing, validation.

`LogConfig` holds the settings the log acts on, typed and checked against
Kafka's bounds; other Kafka topic configs (`compression.type`,
`min.insync.replicas`, ...) ride along in `extra` as given, so the broker can
store and describe them. Unknown names are refused, as Kafka does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LONG_MAX = 2**63 - 1
INT_MAX = 2**31 - 1

TIMESTAMP_TYPES = ("CreateTime", "LogAppendTime")
CLEANUP_POLICIES = ("compact", "delete")

# Kafka topic configs that this module does not act on but accepts.
OTHER_TOPIC_CONFIGS = frozenset(
    {
        "compression.type",
        "compression.gzip.level",
        "compression.lz4.level",
        "compression.zstd.level",
        "delete.retention.ms",
        "file.delete.delay.ms",
        "follower.replication.throttled.replicas",
        "leader.replication.throttled.replicas",
        "local.retention.bytes",
        "local.retention.ms",
        "max.compaction.lag.ms",
        "message.downconversion.enable",
        "message.format.version",
        "message.timestamp.after.max.ms",
        "message.timestamp.before.max.ms",
        "message.timestamp.difference.max.ms",
        "min.cleanable.dirty.ratio",
        "min.compaction.lag.ms",
        "min.insync.replicas",
        "preallocate",
        "remote.storage.enable",
        "remote.log.copy.disable",
        "remote.log.delete.on.disable",
        "segment.jitter.ms",
        "unclean.leader.election.enable",
    }
)

# Topic config name -> the broker setting that supplies its default.
BROKER_DEFAULT_FOR = {
    "segment.bytes": "log.segment.bytes",
    "segment.ms": "log.roll.ms",
    "retention.bytes": "log.retention.bytes",
    "retention.ms": "log.retention.ms",
    "flush.messages": "log.flush.interval.messages",
    "flush.ms": "log.flush.interval.ms",
    "index.interval.bytes": "log.index.interval.bytes",
    "segment.index.bytes": "log.index.size.max.bytes",
    "message.timestamp.type": "log.message.timestamp.type",
    "cleanup.policy": "log.cleanup.policy",
    "max.message.bytes": "message.max.bytes",
}

# Kafka name -> (attribute, lowest value, highest value) for integer configs.
_INTS: dict[str, tuple[str, int, int]] = {
    "segment.bytes": ("segment_bytes", 14, INT_MAX),
    "segment.ms": ("segment_ms", 1, LONG_MAX),
    "retention.bytes": ("retention_bytes", -(2**63), LONG_MAX),
    "retention.ms": ("retention_ms", -1, LONG_MAX),
    "flush.messages": ("flush_messages", 1, LONG_MAX),
    "flush.ms": ("flush_ms", 0, LONG_MAX),
    "index.interval.bytes": ("index_interval_bytes", 0, INT_MAX),
    "segment.index.bytes": ("segment_index_bytes", 4, INT_MAX),
    "max.message.bytes": ("max_message_bytes", 0, INT_MAX),
}


def _parse_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, not {value!r}")
    try:
        n = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {value!r}") from None
    if not low <= n <= high:
        raise ValueError(f"{name} must be in [{low}, {high}], not {n}")
    return n


def _parse_policy(value: Any) -> str:
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    policies = [str(p).strip() for p in items if str(p).strip()]
    bad = [p for p in policies if p not in CLEANUP_POLICIES]
    if bad or not policies:
        raise ValueError(f"cleanup.policy must be a list of {CLEANUP_POLICIES}, not {value!r}")
    return ",".join(policies)


@dataclass(frozen=True)
class LogConfig:
    """One topic's effective log config (Kafka's defaults unless overridden)."""

    segment_bytes: int = 1 << 30
    segment_ms: int = 7 * 24 * 3600 * 1000
    retention_bytes: int = -1
    retention_ms: int = 7 * 24 * 3600 * 1000
    flush_messages: int = LONG_MAX
    flush_ms: int = LONG_MAX
    index_interval_bytes: int = 4096
    segment_index_bytes: int = 10 * 1024 * 1024
    message_timestamp_type: str = "CreateTime"
    cleanup_policy: str = "delete"
    max_message_bytes: int = 1048588
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, props: Mapping[str, Any], base: LogConfig | None = None) -> LogConfig:
        """`base` (default: Kafka's defaults) with `props` (Kafka names,
        values as strings or typed) applied. Raises `ValueError` naming the
        offending config."""
        base = base or cls()
        changes: dict[str, Any] = {}
        extra = dict(base.extra)
        for name, value in props.items():
            if name in _INTS:
                attr, low, high = _INTS[name]
                changes[attr] = _parse_int(name, value, low, high)
            elif name == "message.timestamp.type":
                if str(value) not in TIMESTAMP_TYPES:
                    raise ValueError(f"message.timestamp.type must be one of {TIMESTAMP_TYPES}")
                changes["message_timestamp_type"] = str(value)
            elif name == "cleanup.policy":
                changes["cleanup_policy"] = _parse_policy(value)
            elif name in OTHER_TOPIC_CONFIGS:
                extra[name] = value
            else:
                raise ValueError(f"unknown topic config {name!r}")
        return dataclasses.replace(base, extra=extra, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Every setting under its Kafka name."""
        out: dict[str, Any] = {name: getattr(self, attr) for name, (attr, _, _) in _INTS.items()}
        out["message.timestamp.type"] = self.message_timestamp_type
        out["cleanup.policy"] = self.cleanup_policy
        out.update(self.extra)
        return out

    @property
    def deletes(self) -> bool:
        """Whether time/size retention applies (`cleanup.policy` has `delete`)."""
        return "delete" in self.cleanup_policy.split(",")

    def native_kwargs(self) -> dict[str, int]:
        """Keyword arguments for `_native.PartitionLog.open/update_config`."""
        return {
            "segment_bytes": self.segment_bytes,
            "segment_ms": self.segment_ms,
            "segment_index_bytes": self.segment_index_bytes,
            "index_interval_bytes": self.index_interval_bytes,
            "retention_bytes": self.retention_bytes if self.deletes else -1,
            "retention_ms": self.retention_ms if self.deletes else -1,
            "flush_messages": self.flush_messages,
            "flush_ms": self.flush_ms,
        }
