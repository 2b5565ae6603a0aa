"""`pystream consume TOPIC`: print records (console consumer)."""

from __future__ import annotations

import sys
import time

import click

from pystream.cli.common import bootstrap_option, run_async
from pystream.client import EARLIEST, LATEST, Cluster, Consumer, ConsumerRecord


def _text(b: bytes | None) -> str:
    return "null" if b is None else b.decode("utf-8", "backslashreplace")


def format_record(
    rec: ConsumerRecord,
    key: bool,
    headers: bool,
    timestamp: bool,
    partition: bool,
    offset: bool,
    sep: str,
) -> str:
    parts = []
    if timestamp:
        kind = "LogAppendTime" if rec.timestamp_type == 1 else "CreateTime"
        parts.append(f"{kind}:{rec.timestamp}")
    if partition:
        parts.append(f"Partition:{rec.partition}")
    if offset:
        parts.append(f"Offset:{rec.offset}")
    if headers:
        parts.append(",".join(f"{k}:{_text(v)}" for k, v in rec.headers) or "NO_HEADERS")
    if key:
        parts.append(_text(rec.key))
    parts.append(_text(rec.value))
    return sep.join(parts)


@click.command("consume")
@click.argument("topic")
@bootstrap_option
@click.option("--from-beginning", is_flag=True, help="start at the earliest offset")
@click.option("--offset", type=int, default=None, help="start at this offset (all partitions)")
@click.option("--from-timestamp", type=int, default=None, help="start at this timestamp (ms)")
@click.option("--partition", type=int, multiple=True, help="only these partitions")
@click.option("--max-messages", type=int, default=None)
@click.option("--timeout-ms", type=int, default=None, help="exit when idle this long")
@click.option("--print-key", is_flag=True)
@click.option("--print-headers", is_flag=True)
@click.option("--print-timestamp", is_flag=True)
@click.option("--print-partition", is_flag=True)
@click.option("--print-offset", is_flag=True)
@click.option("--separator", default="\t", show_default=True)
@run_async
async def consume(
    topic: str,
    bootstrap: str,
    from_beginning: bool,
    offset: int | None,
    from_timestamp: int | None,
    partition: tuple[int, ...],
    max_messages: int | None,
    timeout_ms: int | None,
    print_key: bool,
    print_headers: bool,
    print_timestamp: bool,
    print_partition: bool,
    print_offset: bool,
    separator: str,
) -> None:
    """Print TOPIC's records to stdout, one per line."""
    cluster = Cluster(bootstrap, client_id="pystream-console-consumer")
    consumer = Consumer(cluster)
    try:
        parts = list(partition) or None
        if from_timestamp is not None:
            await consumer.assign_at_timestamp(topic, from_timestamp)
        elif offset is not None:
            await consumer.assign(topic, parts, offset)
        else:
            await consumer.assign(topic, parts, EARLIEST if from_beginning else LATEST)
        seen = 0
        idle_since = time.monotonic()
        while max_messages is None or seen < max_messages:
            records = await consumer.poll()
            if records:
                idle_since = time.monotonic()
            for rec in records:
                sys.stdout.write(
                    format_record(
                        rec,
                        print_key,
                        print_headers,
                        print_timestamp,
                        print_partition,
                        print_offset,
                        separator,
                    )
                    + "\n"
                )
                seen += 1
                if max_messages is not None and seen >= max_messages:
                    break
            sys.stdout.flush()
            if timeout_ms is not None and (time.monotonic() - idle_since) * 1000 >= timeout_ms:
                break
        click.echo(f"Processed a total of {seen} messages", err=True)
    finally:
        await cluster.close()
