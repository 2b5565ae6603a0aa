"""Keyed tumbling-window count/sum: pystream.streams vs a per-record engine vs PySpark.

Workload (printed with the results): N events of a fixed 24-byte little-endian layout
(key int64, ts int64 ms, value int64), 1,000 keys (key = i * 7919 mod 1000), event time
advancing 0.1 ms per event with up to 500 ms of disorder, 10-second tumbling windows,
watermark delay 1 s, output mode append (each window once, when closed), 1M-event batches.

Engines, all in one run on the same machine:
- pystream: records' value bytes decoded with FixedLayout (zero-copy), windowed aggregation.
- numpy floor: the same count/sum as one np.unique + bincount pass over all events at once
  (no streaming, no state): the "physical limit" a columnar engine can approach.
- python loop: a dict-of-windows loop over the decoded tuples, the per-record baseline.
- bytewax (if importable): fold_window over the same records (struct.unpack per record).
- pyspark (if importable): Structured Streaming in local[1] over the same events written as
  Parquet (Spark's fastest input; it cannot read our binary layout directly), availableNow,
  append mode into the noop sink. JVM start-up is excluded.

Writes benchmarks/out/streams_windowed.json and .png. Run:
    .venv/bin/python benchmarks/streams/compare_windowed.py --events 10000000 --peer-events 1000000
"""

from __future__ import annotations

import argparse
import json
import statistics
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np

LAYOUT = np.dtype([("key", "<i8"), ("ts", "<i8"), ("value", "<i8")])
KEYS = 1000
WINDOW_MS = 10_000
DELAY_MS = 1_000
BATCH = 1_000_000
BASE_MS = 1_700_000_000_000
OUT = Path(__file__).resolve().parents[1] / "out"


def make_events(n: int) -> np.ndarray:
    i = np.arange(n, dtype=np.int64)
    rec = np.empty(n, dtype=LAYOUT)
    rec["key"] = (i * 7919) % KEYS
    jitter = (i * 2_654_435_761) % 500
    rec["ts"] = BASE_MS + i // 10 - jitter
    rec["value"] = i % 100
    return rec


def run_pystream(rec: np.ndarray) -> dict[str, Any]:
    from pystream.streams import FixedLayout, MemorySource, Stream, Trigger
    from pystream.streams import functions as F

    source = MemorySource({"value": "bytes"}, max_records_per_trigger=BATCH)
    raw = rec.view(np.uint8)
    for start in range(0, len(rec), BATCH):
        stop = min(start + BATCH, len(rec))
        offsets = np.arange(stop - start + 1, dtype=np.int64) * LAYOUT.itemsize
        source.add_data(_batch(offsets, raw[start * LAYOUT.itemsize : stop * LAYOUT.itemsize]))
    source.end_input()
    totals = {"windows": 0, "count": 0}

    def collect(batch: Any, batch_id: int) -> None:
        totals["windows"] += batch.num_rows
        totals["count"] += int(np.asarray(batch["n"]).sum())

    query = (
        Stream.from_source(source)
        .decode(FixedLayout(LAYOUT))
        .with_watermark("ts", DELAY_MS)
        .group_by(F.window("ts", WINDOW_MS), "key")
        .agg(F.count().alias("n"), F.sum("value").alias("s"))
    )
    t0, c0 = time.perf_counter(), time.process_time()
    query.write_stream.output_mode("append").trigger(Trigger.available_now()).foreach_batch(
        collect
    ).run()
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, **totals}


def _batch(offsets: np.ndarray, data: np.ndarray) -> Any:
    from pystream.streams import BytesColumn, MicroBatch

    return MicroBatch({"value": BytesColumn(offsets, data)})


