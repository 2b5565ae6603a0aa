"""`pystream bench produce|consume|e2e`: Kafka's perf tools, spelled as Kafka spells them.

The flags follow `kafka-producer-perf-test`, `kafka-consumer-perf-test` and
`EndToEndLatency` (`--topic`, `--num-records`, `--record-size`,
`--throughput`, `--producer-props k=v ...`, `--producer.config FILE`), with
shortcuts for the settings every run varies (`--acks`, `--compression`,
`--batch-size`, `--linger-ms`, `--partitions`, `--num-producers`).
Explicit `--producer-props` win over the shortcuts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from pystream.bench.workload import (
    ACKS_VALUES,
    CLIENTS,
    COMPRESSION_TYPES,
    READERS,
    ConsumeWorkload,
    EndToEndWorkload,
    ProduceWorkload,
    WorkloadError,
    parse_props,
    read_properties_file,
)

MULTI_VALUE_OPTIONS = ("--producer-props", "--consumer-props")


class KafkaStyleCommand(click.Command):
    """Accept Kafka's `--producer-props a=1 b=2` (several values after one flag).

    click options take one value each, so the arguments are rewritten to
    `--producer-props a=1 --producer-props b=2` before parsing.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, expand_multi_value(args))


def expand_multi_value(args: Sequence[str]) -> list[str]:
    """Repeat a multi-value flag before each `k=v` that follows it."""
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        out.append(arg)
        i += 1
        if arg == "--":
            return out + list(args[i:])
        if arg not in MULTI_VALUE_OPTIONS or i == len(args) or not _is_prop(args[i]):
            continue
        out.append(args[i])
        i += 1
        while i < len(args) and _is_prop(args[i]):
            out += [arg, args[i]]
            i += 1
    return out


def _is_prop(arg: str) -> bool:
    return not arg.startswith("-") and "=" in arg


def _bootstrap() -> Any:
    return click.option(
        "--bootstrap-server",
        "bootstrap_server",
        required=True,
        help="host:port of the broker to connect to (any Kafka-compatible broker).",
    )


def _json_option() -> Any:
    return click.option(
        "--json",
        "json_path",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Also write the full result (workload, figures, client CPU) as JSON.",
    )


