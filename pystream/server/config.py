"""Broker configuration, spelled with Kafka's broker config names.

Values come from, in increasing precedence: the defaults below, a
`server.properties` file, and `-o key=value` overrides. Unknown names are
kept (and reported by DescribeConfigs) but a known name with a value of the
wrong type is an error that names the key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# name -> (type, default). Types: int, bool, str, list (comma separated).
BROKER_CONFIG_DEFS: dict[str, tuple[type, Any]] = {
    "node.id": (int, -1),
    "broker.id": (int, -1),
    "log.dirs": (str, "./pystream-data"),
    "listeners": (str, "PLAINTEXT://127.0.0.1:9092"),
    "advertised.listeners": (str, ""),
    "num.partitions": (int, 1),
    "default.replication.factor": (int, 1),
    "auto.create.topics.enable": (bool, True),
    "delete.topic.enable": (bool, True),
    "message.max.bytes": (int, 1048588),
    "socket.request.max.bytes": (int, 104857600),
    "max.connections": (int, 10000),
    # SO_SNDBUF / SO_RCVBUF of client sockets; -1 leaves them to the OS (autotuning).
    # Kafka defaults to 102400 for both. Measured (docs/broker.md "Socket buffers"):
    # a 256 KiB send buffer served fetches faster and cheaper than Kafka's 100 KiB or
    # the OS's multi-megabyte autotuning; Kafka's receive size made 1 MiB produce
    # requests slower, so receiving stays with the OS.
    "socket.send.buffer.bytes": (int, 262144),
    "socket.receive.buffer.bytes": (int, -1),
    "connections.max.idle.ms": (int, 600000),
    "queued.max.requests": (int, 500),
    "log.segment.bytes": (int, 1073741824),
    "log.roll.ms": (int, 604800000),
    "log.retention.ms": (int, 604800000),
    "log.retention.bytes": (int, -1),
    "log.retention.check.interval.ms": (int, 300000),
    "log.flush.interval.messages": (int, 9223372036854775807),
    "log.flush.interval.ms": (int, 9223372036854775807),
    "log.flush.scheduler.interval.ms": (int, 9223372036854775807),
    "log.flush.offset.checkpoint.interval.ms": (int, 60000),
    "log.index.interval.bytes": (int, 4096),
    "log.index.size.max.bytes": (int, 10485760),
    "log.message.timestamp.type": (str, "CreateTime"),
    "log.cleanup.policy": (str, "delete"),
    "compression.type": (str, "producer"),
    "min.insync.replicas": (int, 1),
    "offsets.topic.num.partitions": (int, 50),
    "offsets.topic.replication.factor": (int, 1),
    "offsets.retention.minutes": (int, 10080),
    "offsets.retention.check.interval.ms": (int, 600000),
    "group.initial.rebalance.delay.ms": (int, 3000),
    "group.min.session.timeout.ms": (int, 6000),
    "group.max.session.timeout.ms": (int, 1800000),
    "group.max.size": (int, 2147483647),
    "transactional.id.expiration.ms": (int, 604800000),
    "producer.id.expiration.ms": (int, 86400000),
    "replica.fetch.max.bytes": (int, 1048576),
    "fetch.max.bytes": (int, 57671680),
    "max.incremental.fetch.session.cache.slots": (int, 1000),
    "request.timeout.ms": (int, 30000),
    "cluster.id": (str, ""),
    # pystream's own: a cap on partitions per topic, so a CreateTopics or
    # CreatePartitions request cannot make the broker allocate without bound.
    "topic.max.partitions": (int, 10000),
}

# Broker log.* names -> the topic-level names the log layer uses.
TOPIC_DEFAULTS_FROM_BROKER: dict[str, str] = {
    "log.segment.bytes": "segment.bytes",
    "log.roll.ms": "segment.ms",
    "log.retention.ms": "retention.ms",
    "log.retention.bytes": "retention.bytes",
    "log.flush.interval.messages": "flush.messages",
    "log.flush.interval.ms": "flush.ms",
    "log.index.interval.bytes": "index.interval.bytes",
    "log.index.size.max.bytes": "segment.index.bytes",
    "log.message.timestamp.type": "message.timestamp.type",
    "log.cleanup.policy": "cleanup.policy",
    "message.max.bytes": "max.message.bytes",
    "compression.type": "compression.type",
    "min.insync.replicas": "min.insync.replicas",
}


class ConfigError(ValueError):
    """A configuration value that cannot be used; the message names the key."""


def _convert(key: str, kind: type, raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    try:
        if kind is bool:
            low = text.lower()
            if low not in ("true", "false"):
                raise ValueError(text)
            return low == "true"
        if kind is int:
            return int(text)
    except ValueError:
        raise ConfigError(f"{key}: expected {kind.__name__}, got {raw!r}") from None
    return text


def parse_properties(text: str) -> dict[str, str]:
    """Parses Java `.properties` text (the subset Kafka's files use)."""
    out: dict[str, str] = {}
    pending = ""
    for raw_line in text.splitlines():
        line = pending + raw_line.strip()
        pending = ""
        if not line or line[0] in "#!":
            continue
        if line.endswith("\\"):
            pending = line[:-1]
            continue
        for i, ch in enumerate(line):
            if ch in "=:":
                key, value = line[:i].strip(), line[i + 1 :].strip()
                break
        else:
            key, value = line, ""
        out[key] = value
    return out


def parse_override(item: str) -> tuple[str, str]:
    """Parses one `key=value` CLI override."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {item!r}: expected key=value")
    return key.strip(), value.strip()


@dataclass(frozen=True)
class Listener:
    name: str
    host: str
    port: int

    @classmethod
    def parse(cls, spec: str) -> Listener:
        """Accepts `HOST:PORT`, `NAME://HOST:PORT` and `[v6]:PORT`."""
        name = "PLAINTEXT"
        rest = spec.strip()
        if "://" in rest:
            name, rest = rest.split("://", 1)
        host, sep, port_s = rest.rpartition(":")
        if not sep:
            raise ConfigError(f"listener {spec!r}: expected HOST:PORT")
        host = host.strip("[]")
        try:
            port = int(port_s)
        except ValueError:
            raise ConfigError(f"listener {spec!r}: port must be a number") from None
        if not 0 <= port <= 65535:
            raise ConfigError(f"listener {spec!r}: port out of range")
        return cls(name.upper(), host, port)


class BrokerConfig:
    """Typed view of the broker's settings; `values` keeps every name given."""

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        merged: dict[str, Any] = {k: d for k, (_, d) in BROKER_CONFIG_DEFS.items()}
        self.explicit: set[str] = set()
        for key, raw in (values or {}).items():
            kind = BROKER_CONFIG_DEFS.get(key, (str, None))[0]
            merged[key] = _convert(key, kind, raw)
            self.explicit.add(key)
        self.values = merged
        self._validate()

    @classmethod
    def load(
        cls, properties_file: str | Path | None = None, overrides: Iterable[str] = ()
    ) -> BrokerConfig:
        values: dict[str, Any] = {}
        if properties_file is not None:
            path = Path(properties_file)
            try:
                values.update(parse_properties(path.read_text()))
            except OSError as e:
                raise ConfigError(f"cannot read {path}: {e.strerror}") from None
        for item in overrides:
            key, value = parse_override(item)
            values[key] = value
        return cls(values)

    def _validate(self) -> None:
        for key in ("message.max.bytes", "socket.request.max.bytes", "num.partitions"):
            if self.values[key] <= 0:
                raise ConfigError(f"{key} must be positive")
        for key in ("socket.send.buffer.bytes", "socket.receive.buffer.bytes"):
            if self.values[key] == 0 or self.values[key] < -1:
                raise ConfigError(f"{key} must be positive, or -1 for the OS default")
        if self.values["log.segment.bytes"] < 14:
            raise ConfigError("log.segment.bytes must be at least 14")

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    @property
    def listener(self) -> Listener:
        return Listener.parse(self.values["listeners"].split(",")[0])

    @property
    def advertised_listener(self) -> Listener:
        adv = self.values["advertised.listeners"]
        return Listener.parse(adv.split(",")[0]) if adv else self.listener

    @property
    def data_dir(self) -> Path:
        return Path(self.values["log.dirs"].split(",")[0])

    def topic_defaults(self) -> dict[str, Any]:
        """Topic-level defaults (Kafka's topic config names) from broker settings."""
        return {topic: self.values[broker] for broker, topic in TOPIC_DEFAULTS_FROM_BROKER.items()}
