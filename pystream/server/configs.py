"""Describing and altering topic and broker configs (Kafka's config model).

Shared by CreateTopics, DescribeConfigs, AlterConfigs and
IncrementalAlterConfigs: resource types, config sources and the rules for
SET/DELETE/APPEND/SUBTRACT.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from pystream.protocol.errors import ErrorCode
from pystream.server.config import BROKER_CONFIG_DEFS, TOPIC_DEFAULTS_FROM_BROKER, BrokerConfig
from pystream.server.topics import TopicError, TopicRegistry


class ResourceType(IntEnum):
    UNKNOWN = 0
    ANY = 1
    TOPIC = 2
    GROUP = 3
    BROKER = 4
    BROKER_LOGGER = 8


class ConfigSource(IntEnum):
    UNKNOWN = 0
    DYNAMIC_TOPIC_CONFIG = 1
    DYNAMIC_BROKER_CONFIG = 2
    DYNAMIC_DEFAULT_BROKER_CONFIG = 3
    STATIC_BROKER_CONFIG = 4
    DEFAULT_CONFIG = 5


class ConfigType(IntEnum):
    UNKNOWN = 0
    BOOLEAN = 1
    STRING = 2
    INT = 3
    SHORT = 4
    LONG = 5
    DOUBLE = 6
    LIST = 7


class AlterOp(IntEnum):
    SET = 0
    DELETE = 1
    APPEND = 2
    SUBTRACT = 3


LIST_CONFIGS = frozenset({"cleanup.policy"})


@dataclass
class ConfigEntry:
    name: str
    value: str | None
    source: ConfigSource
    read_only: bool = False
    config_type: ConfigType = ConfigType.STRING

    @property
    def is_default(self) -> bool:
        return self.source == ConfigSource.DEFAULT_CONFIG


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _type_of(value: Any, name: str) -> ConfigType:
    if name in LIST_CONFIGS:
        return ConfigType.LIST
    if isinstance(value, bool):
        return ConfigType.BOOLEAN
    if isinstance(value, int):
        return ConfigType.LONG if name.endswith((".ms", ".bytes", ".messages")) else ConfigType.INT
    return ConfigType.STRING


def describe_topic(registry: TopicRegistry, name: str, keys: list[str] | None) -> list[ConfigEntry]:
    if registry.get(name) is None:
        raise TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"topic {name!r} does not exist")
    effective = registry.topic_config(name)
    overrides = registry.logs.topic_overrides(name)
    broker_set = {
        TOPIC_DEFAULTS_FROM_BROKER[k]
        for k in registry.config.explicit
        if k in TOPIC_DEFAULTS_FROM_BROKER
    }
    out = []
    for key in sorted(effective):
        if keys is not None and key not in keys:
            continue
        value = effective[key]
        if key in overrides:
            source = ConfigSource.DYNAMIC_TOPIC_CONFIG
        elif key in broker_set:
            source = ConfigSource.STATIC_BROKER_CONFIG
        else:
            source = ConfigSource.DEFAULT_CONFIG
        out.append(ConfigEntry(key, _text(value), source, config_type=_type_of(value, key)))
    return out


def describe_broker(config: BrokerConfig, keys: list[str] | None) -> list[ConfigEntry]:
    out = []
    for key in sorted(config.values):
        if keys is not None and key not in keys:
            continue
        value = config.values[key]
        source = (
            ConfigSource.STATIC_BROKER_CONFIG
            if key in config.explicit
            else ConfigSource.DEFAULT_CONFIG
        )
        kind = BROKER_CONFIG_DEFS.get(key, (str, None))[0]
        ctype = {bool: ConfigType.BOOLEAN, int: ConfigType.LONG}.get(kind, ConfigType.STRING)
        out.append(ConfigEntry(key, _text(value), source, read_only=True, config_type=ctype))
    return out


def apply_incremental(
    current: dict[str, str], ops: list[tuple[str, int, str | None]]
) -> dict[str, str]:
    """Returns the new overrides after SET/DELETE/APPEND/SUBTRACT operations."""
    result = dict(current)
    for name, op, value in ops:
        try:
            kind = AlterOp(op)
        except ValueError:
            raise TopicError(ErrorCode.INVALID_REQUEST, f"unknown config operation {op}") from None
        if kind == AlterOp.SET:
            if value is None:
                raise TopicError(ErrorCode.INVALID_CONFIG, f"{name}: SET needs a value")
            result[name] = value
        elif kind == AlterOp.DELETE:
            result.pop(name, None)
        else:
            if name not in LIST_CONFIGS:
                raise TopicError(
                    ErrorCode.INVALID_CONFIG, f"{name}: {kind.name} applies to list configs only"
                )
            items = [v for v in (result.get(name) or "").split(",") if v]
            changes = [v for v in (value or "").split(",") if v]
            if kind == AlterOp.APPEND:
                items += [v for v in changes if v not in items]
            else:
                items = [v for v in items if v not in changes]
            result[name] = ",".join(items)
    return result
