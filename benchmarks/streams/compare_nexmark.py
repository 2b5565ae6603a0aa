"""Nexmark q0, q1, q2, q5 and q7: pystream.streams vs Bytewax vs PySpark, in one run.

Every engine gets the same bids: the first N events of pystream's Nexmark generator (46 bids
out of every 50 events), generated before any timer starts. Figures count all N Nexmark
events, as Nexmark reports do, per second of wall time and per CPU-second (per core).

- pystream: the queries of `pystream.streams.nexmark.queries` over the pre-generated
  columns (1M bids per batch), results counted by a foreachBatch sink, on one core.
- bytewax (per-record Python engine): one worker, `TestingSource` of bid tuples (the
  conversion to tuples is excluded), `map`/`filter` for q0-q2, `count_window` on a
  `SlidingWindower` for q5 and `fold_window` on a `TumblingWindower` for q7; the hottest
  auctions per window of q5 are picked from the window counts after the flow, inside the
  timed region. The event clock waits 10 s, so no event counts as late.
- pyspark: Structured Streaming in `local[1]` over the same bids written as Parquet (one
  file per 1M bids, `maxFilesPerTrigger` 1; writing excluded), availableNow; q0-q2 into the
  `noop` sink (every row materialized), q5/q7 append mode into foreachBatch (q5 picks the
  hottest auctions per window there). JVM start-up and a warm-up query are excluded; CPU is
  the JVM's plus this process's.

Results are row counts too, so a wrong engine shows. Spark leaves the last windows open at
the end of input (no end-of-input watermark), so its q5/q7 have a few rows fewer.

Writes benchmarks/out/streams_nexmark.json. Run:
    .venv/bin/python benchmarks/streams/compare_nexmark.py --events 10000000 \
        --peer-events 1000000 --spark-events 5000000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "out"
QUERIES = ("q0", "q1", "q2", "q5", "q7")
BATCH = 1_000_000
COLUMNS = ("auction", "bidder", "price", "channel", "url", "date_time", "extra")


def run_pystream(query: str, events: int) -> dict[str, Any]:
    from pystream.streams import Trigger
    from pystream.streams.nexmark import generator
    from pystream.streams.nexmark.queries import QUERIES as BUILDERS
    from pystream.streams.sinks.foreach import ForeachBatchSink

    inputs = {"bid": generator.pregenerate("bid", events, max_records_per_trigger=BATCH)}
    stream, mode = BUILDERS[query](inputs)  # type: ignore[arg-type]
    rows = 0

    def count(batch: Any, batch_id: int) -> None:
        nonlocal rows
        rows += batch.num_rows

    t0, c0 = time.perf_counter(), time.process_time()
    stream.write_stream.output_mode(mode).trigger(Trigger.available_now()).sink(
        ForeachBatchSink(count)
    ).run()
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "rows": rows}


def bid_tuples(events: int) -> list[tuple[Any, ...]]:
    from pystream.streams.nexmark import generator

    out: list[tuple[Any, ...]] = []
    total = generator.count_of("bid", events)
    for start in range(0, total, BATCH):
        batch = generator.bids(start, min(start + BATCH, total))
        cols = [
            col.tolist() if isinstance(col, np.ndarray) else col.to_pylist()
            for col in (batch[c] for c in COLUMNS)
        ]
        out.extend(zip(*cols, strict=True))
    return out


def run_bytewax(query: str, bids: list[tuple[Any, ...]]) -> dict[str, Any]:
    import bytewax.operators as op
    import bytewax.operators.windowing as win
    from bytewax.dataflow import Dataflow
    from bytewax.testing import TestingSink, TestingSource, run_main

    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    out: list[Any] = []
    flow = Dataflow(f"nexmark-{query}")
    stream = op.input("bids", flow, TestingSource(bids, batch_size=10_000))

    def clock() -> Any:
        # Bytewax's event clock advances its watermark with the system time that passes
        # after the latest event, so a zero wait drops in-order events that share a
        # millisecond as late; 10 s covers any pause between input batches (checked: the
        # results equal the other engines') while windows still close as the run goes.
        return win.EventClock(
            lambda b: epoch + timedelta(milliseconds=b[5]),
            wait_for_system_duration=timedelta(seconds=10),
        )

    if query == "q0":
        op.output("out", op.map("pass", stream, lambda b: b), TestingSink(out))
    elif query == "q1":
        euros = op.map("euro", stream, lambda b: (b[0], b[1], b[2] * 0.908, b[5], b[6]))
        op.output("out", euros, TestingSink(out))
    elif query == "q2":
        picked = op.filter("pick", stream, lambda b: b[0] % 123 == 0)
        op.output("out", op.map("proj", picked, lambda b: (b[0], b[2])), TestingSink(out))
    elif query == "q5":
        windower = win.SlidingWindower(
            length=timedelta(seconds=10), offset=timedelta(seconds=2), align_to=epoch
        )
        counts = win.count_window("count", stream, clock(), windower, lambda b: str(b[0]))
        op.output("out", counts.down, TestingSink(out))
    elif query == "q7":
        keyed = op.key_on("all", stream, lambda b: "all")

        def highest(acc: Any, b: tuple[Any, ...]) -> Any:
            return b if acc is None or b[2] > acc[2] else acc

        def merge(a: Any, b: Any) -> Any:
            return a if b is None or (a is not None and (a[2], -a[5]) >= (b[2], -b[5])) else b

        windower = win.TumblingWindower(length=timedelta(seconds=10), align_to=epoch)
        top = win.fold_window("max", keyed, clock(), windower, lambda: None, highest, merge)
        op.output("out", top.down, TestingSink(out))
    t0, c0 = time.perf_counter(), time.process_time()
    run_main(flow)
    rows = len(out)
    if query == "q5":  # the auctions with the most bids in each window
        best: dict[int, int] = {}
        for _, (window, n) in out:
            best[window] = max(best.get(window, 0), n)
        rows = sum(1 for _, (window, n) in out if n == best[window])
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "rows": rows}


def write_parquet(events: int, folder: Path) -> None:
    import pyarrow.parquet as pq

    from pystream.streams.nexmark import generator

    folder.mkdir(parents=True)
    total = generator.count_of("bid", events)
    for j, start in enumerate(range(0, total, BATCH)):
        batch = generator.bids(start, min(start + BATCH, total))
        pq.write_table(batch.to_arrow(), folder / f"part-{j:05d}.parquet")


def _jvm_cpu(spark: Any) -> float:
    """CPU seconds of the JVM process (user + system), from /proc."""
    pid = spark.sparkContext._gateway.proc.pid
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    own = (int(fields[11]) + int(fields[12])) / ticks
    children = (int(fields[13]) + int(fields[14])) / ticks
    return own + children + sum(_child_cpu(pid, ticks))


def _child_cpu(pid: int, ticks: int) -> list[float]:
    # spark-submit starts the JVM as a child of the launcher script
    out = []
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            f = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out.append((int(f[11]) + int(f[12])) / ticks)
    return out


def run_pyspark(query: str, spark: Any, data: Path, workdir: Path) -> dict[str, Any]:
    from pyspark.sql import Window
    from pyspark.sql import functions as SF

    schema = (
        "auction LONG, bidder LONG, price LONG, channel STRING, url STRING, "
        "date_time LONG, extra STRING"
    )
    bids = spark.readStream.schema(schema).option("maxFilesPerTrigger", 1).parquet(str(data))
    bids = bids.withColumn("event_time", SF.timestamp_millis("date_time"))
    rows = [0]

    def counted(df: Any, batch_id: int) -> None:
        rows[0] += df.count()

    if query == "q0":
        out, sink = bids, None
    elif query == "q1":
        out = bids.select(
            "auction", "bidder", (SF.col("price") * 0.908).alias("price"), "date_time", "extra"
        )
        sink = None
    elif query == "q2":
        out, sink = bids.filter(SF.col("auction") % 123 == 0).select("auction", "price"), None
    elif query == "q5":
        out = (
            bids.withWatermark("event_time", "0 seconds")
            .groupBy(SF.window("event_time", "10 seconds", "2 seconds"), "auction")
            .agg(SF.count("*").alias("num"))
        )

        def sink(df: Any, batch_id: int) -> None:
            per_window = Window.partitionBy("window")
            hottest = df.withColumn("best", SF.max("num").over(per_window)).filter(
                SF.col("num") == SF.col("best")
            )
            rows[0] += hottest.count()

    else:  # q7
        out = (
            bids.withWatermark("event_time", "0 seconds")
            .groupBy(SF.window("event_time", "10 seconds"))
            .agg(
                SF.max(
                    SF.struct(
                        "price", (-SF.col("date_time")).alias("earliest"), "auction", "bidder"
                    )
                ).alias("top")
            )
        )
        sink = counted
    c0, j0 = time.process_time(), _jvm_cpu(spark)
    t0 = time.perf_counter()
    writer = out.writeStream.option("checkpointLocation", tempfile.mkdtemp(dir=workdir))
    writer = writer.trigger(availableNow=True)
    if sink is None:
        query_handle = writer.format("noop").start()
    else:
        query_handle = writer.outputMode("append").foreachBatch(sink).start()
    query_handle.awaitTermination()
    seconds = time.perf_counter() - t0
    if sink is None:
        rows[0] = sum(p["sink"]["numOutputRows"] for p in query_handle.recentProgress)
    cpu = time.process_time() - c0 + _jvm_cpu(spark) - j0
    return {"seconds": seconds, "cpu": cpu, "rows": rows[0]}


def median_of(runs: int, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    results = [fn() for _ in range(runs)]
    secs = [r["seconds"] for r in results]
    out = dict(results[len(results) // 2])
    out["seconds"] = statistics.median(secs)
    out["cpu"] = statistics.median(r["cpu"] for r in results)
    out["spread"] = [min(secs), max(secs)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--peer-events", type=int, default=1_000_000, help="bytewax events")
    parser.add_argument("--spark-events", type=int, default=5_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", nargs="*", default=list(QUERIES))
    parser.add_argument("--skip", nargs="*", default=[])
    args = parser.parse_args()
    results: dict[str, dict[str, Any]] = {q: {} for q in args.queries}

    def record(query: str, engine: str, events: int, res: dict[str, Any]) -> None:
        res["events"] = events
        res["events_per_second"] = events / res["seconds"]
        res["events_per_cpu_second"] = events / res["cpu"] if res["cpu"] else None
        results[query][engine] = res
        print(
            f"{query} {engine:>9}: {events:>11,} events {res['seconds']:8.3f} s "
            f"{res['events_per_second']:>13,.0f} ev/s {res['events_per_cpu_second'] or 0:>13,.0f}"
            f" ev/CPU-s  rows={res['rows']:,}",
            flush=True,
        )

    for q in args.queries:
        record(
            q,
            "pystream",
            args.events,
            median_of(args.runs, lambda q=q: run_pystream(q, args.events)),
        )
    if "bytewax" not in args.skip:
        bids = bid_tuples(args.peer_events)
        for q in args.queries:
            record(q, "bytewax", args.peer_events, median_of(1, lambda q=q: run_bytewax(q, bids)))
        del bids
    if "pyspark" not in args.skip:
        from pyspark.sql import SparkSession

        spark = (
            SparkSession.builder.master("local[1]")
            .config("spark.sql.shuffle.partitions", "1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        with tempfile.TemporaryDirectory() as tmp:
            warm, data = Path(tmp) / "warm", Path(tmp) / "bids"
            write_parquet(min(args.spark_events, 500_000), warm)
            write_parquet(args.spark_events, data)
            for q in args.queries:
                run_pyspark(q, spark, warm, Path(tmp))  # warm-up: JIT, planning
                record(
                    q,
                    "pyspark",
                    args.spark_events,
                    median_of(1, lambda q=q: run_pyspark(q, spark, data, Path(tmp))),
                )
        spark.stop()
    for per_engine in results.values():
        base = per_engine["pystream"]
        for res in per_engine.values():
            res["pystream_speedup"] = base["events_per_second"] / res["events_per_second"]
            if base["events_per_cpu_second"] and res["events_per_cpu_second"]:
                res["pystream_speedup_per_core"] = (
                    base["events_per_cpu_second"] / res["events_per_cpu_second"]
                )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "streams_nexmark.json").write_text(
        json.dumps({"args": vars(args), "results": results}, indent=2) + "\n"
    )
    print(f"wrote {OUT / 'streams_nexmark.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
