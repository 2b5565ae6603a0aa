"""Cluster view for clients: bootstrap, metadata, one connection per broker."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field

from pystream.client.connection import BrokerConnection, KafkaConnectionError
from pystream.protocol.errors import ErrorCode
from pystream.protocol.messages.metadata import MetadataRequest, MetadataResponse


class KafkaError(Exception):
    """A Kafka error code returned by the broker, with its name."""

    def __init__(self, code: int, message: str | None = None, context: str = "") -> None:
        self.code = code
        try:
            name = ErrorCode(code).name
        except ValueError:
            name = f"error {code}"
        text = f"{context}: {name}" if context else name
        if message:
            text += f" ({message})"
        super().__init__(text)
        self.name = name


def parse_bootstrap(bootstrap: str | list[str]) -> list[tuple[str, int]]:
    items = bootstrap.split(",") if isinstance(bootstrap, str) else bootstrap
    out = []
    for item in items:
        item = item.strip()
        if "://" in item:
            item = item.split("://", 1)[1]
        host, sep, port = item.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"bootstrap server {item!r}: expected HOST:PORT")
        out.append((host.strip("[]"), int(port)))
    if not out:
        raise ValueError("no bootstrap servers given")
    return out


@dataclass
class TopicInfo:
    name: str
    topic_id: uuid.UUID
    partitions: dict[int, int] = field(default_factory=dict)  # partition -> leader
    is_internal: bool = False


class Cluster:
    def __init__(self, bootstrap: str | list[str], client_id: str = "pystream") -> None:
        self.bootstrap = parse_bootstrap(bootstrap)
        self.client_id = client_id
        self.brokers: dict[int, tuple[str, int]] = {}
        self.topics: dict[str, TopicInfo] = {}
        self.cluster_id: str | None = None
        self.controller_id = -1
        self._conns: dict[tuple[str, int], BrokerConnection] = {}
        self._lock = asyncio.Lock()

    async def connection(self, host: str, port: int) -> BrokerConnection:
        async with self._lock:
            conn = self._conns.get((host, port))
            if conn is None or conn._closed:
                conn = await BrokerConnection(host, port, self.client_id).connect()
                self._conns[(host, port)] = conn
            return conn

    async def any_connection(self) -> BrokerConnection:
        errors = []
        for host, port in [*self.brokers.values(), *self.bootstrap]:
            try:
                return await self.connection(host, port)
            except KafkaConnectionError as e:
                errors.append(str(e))
        raise KafkaConnectionError("; ".join(errors))

    async def broker_connection(self, node_id: int) -> BrokerConnection:
        if node_id not in self.brokers:
            await self.refresh()
        if node_id not in self.brokers:
            raise KafkaConnectionError(f"unknown broker {node_id}")
        return await self.connection(*self.brokers[node_id])

    async def refresh(
        self, topics: list[str] | None = None, auto_create: bool = False
    ) -> MetadataResponse:
        conn = await self.any_connection()
        request = MetadataRequest(
            topics=None
            if topics is None
            else [MetadataRequest.MetadataRequestTopic(name=t) for t in topics],
            allow_auto_topic_creation=auto_create,
        )
        response: MetadataResponse = await conn.request(request)
        self.brokers = {b.node_id: (b.host, b.port) for b in response.brokers}
        self.cluster_id = response.cluster_id
        self.controller_id = response.controller_id
        for t in response.topics:
            if t.error_code != 0 or t.name is None:
                if t.name in self.topics and t.error_code == ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
                    del self.topics[t.name]
                continue
            self.topics[t.name] = TopicInfo(
                name=t.name,
                topic_id=t.topic_id,
                partitions={p.partition_index: p.leader_id for p in t.partitions},
                is_internal=t.is_internal,
            )
        return response

    async def topic(self, name: str, auto_create: bool = False) -> TopicInfo:
        info = self.topics.get(name)
        if info is None:
            response = await self.refresh([name], auto_create)
            for t in response.topics:
                if t.name == name and t.error_code != 0:
                    raise KafkaError(t.error_code, context=f"topic {name}")
            info = self.topics.get(name)
        if info is None:
            raise KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, context=f"topic {name}")
        return info

    async def leader(self, topic: str, partition: int) -> BrokerConnection:
        info = await self.topic(topic)
        leader = info.partitions.get(partition, -1)
        if leader < 0:
            await self.refresh([topic])
            leader = self.topics[topic].partitions.get(partition, -1)
        if leader < 0:
            raise KafkaError(ErrorCode.LEADER_NOT_AVAILABLE, context=f"{topic}-{partition}")
        return await self.broker_connection(leader)

    async def controller(self) -> BrokerConnection:
        if self.controller_id < 0:
            await self.refresh([])
        if self.controller_id >= 0 and self.controller_id in self.brokers:
            return await self.broker_connection(self.controller_id)
        return await self.any_connection()

    async def close(self) -> None:
        for conn in list(self._conns.values()):
            await conn.close()
        self._conns.clear()
