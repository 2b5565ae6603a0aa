"""`pystream nexmark`: run a Nexmark query on pystream.streams and report its throughput.

    pystream nexmark --query q5 --events 10000000 --output q5.jsonl

The events (the standard generator's Person/Auction/Bid mix) are generated first and held
in memory, so the figure measures the query, not the generator (whose own rate is printed
too; `--live` runs the generator inside the query instead). Throughput counts all N
Nexmark events, as Nexmark reports do, over wall time and over process CPU time (per core).
`--output` gets the query's result rows, one JSON object per line.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

QUERY_NAMES = ("q0", "q1", "q2", "q5", "q7", "q8")


@click.command("nexmark")
@click.option("--query", "query_name", type=click.Choice(QUERY_NAMES), required=True)
@click.option("--events", type=click.IntRange(min=1), default=1_000_000, show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=1_000_000,
    show_default=True,
    help="Bids per micro-batch (people and auctions in proportion).",
)
@click.option(
    "--live", is_flag=True, help="Generate events inside the query instead of beforehand."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the figures.")
def nexmark(
    query_name: str, events: int, output: Path | None, batch_size: int, live: bool, as_json: bool
) -> None:
    """Run Nexmark QUERY over EVENTS generated events and print events per second."""
    from pystream.streams import JsonLinesFile, Trigger
    from pystream.streams.nexmark import generator
    from pystream.streams.nexmark.queries import KINDS, QUERIES
    from pystream.streams.sinks.foreach import ForeachBatchSink
    from pystream.streams.sources.base import Source

    caps = {"bid": batch_size, "auction": batch_size * 3 // 46 + 1, "person": batch_size // 46 + 1}
    began = time.perf_counter()
    inputs: dict[str, Source] = {}
    for kind in KINDS[query_name]:
        if live:
            inputs[kind] = generator.nexmark_source(
                kind, events, max_records_per_trigger=caps[kind]
            )
        else:
            inputs[kind] = generator.pregenerate(kind, events, max_records_per_trigger=caps[kind])
    generate_s = time.perf_counter() - began

    stream, mode = QUERIES[query_name](inputs)
    rows = 0

    def count(batch: object, batch_id: int) -> None:
        nonlocal rows
        rows += batch.num_rows  # type: ignore[attr-defined]

    sink = JsonLinesFile(output) if output is not None else ForeachBatchSink(count)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    query = stream.write_stream.output_mode(mode).trigger(Trigger.available_now()).sink(sink).run()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    if output is not None:
        rows = sum(p.num_output_rows for p in query.recent_progress)
    figures = {
        "query": query_name,
        "events": events,
        "batch_size": batch_size,
        "live_generator": live,
        "result_rows": rows,
        "seconds": round(wall, 4),
        "cpu_seconds": round(cpu, 4),
        "events_per_second": round(events / wall),
        "events_per_cpu_second": round(events / cpu) if cpu > 0 else None,
        "generate_seconds": None if live else round(generate_s, 4),
    }
    if as_json:
        click.echo(json.dumps(figures))
        return
    if not live:
        click.echo(
            f"generated {events:,} events in {generate_s:.2f} s ({events / generate_s:,.0f} events/s)"
        )
    click.echo(
        f"{query_name}: {events:,} events in {wall:.3f} s: {events / wall:,.0f} events/s "
        f"({figures['events_per_cpu_second'] or 0:,} per CPU-second), {rows:,} result rows"
        + (f" -> {output}" if output else "")
    )