def run_numpy_floor(rec: np.ndarray) -> dict[str, Any]:
    t0, c0 = time.perf_counter(), time.process_time()
    start = rec["ts"] - rec["ts"] % WINDOW_MS
    combined = (start // WINDOW_MS) * KEYS + rec["key"]
    uniq, inverse = np.unique(combined, return_inverse=True)
    counts = np.bincount(inverse)
    np.bincount(inverse, weights=rec["value"])
    return {
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
        "windows": len(uniq),
        "count": int(counts.sum()),
    }


def run_python_loop(rec: np.ndarray) -> dict[str, Any]:
    blob = rec.tobytes()
    unpack = struct.Struct("<qqq").iter_unpack
    t0, c0 = time.perf_counter(), time.process_time()
    state: dict[tuple[int, int], list[int]] = {}
    for key, ts, value in unpack(blob):
        w = ts - ts % WINDOW_MS
        acc = state.get((w, key))
        if acc is None:
            state[(w, key)] = [1, value]
        else:
            acc[0] += 1
            acc[1] += value
    return {
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
        "windows": len(state),
        "count": sum(a[0] for a in state.values()),
    }


def run_bytewax(rec: np.ndarray) -> dict[str, Any]:
    from datetime import datetime, timedelta

    import bytewax.operators as op
    import bytewax.operators.windowing as win
    from bytewax.dataflow import Dataflow
    from bytewax.testing import TestingSink, TestingSource, run_main

    size = LAYOUT.itemsize
    blob = rec.tobytes()
    values = [blob[i : i + size] for i in range(0, len(blob), size)]
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    unpack = struct.Struct("<qqq").unpack
    out: list[Any] = []
    flow = Dataflow("windowed")
    stream = op.input("in", flow, TestingSource(values, batch_size=10_000))
    decoded = op.map("decode", stream, unpack)
    keyed = op.key_on("key", decoded, lambda r: str(r[0]))
    clock = win.EventClock(
        lambda r: epoch + timedelta(milliseconds=r[1]),
        wait_for_system_duration=timedelta(milliseconds=DELAY_MS),
    )
    windower = win.TumblingWindower(length=timedelta(milliseconds=WINDOW_MS), align_to=epoch)
    folded = win.fold_window(
        "sum",
        keyed,
        clock,
        windower,
        lambda: [0, 0],
        lambda acc, r: [acc[0] + 1, acc[1] + r[2]],
        lambda a, b: [a[0] + b[0], a[1] + b[1]],
    )
    op.output("out", folded.down, TestingSink(out))
    t0, c0 = time.perf_counter(), time.process_time()
    run_main(flow)
    return {
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
        "windows": len(out),
        "count": sum(v[1][1][0] for v in out),
    }


def run_pyspark(rec: np.ndarray, spark: Any, workdir: Path) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.sql import functions as SF

    data = workdir / f"events-{len(rec)}"
    if not data.exists():
        data.mkdir(parents=True)
        for j, start in enumerate(range(0, len(rec), BATCH)):
            part = rec[start : start + BATCH]
            table = pa.table({"key": part["key"], "ts": part["ts"], "value": part["value"]})
            pq.write_table(table, data / f"part-{j:05d}.parquet")
    schema = "key LONG, ts LONG, value LONG"
    stream = spark.readStream.schema(schema).option("maxFilesPerTrigger", 1).parquet(str(data))
    stream = stream.withColumn("event_time", SF.timestamp_millis("ts"))
    agg = (
        stream.withWatermark("event_time", f"{DELAY_MS} milliseconds")
        .groupBy(SF.window("event_time", f"{WINDOW_MS // 1000} seconds"), "key")
        .agg(SF.count("*").alias("n"), SF.sum("value").alias("s"))
    )
    totals = {"windows": 0, "count": 0}

    def collect(df: Any, batch_id: int) -> None:
        row = df.agg(SF.count("*").alias("w"), SF.sum("n").alias("c")).collect()[0]
        totals["windows"] += row["w"]
        totals["count"] += row["c"] or 0

    t0 = time.perf_counter()
    checkpoint = tempfile.mkdtemp(dir=workdir)
    query = (
        agg.writeStream.outputMode("append")
        .option("checkpointLocation", checkpoint)
        .trigger(availableNow=True)
        .foreachBatch(collect)
        .start()
    )
    query.awaitTermination()
    # Spark has no end-of-input flush: the last windows stay open, so its count is a bit lower
    return {"seconds": time.perf_counter() - t0, "cpu": None, **totals}


def median_of(runs: int, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    results = [fn() for _ in range(runs)]
    secs = [r["seconds"] for r in results]
    out = dict(results[len(results) // 2])
    out["seconds"] = statistics.median(secs)
    out["spread"] = [min(secs), max(secs)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument(
        "--peer-events", type=int, default=1_000_000, help="events for the slower engines"
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[])
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    big, small = make_events(args.events), make_events(args.peer_events)
    results: dict[str, Any] = {}

    def record(name: str, n: int, res: dict[str, Any]) -> None:
        res["events"] = n
        res["events_per_second"] = n / res["seconds"]
        results[name] = res
        print(
            f"{name:>12}: {n:>11,} events {res['seconds']:8.3f} s  {res['events_per_second']:>14,.0f} ev/s  windows={res['windows']}",
            flush=True,
        )

    record("pystream", args.events, median_of(args.runs, lambda: run_pystream(big)))
    record("numpy-floor", args.events, median_of(args.runs, lambda: run_numpy_floor(big)))
    record("python-loop", args.peer_events, median_of(1, lambda: run_python_loop(small)))
    if "bytewax" not in args.skip:
        try:
            record("bytewax", args.peer_events, median_of(1, lambda: run_bytewax(small)))
        except ImportError as exc:
            print(f"bytewax not available: {exc}", file=sys.stderr)
    if "pyspark" not in args.skip:
        try:
            from pyspark.sql import SparkSession

            spark = (
                SparkSession.builder.master("local[1]")
                .config("spark.sql.shuffle.partitions", "1")
                .config("spark.ui.enabled", "false")
                .getOrCreate()
            )
            spark.sparkContext.setLogLevel("ERROR")
            with tempfile.TemporaryDirectory() as tmp:
                run_pyspark(small, spark, Path(tmp))  # warm-up: JIT and planning
                record(
                    "pyspark", args.events, median_of(1, lambda: run_pyspark(big, spark, Path(tmp)))
                )
            spark.stop()
        except ImportError as exc:
            print(f"pyspark not available: {exc}", file=sys.stderr)
    base = results["pystream"]["events_per_second"]
    for res in results.values():
        res["pystream_speedup"] = base / res["events_per_second"]
    workload = {
        "layout": "key int64, ts int64 ms, value int64 (24 bytes)",
        "keys": KEYS,
        "window_ms": WINDOW_MS,
        "watermark_delay_ms": DELAY_MS,
        "batch": BATCH,
        "disorder_ms": 500,
        "runs": args.runs,
    }
    (OUT / "streams_windowed.json").write_text(
        json.dumps({"workload": workload, "results": results}, indent=2)
    )
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        names = list(results)
        fig, ax = plt.subplots(figsize=(7, 3.5))
        ax.barh(names, [results[n]["events_per_second"] / 1e6 for n in names])
        ax.set_xlabel("million events / s (keyed 10 s tumbling count+sum)")
        ax.set_xscale("log")
        fig.tight_layout()
        fig.savefig(OUT / "streams_windowed.png", dpi=120)
    except ImportError:
        pass
    print(f"wrote {OUT / 'streams_windowed.json'}")


if __name__ == "__main__":
    main()
