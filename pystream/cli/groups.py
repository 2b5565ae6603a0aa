"""`pystream groups`: list, describe, delete consumer groups and reset their
offsets (kafka-consumer-groups), against any Kafka-compatible broker."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import click

from pystream.cli.common import bootstrap_option, run_async
from pystream.client import Cluster
from pystream.client.consumer import EARLIEST, LATEST, Consumer
from pystream.client.group import GroupAdmin, TopicPartition

INACTIVE = ("Empty", "Dead")


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(c) for c in headers], *[[str(c) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


@click.group("groups")
def groups() -> None:
    """Consumer groups: members, assignments, committed offsets and lag."""


@groups.command("list")
@bootstrap_option
@click.option("--state", "show_state", is_flag=True, help="show each group's state")
@run_async
async def list_(bootstrap: str, show_state: bool) -> None:
    """List consumer groups."""
    cluster = Cluster(bootstrap)
    try:
        listing = await GroupAdmin(cluster).list_groups()
        if show_state:
            _table(["GROUP", "STATE", "PROTOCOL-TYPE"], listing)
        else:
            for group_id, _, _ in listing:
                click.echo(group_id)
    finally:
        await cluster.close()


async def _log_end_offsets(
    cluster: Cluster, tps: list[TopicPartition]
) -> dict[TopicPartition, int]:
    consumer = Consumer(cluster)
    by_topic: dict[str, list[int]] = {}
    for t, p in tps:
        by_topic.setdefault(t, []).append(p)
    out: dict[TopicPartition, int] = {}
    for topic, parts in by_topic.items():
        try:
            ends = await consumer.list_offsets(topic, parts, LATEST)
        except Exception:  # a deleted topic still has committed offsets
            continue
        out.update({(topic, p): o for p, o in ends.items()})
    return out


@groups.command("describe")
@click.argument("group_ids", nargs=-1, required=True)
@bootstrap_option
@run_async
async def describe(group_ids: tuple[str, ...], bootstrap: str) -> None:
    """Describe GROUP: state, members and their assignments, and per partition
    the committed offset, log end offset and lag."""
    cluster = Cluster(bootstrap)
    admin = GroupAdmin(cluster)
    try:
        for group_id in group_ids:
            info = await admin.describe_group(group_id)
            committed = await admin.fetch_offsets(group_id)
            owner: dict[TopicPartition, tuple[str, str, str]] = {}
            for m in info.members:
                for topic, parts in m.assignment.items():
                    for p in parts:
                        owner[(topic, p)] = (m.member_id, m.client_host, m.client_id)
            tps = sorted(set(committed) | set(owner))
            ends = await _log_end_offsets(cluster, tps)
            click.echo(
                f"Group {group_id}: state {info.state}, protocol "
                f"{info.protocol_type or '-'}/{info.protocol or '-'}, {len(info.members)} members"
            )
            rows = []
            for tp in tps:
                current = committed.get(tp, -1)
                end = ends.get(tp)
                lag = "-" if end is None or current < 0 else max(end - current, 0)
                who = owner.get(tp, ("-", "-", "-"))
                rows.append(
                    [
                        tp[0],
                        tp[1],
                        current if current >= 0 else "-",
                        end if end is not None else "-",
                        lag,
                        *who,
                    ]
                )
            click.echo()
            _table(
                [
                    "TOPIC",
                    "PARTITION",
                    "CURRENT-OFFSET",
                    "LOG-END-OFFSET",
                    "LAG",
                    "CONSUMER-ID",
                    "HOST",
                    "CLIENT-ID",
                ],
                rows,
            )
            if info.members:
                click.echo()
                _table(
                    [
                        "CONSUMER-ID",
                        "INSTANCE-ID",
                        "HOST",
                        "CLIENT-ID",
                        "#PARTITIONS",
                        "ASSIGNMENT",
                    ],
                    [
                        [
                            m.member_id,
                            m.group_instance_id or "-",
                            m.client_host,
                            m.client_id,
                            sum(len(ps) for ps in m.assignment.values()),
                            ",".join(
                                f"{t}:{'+'.join(map(str, ps))}"
                                for t, ps in sorted(m.assignment.items())
                            )
                            or "-",
                        ]
                        for m in info.members
                    ],
                )
            click.echo()
    finally:
        await cluster.close()


@groups.command("delete")
@click.argument("group_ids", nargs=-1, required=True)
@bootstrap_option
@run_async
async def delete(group_ids: tuple[str, ...], bootstrap: str) -> None:
    """Delete empty groups and their committed offsets."""
    from pystream.protocol.errors import ErrorCode

    cluster = Cluster(bootstrap)
    try:
        results = await GroupAdmin(cluster).delete_groups(list(group_ids))
        failed = False
        for group_id, code in results.items():
            if code == 0:
                click.echo(f"Deleted group {group_id}.")
            else:
                failed = True
                click.echo(f"Group {group_id} not deleted: {ErrorCode(code).name}", err=True)
        if failed:
            raise SystemExit(1)
    finally:
        await cluster.close()


def _parse_topic(spec: str) -> tuple[str, list[int] | None]:
    """`TOPIC` or `TOPIC:0,1,2` (Kafka's tool syntax)."""
    topic, sep, parts = spec.partition(":")
    if not sep:
        return topic, None
    try:
        return topic, [int(p) for p in parts.split(",") if p]
    except ValueError:
        raise click.BadParameter(
            f"{spec!r}: expected TOPIC or TOPIC:P1,P2", param_hint="--topic"
        ) from None


def _parse_datetime(text: str) -> int:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r}: expected ISO 8601", param_hint="--to-datetime"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp() * 1000)


