"""`pystream topics`: create, list, describe, alter and delete topics (kafka-topics)."""

from __future__ import annotations

import click

from pystream.cli.common import bootstrap_option, parse_kv, run_async
from pystream.client import Admin, Cluster


@click.group("topics")
def topics() -> None:
    """Manage topics on any Kafka-compatible broker."""


@topics.command("create")
@click.argument("topic")
@bootstrap_option
@click.option("--partitions", type=int, default=-1, help="default: the broker's num.partitions")
@click.option("--replication-factor", type=int, default=-1)
@click.option("--config", "configs", multiple=True, metavar="KEY=VALUE")
@click.option("--if-not-exists", is_flag=True)
@run_async
async def create(
    topic: str,
    bootstrap: str,
    partitions: int,
    replication_factor: int,
    configs: tuple[str, ...],
    if_not_exists: bool,
) -> None:
    """Create TOPIC."""
    from pystream.client.cluster import KafkaError

    cluster = Cluster(bootstrap)
    try:
        try:
            await Admin(cluster).create_topic(
                topic, partitions, replication_factor, parse_kv(configs, "--config")
            )
        except KafkaError as e:
            if not (if_not_exists and e.name == "TOPIC_ALREADY_EXISTS"):
                raise
        click.echo(f"Created topic {topic}.")
    finally:
        await cluster.close()


@topics.command("list")
@bootstrap_option
@click.option("--include-internal", is_flag=True)
@run_async
async def list_(bootstrap: str, include_internal: bool) -> None:
    """List topic names."""
    cluster = Cluster(bootstrap)
    try:
        for name in await Admin(cluster).list_topics(include_internal):
            click.echo(name)
    finally:
        await cluster.close()


@topics.command("describe")
@click.argument("topic", required=False)
@bootstrap_option
@run_async
async def describe(topic: str | None, bootstrap: str) -> None:
    """Describe TOPIC (or every topic): partitions, leaders, configs."""
    cluster = Cluster(bootstrap)
    admin = Admin(cluster)
    try:
        for d in await admin.describe_topics([topic] if topic else None):
            configs = await admin.describe_topic_configs(d.name)
            overrides = ",".join(f"{k}={v}" for k, (v, src) in sorted(configs.items()) if src == 1)
            click.echo(
                f"Topic: {d.name}\tTopicId: {d.topic_id}\tPartitionCount: {len(d.partitions)}\t"
                f"ReplicationFactor: {len(d.partitions[0].replicas) if d.partitions else 0}\t"
                f"Configs: {overrides}"
            )
            for p in d.partitions:
                click.echo(
                    f"\tTopic: {d.name}\tPartition: {p.partition}\tLeader: {p.leader}\t"
                    f"Replicas: {','.join(map(str, p.replicas))}\tIsr: {','.join(map(str, p.isr))}"
                )
    finally:
        await cluster.close()


@topics.command("alter")
@click.argument("topic")
@bootstrap_option
@click.option("--partitions", type=int, default=None, help="new (larger) partition count")
@click.option("--config", "configs", multiple=True, metavar="KEY=VALUE", help="set a config")
@click.option("--delete-config", "deletes", multiple=True, metavar="KEY", help="remove an override")
@run_async
async def alter(
    topic: str,
    bootstrap: str,
    partitions: int | None,
    configs: tuple[str, ...],
    deletes: tuple[str, ...],
) -> None:
    """Alter TOPIC: add partitions, set or delete configs."""
    if partitions is None and not configs and not deletes:
        raise click.UsageError("nothing to alter: give --partitions, --config or --delete-config")
    cluster = Cluster(bootstrap)
    admin = Admin(cluster)
    try:
        if partitions is not None:
            await admin.create_partitions(topic, partitions)
        if configs or deletes:
            await admin.alter_topic_configs(topic, parse_kv(configs, "--config"), list(deletes))
        click.echo(f"Altered topic {topic}.")
    finally:
        await cluster.close()


@topics.command("delete")
@click.argument("topic")
@bootstrap_option
@run_async
async def delete(topic: str, bootstrap: str) -> None:
    """Delete TOPIC and its data."""
    cluster = Cluster(bootstrap)
    try:
        await Admin(cluster).delete_topic(topic)
        click.echo(f"Deleted topic {topic}.")
    finally:
        await cluster.close()
