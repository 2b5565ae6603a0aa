"""`pystream produce TOPIC`: lines from stdin become records (console producer)."""

from __future__ import annotations

import sys

import click

from pystream.cli.common import bootstrap_option, run_async
from pystream.client import Cluster, Producer


def parse_headers(spec: str) -> list[tuple[str, bytes | None]]:
    out: list[tuple[str, bytes | None]] = []
    for item in spec.split(","):
        if not item:
            continue
        key, sep, value = item.partition("=")
        out.append((key, value.encode() if sep else None))
    return out


@click.command("produce")
@click.argument("topic")
@bootstrap_option
@click.option("--key-separator", default=None, help="split each line into KEY<sep>VALUE")
@click.option("--header", "headers", default="", help="k1=v1,k2=v2 added to every record")
@click.option(
    "--headers-separator",
    default=None,
    help="each line starts with 'k=v,k=v<sep>' carrying that record's headers",
)
@click.option("--partition", type=int, default=None)
@click.option(
    "--acks", type=click.Choice(["-1", "0", "1", "all"]), default="all", show_default=True
)
@click.option(
    "--compression",
    type=click.Choice(["none", "gzip", "snappy", "lz4", "zstd"]),
    default="none",
    show_default=True,
)
@click.option("--linger-ms", type=float, default=5.0, show_default=True)
@run_async
async def produce(
    topic: str,
    bootstrap: str,
    key_separator: str | None,
    headers: str,
    headers_separator: str | None,
    partition: int | None,
    acks: str,
    compression: str,
    linger_ms: float,
) -> None:
    """Read lines from stdin and produce each as a record to TOPIC."""
    cluster = Cluster(bootstrap, client_id="pystream-console-producer")
    producer = Producer(
        cluster,
        acks=-1 if acks == "all" else int(acks),
        compression=compression,
        linger_ms=linger_ms,
    )
    common = parse_headers(headers)
    futures = []
    try:
        for raw in sys.stdin.buffer:
            line = raw.rstrip(b"\r\n")
            record_headers = list(common)
            if headers_separator is not None:
                head, sep, rest = line.partition(headers_separator.encode())
                if sep:
                    record_headers += parse_headers(head.decode())
                    line = rest
            key = None
            if key_separator is not None:
                k, sep, v = line.partition(key_separator.encode())
                if not sep:
                    raise click.ClickException(
                        f"line has no key separator {key_separator!r}: {line!r}"
                    )
                key, line = k, v
            futures.append(
                await producer.send(
                    topic, line, key=key, headers=record_headers, partition=partition
                )
            )
        await producer.flush()
        failed = [f.exception() for f in futures if f.exception() is not None]
        if failed:
            raise click.ClickException(f"{len(failed)} records failed: {failed[0]}")
    finally:
        await producer.close()
        await cluster.close()