@groups.command("reset-offsets")
@click.argument("group_id")
@bootstrap_option
@click.option("--topic", "topics", multiple=True, required=True, metavar="TOPIC[:P,...]")
@click.option("--to-earliest", is_flag=True)
@click.option("--to-latest", is_flag=True)
@click.option("--to-offset", type=int, default=None)
@click.option("--to-timestamp", type=int, default=None, help="milliseconds since the epoch")
@click.option("--to-datetime", default=None, help="ISO 8601, UTC unless a zone is given")
@click.option("--execute", is_flag=True, help="apply the plan (default: only show it)")
@run_async
async def reset_offsets(
    group_id: str,
    bootstrap: str,
    topics: tuple[str, ...],
    to_earliest: bool,
    to_latest: bool,
    to_offset: int | None,
    to_timestamp: int | None,
    to_datetime: str | None,
    execute: bool,
) -> None:
    """Reset GROUP's committed offsets (only while the group has no members)."""
    chosen = [
        to_earliest,
        to_latest,
        to_offset is not None,
        to_timestamp is not None,
        to_datetime is not None,
    ]
    if sum(chosen) != 1:
        raise click.UsageError(
            "give exactly one of --to-earliest, --to-latest, --to-offset, --to-timestamp, --to-datetime"
        )
    if to_datetime is not None:
        to_timestamp = _parse_datetime(to_datetime)
    cluster = Cluster(bootstrap)
    admin = GroupAdmin(cluster)
    consumer = Consumer(cluster)
    try:
        info = await admin.describe_group(group_id)
        if info.state not in INACTIVE:
            raise click.ClickException(
                f"offsets of group {group_id!r} can only be reset while it has no members; "
                f"it is {info.state} with {len(info.members)} members"
            )
        plan: dict[TopicPartition, int] = {}
        for spec in topics:
            topic, parts = _parse_topic(spec)
            meta = await cluster.topic(topic)
            parts = sorted(meta.partitions) if parts is None else parts
            earliest = await consumer.list_offsets(topic, parts, EARLIEST)
            latest = await consumer.list_offsets(topic, parts, LATEST)
            if to_timestamp is not None:
                found = await consumer.list_offsets(topic, parts, to_timestamp)
            for p in parts:
                if to_earliest:
                    target = earliest[p]
                elif to_latest:
                    target = latest[p]
                elif to_offset is not None:
                    # Kafka's tool clamps into the partition's current range.
                    target = min(max(to_offset, earliest[p]), latest[p])
                else:
                    target = found[p] if found[p] >= 0 else latest[p]
                plan[(topic, p)] = target
        _table(
            ["GROUP", "TOPIC", "PARTITION", "NEW-OFFSET"],
            [[group_id, t, p, o] for (t, p), o in sorted(plan.items())],
        )
        if execute:
            await admin.commit_offsets(group_id, plan)
            click.echo(f"Reset {len(plan)} offsets of group {group_id}.")
        else:
            click.echo("Dry run: nothing changed (add --execute to apply).")
    finally:
        await cluster.close()