def _producer_options(func: Any) -> Any:
    options = [
        click.option("--topic", required=True, help="Topic to produce to (created if missing)."),
        click.option("--num-records", type=int, required=True, help="Records to send in total."),
        click.option("--record-size", type=int, default=1024, show_default=True, help="Bytes."),
        click.option(
            "--throughput",
            type=float,
            default=-1,
            show_default=True,
            help="Target records/s across all producers; -1 for no limit.",
        ),
        click.option("--partitions", type=int, default=1, show_default=True),
        click.option("--replication-factor", type=int, default=1, show_default=True),
        click.option("--acks", type=click.Choice(ACKS_VALUES), default="all", show_default=True),
        click.option(
            "--compression",
            type=click.Choice(COMPRESSION_TYPES),
            default="none",
            show_default=True,
            help="compression.type",
        ),
        click.option(
            "--batch-size", type=int, default=1048576, show_default=True, help="batch.size bytes"
        ),
        click.option("--linger-ms", type=float, default=5.0, show_default=True, help="linger.ms"),
        click.option(
            "--producer-props",
            multiple=True,
            metavar="K=V ...",
            help="Producer properties (librdkafka accepts Kafka's common names).",
        ),
        click.option(
            "--producer.config",
            "producer_config",
            type=click.Path(exists=True, dir_okay=False, path_type=Path),
            help="Producer properties file (applied before --producer-props).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _produce_workload(kw: dict[str, Any], num_producers: int) -> ProduceWorkload:
    props: dict[str, str] = {}
    if kw["producer_config"] is not None:
        props.update(read_properties_file(kw["producer_config"]))
    props.update(parse_props(kw["producer_props"]))
    return ProduceWorkload(
        bootstrap_server=kw["bootstrap_server"],
        topic=kw["topic"],
        num_records=kw["num_records"],
        record_size=kw["record_size"],
        throughput=kw["throughput"],
        partitions=kw["partitions"],
        replication_factor=kw["replication_factor"],
        acks=kw["acks"],
        compression=kw["compression"],
        batch_size=kw["batch_size"],
        linger_ms=kw["linger_ms"],
        num_producers=num_producers,
        producer_props=props,
    )


@click.group()
def bench() -> None:
    """Producer, consumer and end-to-end latency benchmarks against any Kafka broker."""


@bench.command(cls=KafkaStyleCommand)
@_bootstrap()
@_producer_options
@click.option("--num-producers", type=int, default=1, show_default=True, help="Processes.")
@click.option(
    "--client",
    type=click.Choice(CLIENTS),
    default="python",
    show_default=True,
    help="python: confluent-kafka, one produce() call per record; c: librdkafka's C API "
    "(compiled on first use; needs a C compiler and librdkafka's headers).",
)
@_json_option()
def produce(num_producers: int, client: str, json_path: Path | None, **kw: Any) -> None:
    """Producer throughput and send-to-ack latency (like kafka-producer-perf-test)."""
    from pystream.bench.runner import run_produce

    workload = _checked(
        lambda: dataclasses.replace(_produce_workload(kw, num_producers), client=client)
    )
    _run(lambda console: run_produce(workload, console), workload.to_dict(), json_path)


@bench.command(cls=KafkaStyleCommand)
@_bootstrap()
@click.option("--topic", required=True, help="Topic to consume from.")
@click.option(
    "--num-records", "--messages", "num_records", type=int, required=True, help="Records to read."
)
@click.option("--group", default="", help="Consumer group (default: a new one per run).")
@click.option("--num-consumers", type=int, default=1, show_default=True, help="Processes.")
@click.option(
    "--offset-slices",
    is_flag=True,
    help="No group: consumer i reads the i-th slice of every partition's offsets, so several "
    "processes can share one partition.",
)
@click.option(
    "--timeout",
    "timeout_ms",
    type=int,
    default=10000,
    show_default=True,
    help="Stop after this many ms without a record.",
)
@click.option(
    "--reader",
    type=click.Choice(READERS),
    default="librdkafka",
    show_default=True,
    help="librdkafka: confluent-kafka consumers in a group; rdkafka-c: librdkafka's C API, "
    "partitions assigned (no group); fetch: plain Fetch requests, batch headers only.",
)
@click.option("--consumer-props", multiple=True, metavar="K=V ...", help="Consumer properties.")
@click.option(
    "--consumer.config",
    "consumer_config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Consumer properties file (applied before --consumer-props).",
)
@_json_option()
def consume(json_path: Path | None, **kw: Any) -> None:
    """Consumer throughput from a fresh group (like kafka-consumer-perf-test)."""
    from pystream.bench.runner import run_consume

    def build() -> ConsumeWorkload:
        props: dict[str, str] = {}
        if kw["consumer_config"] is not None:
            props.update(read_properties_file(kw["consumer_config"]))
        props.update(parse_props(kw["consumer_props"]))
        return ConsumeWorkload(
            bootstrap_server=kw["bootstrap_server"],
            topic=kw["topic"],
            num_records=kw["num_records"],
            group=kw["group"],
            num_consumers=kw["num_consumers"],
            timeout_ms=kw["timeout_ms"],
            consumer_props=props,
            offset_slices=kw["offset_slices"],
            reader=kw["reader"],
        )

    workload = _checked(build)
    _run(lambda console: run_consume(workload, console), workload.to_dict(), json_path)


@bench.command(cls=KafkaStyleCommand)
@_bootstrap()
@_producer_options
@click.option(
    "--timeout",
    "timeout_ms",
    type=int,
    default=10000,
    show_default=True,
    help="Stop waiting this many ms after the last record arrived.",
)
@click.option("--consumer-props", multiple=True, metavar="K=V ...", help="Consumer properties.")
@_json_option()
def e2e(
    json_path: Path | None, timeout_ms: int, consumer_props: tuple[str, ...], **kw: Any
) -> None:
    """End-to-end latency at a fixed rate, producer send to consumer receipt (--throughput)."""
    from pystream.bench.runner import run_e2e

    if kw["throughput"] <= 0:
        raise click.UsageError("e2e measures latency at a fixed rate: give --throughput > 0")

    def build() -> EndToEndWorkload:
        return EndToEndWorkload(
            produce=_produce_workload(kw, 1),
            timeout_ms=timeout_ms,
            consumer_props=parse_props(consumer_props),
        )

    workload = _checked(build)
    _run(lambda console: run_e2e(workload, console), workload.to_dict(), json_path)


def _checked(build: Any) -> Any:
    try:
        return build()
    except WorkloadError as exc:
        raise click.UsageError(str(exc)) from None


def _run(run: Any, workload: dict[str, Any], json_path: Path | None) -> None:
    from pystream.bench.cclient import CClientError
    from pystream.bench.result import BenchResult
    from pystream.bench.runner import BenchError
    from pystream.bench.topics import TopicError

    console = Console(stderr=True)
    console.print(_workload_line(workload), style="dim", highlight=False)
    try:
        result: BenchResult = run(console)
    except (BenchError, TopicError, CClientError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(result.summary_line())
    Console().print(result_table(result))
    if json_path is not None:
        result.write_json(json_path)
        console.print(f"wrote {json_path}", style="dim")
    if not result.complete:
        raise click.ClickException(
            f"incomplete run: {result.throughput.records} of {result.requested_records} records, "
            f"{result.errors} errors" + (f" ({result.first_error})" if result.first_error else "")
        )


def _workload_line(workload: dict[str, Any]) -> str:
    skip = {"producer_props", "consumer_props", "bootstrap_server"}
    parts = [f"{k}={v}" for k, v in workload.items() if k not in skip and v not in ("", None)]
    props = {**workload.get("producer_props", {}), **workload.get("consumer_props", {})}
    parts += [f"{k}={v}" for k, v in props.items()]
    return f"{workload.get('bootstrap_server')}: " + " ".join(parts)


def result_table(result: Any) -> Table:
    """Throughput, latency percentiles and the load generator's CPU use."""
    table = Table(title=f"pystream bench {result.kind}", show_edge=False)
    for column in ("records/s", "MB/s", "p50 ms", "p95 ms", "p99 ms", "p99.9 ms", "max ms"):
        table.add_column(column, justify="right")
    table.add_column("client cores", justify="right")
    t, lat = result.throughput, result.latency
    cells = [f"{t.records_per_s:,.0f}", f"{t.mb_per_s:,.1f}"]
    cells += (
        [f"{v:.2f}" for v in (lat.p50, lat.p95, lat.p99, lat.p99_9, lat.max)] if lat else ["-"] * 5
    )
    cells.append(f"{result.client_cpu_util:.2f}")
    table.add_row(*cells)
    return table
