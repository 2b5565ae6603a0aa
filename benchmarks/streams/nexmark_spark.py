"""The Nexmark queries in PySpark Structured Streaming, local mode.

The events are written as Parquet first (not timed): bids, people and auctions each in files
of 1M records; every source reads one file per trigger (`maxFilesPerTrigger` 1) and runs
availableNow. q0-q2 go to the `noop` sink (every row materialized); q5/q7 run in append mode
into foreachBatch (q5 picks the hottest auctions per window there); q8 is a stream-stream
left semi join of people and auctions on id = seller and equal 10 s windows, both sides with
a zero watermark delay, into foreachBatch. With `collect`, foreachBatch keeps every result
row (for verification; slower, so timed runs count rows instead). CPU is the JVM's (from
/proc) plus this process's.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.streams.nexmark_rows import CHUNK

BID_SCHEMA = (
    "auction LONG, bidder LONG, price LONG, channel STRING, url STRING, "
    "date_time LONG, extra STRING"
)
PERSON_SCHEMA = "id LONG, name STRING, date_time LONG"
AUCTION_SCHEMA = "id LONG, seller LONG, date_time LONG"
KINDS = {"bid": BID_SCHEMA, "person": PERSON_SCHEMA, "auction": AUCTION_SCHEMA}


def session() -> Any:
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def write_parquet(events: int, folder: Path) -> None:
    """Bids, people and auctions of the first `events` events under folder/<kind>/."""
    import pyarrow.parquet as pq

    from pystream.streams.nexmark import generator as g

    makers = {"bid": g.bids, "person": g.persons, "auction": g.auctions}
    for kind, schema in KINDS.items():
        columns = [c.split()[0] for c in schema.split(", ")]
        (folder / kind).mkdir(parents=True)
        total = g.count_of(kind, events)
        for j, start in enumerate(range(0, total, CHUNK)):
            batch = makers[kind](start, min(start + CHUNK, total)).select(columns)
            pq.write_table(batch.to_arrow(), folder / kind / f"part-{j:05d}.parquet")


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


def _query(query: str, spark: Any, data: Path) -> tuple[Any, Any]:
    """The streaming DataFrame of a query and the batch function foreachBatch applies (None
    for the noop sink); the function returns the rows it produced as a DataFrame."""
    from pyspark.sql import Window
    from pyspark.sql import functions as SF

    def source(kind: str) -> Any:
        df = spark.readStream.schema(KINDS[kind]).option("maxFilesPerTrigger", 1)
        df = df.parquet(str(data / kind))
        return df.withColumn("event_time", SF.timestamp_millis("date_time"))

    def start_ms(df: Any) -> Any:
        return df.withColumn("window_start", SF.unix_millis(SF.col("window.start")))

    if query in ("q0", "q1", "q2"):
        bids = source("bid")
        if query == "q0":
            return bids.drop("event_time"), None
        if query == "q1":
            # lit(float) keeps the product a double, as in the other engines (a bare
            # 0.908 would make Spark compute in decimal)
            price = (SF.col("price") * SF.lit(0.908)).alias("price")
            return bids.select("auction", "bidder", price, "date_time", "extra"), None
        return bids.filter(SF.col("auction") % 123 == 0).select("auction", "price"), None
    if query == "q5":
        counts = (
            source("bid")
            .withWatermark("event_time", "0 seconds")
            .groupBy(SF.window("event_time", "10 seconds", "2 seconds"), "auction")
            .agg(SF.count("*").alias("num"))
        )

        def hottest(df: Any) -> Any:
            best = SF.max("num").over(Window.partitionBy("window"))
            df = df.withColumn("best", best).filter(SF.col("num") == SF.col("best"))
            return start_ms(df).select("window_start", "auction", "num")

        return counts, hottest
    if query == "q7":
        top = (
            source("bid")
            .withWatermark("event_time", "0 seconds")
            .groupBy(SF.window("event_time", "10 seconds"))
            .agg(
                SF.max(
                    SF.struct(
                        "price", (-SF.col("date_time")).alias("earliest"), "auction", "bidder"
                    )
                ).alias("top")
            )
        )

        def flat(df: Any) -> Any:
            return start_ms(df).select(
                "window_start",
                "top.auction",
                "top.price",
                "top.bidder",
                (-SF.col("top.earliest")).alias("date_time"),
            )

        return top, flat
    if query == "q8":
        window = SF.window("event_time", "10 seconds")
        people = source("person").withWatermark("event_time", "0 seconds").withColumn("pw", window)
        sellers = (
            source("auction")
            .withWatermark("event_time", "0 seconds")
            .select(SF.col("seller"), window.alias("aw"))
        )
        joined = people.join(
            sellers, (people.id == sellers.seller) & (people.pw == sellers.aw), "leftsemi"
        ).select(SF.unix_millis(SF.col("pw.start")).alias("window_start"), "id", "name")
        return joined, lambda df: df
    raise ValueError(f"unknown query {query}")


def run(
    query: str, spark: Any, data: Path, workdir: Path, *, collect: bool = False
) -> dict[str, Any]:
    """Run one query over the Parquet files under `data`; seconds, CPU seconds, result row
    count, and with `collect` the result rows as tuples."""
    from benchmarks.streams.nexmark_rows import ROW_FIELDS

    out, per_batch = _query(query, spark, data)
    rows: list[int] = [0]
    kept: list[tuple[Any, ...]] = []
    if collect and per_batch is None:
        fields = ROW_FIELDS[query]
        out, per_batch = out.select(*fields), lambda df: df

    def sink(df: Any, batch_id: int) -> None:
        result = per_batch(df)
        if collect:
            got = result.collect()
            kept.extend(tuple(r) for r in got)
            rows[0] += len(got)
        else:
            rows[0] += result.count()

    c0, j0 = time.process_time(), _jvm_cpu(spark)
    t0 = time.perf_counter()
    writer = out.writeStream.option("checkpointLocation", tempfile.mkdtemp(dir=workdir))
    writer = writer.trigger(availableNow=True)
    if per_batch is None:
        handle = writer.format("noop").start()
    else:
        handle = writer.outputMode("append").foreachBatch(sink).start()
    handle.awaitTermination()
    seconds = time.perf_counter() - t0
    if per_batch is None:
        rows[0] = sum(p["sink"]["numOutputRows"] for p in handle.recentProgress)
    cpu = time.process_time() - c0 + _jvm_cpu(spark) - j0
    return {"seconds": seconds, "cpu": cpu, "rows": rows[0], "result": kept if collect else None}
