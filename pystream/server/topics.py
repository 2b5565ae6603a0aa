"""The broker's topic registry: names, topic ids, partitions, topic configs.

On a single node the data dir is the metadata: a topic is the set of its
`<topic>-<n>/` partition dirs, each holding Kafka's `partition.metadata`
(`version: 0`, `topic_id: <uuid>`); topic configs are stored by the log
manager. Creating, deleting and growing topics goes through here so the
in-memory view and the disk agree.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pystream.protocol.errors import ErrorCode
from pystream.server.config import BrokerConfig
from pystream.server.partition import Partition
from pystream.storage import LogManager

if TYPE_CHECKING:
    from pystream.server.broker import Broker

log = logging.getLogger(__name__)

MAX_TOPIC_NAME = 249
_LEGAL = re.compile(r"[a-zA-Z0-9._-]+")  # fullmatch: `$` would let a trailing newline in
INTERNAL_TOPICS = frozenset({"__consumer_offsets", "__transaction_state"})


class TopicError(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def validate_topic_name(name: str) -> None:
    if not name:
        raise TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION, "topic name is empty")
    if name in (".", ".."):
        raise TopicError(ErrorCode.INVALID_TOPIC_EXCEPTION, f"topic name {name!r} is illegal")
    if len(name) > MAX_TOPIC_NAME:
        raise TopicError(
            ErrorCode.INVALID_TOPIC_EXCEPTION, f"topic name is longer than {MAX_TOPIC_NAME}"
        )
    if not _LEGAL.fullmatch(name):
        raise TopicError(
            ErrorCode.INVALID_TOPIC_EXCEPTION,
            f"topic name {name!r} has characters other than ASCII alphanumerics, '.', '_' and '-'",
        )


@dataclass
class Topic:
    name: str
    topic_id: uuid.UUID
    partitions: list[Partition] = field(default_factory=list)

    @property
    def is_internal(self) -> bool:
        return self.name in INTERNAL_TOPICS


def _write_partition_metadata(path: Path, topic_id: uuid.UUID) -> None:
    target = path / "partition.metadata"
    tmp = path / "partition.metadata.tmp"
    with open(tmp, "w") as f:
        f.write(f"version: 0\ntopic_id: {_uuid_text(topic_id)}\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, target)


def _uuid_text(u: uuid.UUID) -> str:
    import base64

    return base64.urlsafe_b64encode(u.bytes).rstrip(b"=").decode()


def _read_partition_metadata(path: Path) -> uuid.UUID | None:
    import base64

    try:
        for line in (path / "partition.metadata").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "topic_id":
                raw = value.strip()
                return uuid.UUID(bytes=base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (OSError, ValueError):
        return None
    return None


class TopicRegistry:
    def __init__(self, config: BrokerConfig, logs: LogManager) -> None:
        self.config = config
        self.logs = logs
        self.topics: dict[str, Topic] = {}
        self._creating: set[str] = set()  # names being created off the event loop
        self._last_retention = time.monotonic()
        self._last_checkpoint = time.monotonic()

    @classmethod
    def open(cls, config: BrokerConfig) -> TopicRegistry:
        logs = LogManager(config.data_dir, config.topic_defaults())
        reg = cls(config, logs)
        by_topic: dict[str, list[int]] = {}
        for tname, index in logs.partitions():
            by_topic.setdefault(tname, []).append(index)
        for name, found in sorted(by_topic.items()):
            # Partitions are numbered 0..n-1; after a gap nothing is served.
            present = set(found)
            indexes: list[int] = []
            while len(indexes) in present:
                indexes.append(len(indexes))
            if len(indexes) != len(found):
                log.warning(
                    "topic %s has partitions %s: only 0..%d are served",
                    name,
                    sorted(found),
                    len(indexes) - 1,
                )
            if not indexes:
                continue
            topic_id = None
            for i in indexes:
                topic_id = topic_id or _read_partition_metadata(logs.partition_dir(name, i))
            topic = Topic(name, topic_id or uuid.uuid4())
            for i in indexes:
                pdir = logs.partition_dir(name, i)
                if _read_partition_metadata(pdir) != topic.topic_id:
                    _write_partition_metadata(pdir, topic.topic_id)
                topic.partitions.append(Partition.open(name, i, logs.get(name, i), pdir, config))
            reg.topics[name] = topic
        return reg

    def get(self, name: str) -> Topic | None:
        return self.topics.get(name)

    def partition(self, name: str, index: int) -> Partition | None:
        topic = self.topics.get(name)
        if topic is None or not 0 <= index < len(topic.partitions):
            return None
        return topic.partitions[index]

    def by_id(self, topic_id: uuid.UUID) -> Topic | None:
        for topic in self.topics.values():
            if topic.topic_id == topic_id:
                return topic
        return None

    def create(
        self, name: str, num_partitions: int, configs: dict[str, str] | None = None
    ) -> Topic:
        """Creates a topic here and now (tools, tests); the broker uses `create_async`."""
        self._check_new(name, num_partitions)
        return self._register(self._build(name, num_partitions, configs))

    async def create_async(
        self,
        name: str,
        num_partitions: int,
        configs: dict[str, str] | None,
        run_blocking: Callable[..., Awaitable[Any]],
    ) -> Topic:
        """Creates a topic with its directories and files made off the event loop.

        Each partition costs a few files and an fsync; a topic of hundreds of
        partitions (or the 50 of `__consumer_offsets`) must not stall every
        connection meanwhile. The name is reserved until the topic appears,
        so a concurrent create of it gets TOPIC_ALREADY_EXISTS.
        """
        self._check_new(name, num_partitions)
        self._creating.add(name)
        try:
            topic: Topic = await run_blocking(self._build, name, num_partitions, configs)
        finally:
            self._creating.discard(name)
        return self._register(topic)

    def _check_new(self, name: str, num_partitions: int) -> None:
        validate_topic_name(name)
        if name in self.topics or name in self._creating:
            raise TopicError(ErrorCode.TOPIC_ALREADY_EXISTS, f"topic {name!r} already exists")
        self.check_partition_count(num_partitions)

    def _build(self, name: str, num_partitions: int, configs: dict[str, str] | None) -> Topic:
        try:
            self.logs.set_topic_config(name, dict(configs or {}))
        except ValueError as e:
            raise TopicError(ErrorCode.INVALID_CONFIG, str(e)) from None
        topic = Topic(name, uuid.uuid4())
        self._add_partitions(topic, num_partitions)
        return topic

    def _register(self, topic: Topic) -> Topic:
        self.topics[topic.name] = topic
        log.info("created topic %s with %d partitions", topic.name, len(topic.partitions))
        return topic

    def check_partition_count(self, total: int) -> None:
        if total <= 0:
            raise TopicError(ErrorCode.INVALID_PARTITIONS, "number of partitions must be positive")
        cap = self.config["topic.max.partitions"]
        if total > cap:
            raise TopicError(
                ErrorCode.INVALID_PARTITIONS,
                f"{total} partitions is more than topic.max.partitions ({cap})",
            )

    def _add_partitions(self, topic: Topic, total: int) -> None:
        for i in range(len(topic.partitions), total):
            plog = self.logs.create(topic.name, i)
            pdir = self.logs.partition_dir(topic.name, i)
            _write_partition_metadata(pdir, topic.topic_id)
            topic.partitions.append(Partition.open(topic.name, i, plog, pdir, self.config))

    def add_partitions(self, name: str, total: int) -> None:
        topic = self.topics.get(name)
        if topic is None:
            raise TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"topic {name!r} does not exist")
        if total <= len(topic.partitions):
            raise TopicError(
                ErrorCode.INVALID_PARTITIONS,
                f"topic {name!r} has {len(topic.partitions)} partitions; {total} is not more",
            )
        self.check_partition_count(total)
        self._add_partitions(topic, total)

    def delete(self, name: str) -> Topic:
        topic = self.topics.pop(name, None)
        if topic is None:
            raise TopicError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, f"topic {name!r} does not exist")
        for p in topic.partitions:
            p.close_waiters()
            self.logs.delete(name, p.index)
        self.logs.delete_topic_config(name)
        log.info("deleted topic %s", name)
        return topic

    def topic_config(self, name: str) -> dict[str, Any]:
        return self.logs.topic_config(name)

    def set_topic_config(self, name: str, configs: dict[str, str]) -> None:
        try:
            self.logs.set_topic_config(name, configs)
        except ValueError as e:
            raise TopicError(ErrorCode.INVALID_CONFIG, str(e)) from None
        for p in self.topics[name].partitions:
            p.reload_config(self.logs.topic_config(name))

    async def housekeeping(self, broker: Broker) -> None:
        now = time.monotonic()
        interval = self.config["log.retention.check.interval.ms"] / 1000
        if now - self._last_retention >= interval:
            self._last_retention = now
            await broker.run_blocking(self.logs.enforce_retention)
        await broker.run_blocking(self.logs.flush_dirty)
        checkpoint_every = self.config["log.flush.offset.checkpoint.interval.ms"] / 1000
        if now - self._last_checkpoint >= checkpoint_every:
            self._last_checkpoint = now
            await broker.run_blocking(self.logs.checkpoint)
            for topic in list(self.topics.values()):
                for p in topic.partitions:
                    p.maybe_snapshot_producers()

    def close(self) -> None:
        for topic in self.topics.values():
            for p in topic.partitions:
                p.close()
        self.logs.close()
