"""Admin operations over the Kafka protocol: topics, partitions, configs."""

from __future__ import annotations

from dataclasses import dataclass, field

from pystream.client.cluster import Cluster, KafkaError
from pystream.protocol.api import ApiKey
from pystream.protocol.messages.create_partitions import CreatePartitionsRequest
from pystream.protocol.messages.create_topics import CreateTopicsRequest
from pystream.protocol.messages.delete_topics import DeleteTopicsRequest
from pystream.protocol.messages.describe_configs import DescribeConfigsRequest
from pystream.protocol.messages.incremental_alter_configs import IncrementalAlterConfigsRequest
from pystream.protocol.types import uuid_to_kafka_str

TOPIC_RESOURCE = 2
OP_SET, OP_DELETE = 0, 1


@dataclass
class PartitionDescription:
    partition: int
    leader: int
    replicas: list[int]
    isr: list[int]


@dataclass
class TopicDescription:
    name: str
    topic_id: str
    is_internal: bool
    partitions: list[PartitionDescription] = field(default_factory=list)


class Admin:
    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    async def create_topic(
        self,
        name: str,
        partitions: int = -1,
        replication_factor: int = -1,
        configs: dict[str, str] | None = None,
        validate_only: bool = False,
    ) -> None:
        req = CreateTopicsRequest(
            topics=[
                CreateTopicsRequest.CreatableTopic(
                    name=name,
                    num_partitions=partitions,
                    replication_factor=replication_factor,
                    assignments=[],
                    configs=[
                        CreateTopicsRequest.CreatableTopic.CreatableTopicConfig(name=k, value=v)
                        for k, v in (configs or {}).items()
                    ],
                )
            ],
            timeout_ms=30000,
            validate_only=validate_only,
        )
        conn = await self.cluster.controller()
        resp = await conn.request(req)
        for r in resp.topics:
            if r.error_code:
                raise KafkaError(r.error_code, r.error_message, context=f"create topic {name}")

    async def delete_topic(self, name: str) -> None:
        conn = await self.cluster.controller()
        version = conn.version_for(ApiKey.DELETE_TOPICS)
        if version >= 6:
            req = DeleteTopicsRequest(
                topics=[DeleteTopicsRequest.DeleteTopicState(name=name)], timeout_ms=30000
            )
        else:
            req = DeleteTopicsRequest(topic_names=[name], timeout_ms=30000)
        resp = await conn.request(req)
        for r in resp.responses:
            if r.error_code:
                raise KafkaError(r.error_code, r.error_message, context=f"delete topic {name}")
        self.cluster.topics.pop(name, None)

    async def list_topics(self, include_internal: bool = False) -> list[str]:
        await self.cluster.refresh()
        return sorted(
            t.name for t in self.cluster.topics.values() if include_internal or not t.is_internal
        )

    async def describe_topics(self, names: list[str] | None = None) -> list[TopicDescription]:
        resp = await self.cluster.refresh(names)
        out = []
        for t in resp.topics:
            if t.error_code:
                raise KafkaError(t.error_code, context=f"topic {t.name}")
            out.append(
                TopicDescription(
                    name=t.name or "",
                    topic_id=uuid_to_kafka_str(t.topic_id),
                    is_internal=t.is_internal,
                    partitions=[
                        PartitionDescription(
                            p.partition_index, p.leader_id, list(p.replica_nodes), list(p.isr_nodes)
                        )
                        for p in sorted(t.partitions, key=lambda p: p.partition_index)
                    ],
                )
            )
        return sorted(out, key=lambda d: d.name)

    async def create_partitions(self, name: str, total: int) -> None:
        req = CreatePartitionsRequest(
            topics=[
                CreatePartitionsRequest.CreatePartitionsTopic(
                    name=name, count=total, assignments=None
                )
            ],
            timeout_ms=30000,
            validate_only=False,
        )
        conn = await self.cluster.controller()
        resp = await conn.request(req)
        for r in resp.results:
            if r.error_code:
                raise KafkaError(r.error_code, r.error_message, context=f"alter topic {name}")

    async def describe_topic_configs(self, name: str) -> dict[str, tuple[str | None, int]]:
        """name -> (value, config source) for every config of the topic."""
        req = DescribeConfigsRequest(
            resources=[
                DescribeConfigsRequest.DescribeConfigsResource(
                    resource_type=TOPIC_RESOURCE, resource_name=name, configuration_keys=None
                )
            ],
        )
        conn = await self.cluster.any_connection()
        resp = await conn.request(req)
        out: dict[str, tuple[str | None, int]] = {}
        for r in resp.results:
            if r.error_code:
                raise KafkaError(r.error_code, r.error_message, context=f"describe configs {name}")
            for c in r.configs:
                out[c.name] = (c.value, c.config_source)
        return out

    async def alter_topic_configs(
        self, name: str, set_configs: dict[str, str], delete: list[str] | None = None
    ) -> None:
        Res = IncrementalAlterConfigsRequest.AlterConfigsResource
        Cfg = IncrementalAlterConfigsRequest.AlterConfigsResource.AlterableConfig
        configs = [Cfg(name=k, config_operation=OP_SET, value=v) for k, v in set_configs.items()]
        configs += [Cfg(name=k, config_operation=OP_DELETE, value=None) for k in delete or []]
        req = IncrementalAlterConfigsRequest(
            resources=[Res(resource_type=TOPIC_RESOURCE, resource_name=name, configs=configs)],
            validate_only=False,
        )
        conn = await self.cluster.any_connection()
        resp = await conn.request(req)
        for r in resp.responses:
            if r.error_code:
                raise KafkaError(r.error_code, r.error_message, context=f"alter configs {name}")
