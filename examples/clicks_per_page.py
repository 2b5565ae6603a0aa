"""Clicks per page per 10-second window, from the topic `clicks` to `clicks-per-page`.

Each input record's value is a JSON object such as {"page": "/home", "user": 7}; its Kafka
timestamp is the event time. Each output record is keyed by page, with a JSON value
{"window_start": ..., "window_end": ..., "page": ..., "clicks": ...}, written once its
window has closed (the watermark waits 5 seconds for late clicks).

    python examples/clicks_per_page.py --bootstrap localhost:9092   # a running broker
    python examples/clicks_per_page.py --demo   # an embedded broker with sample clicks
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile

from pystream.streams import JsonFormat, KafkaSink, KafkaSource, Stream, Trigger
from pystream.streams import functions as F


def clicks_per_page(bootstrap: str, checkpoint: str, trigger: Trigger) -> None:
    clicks = KafkaSource(bootstrap, "clicks")
    per_page = (
        Stream.from_source(clicks)
        .decode(JsonFormat({"page": "str", "user": "int64"}), keep=["timestamp"])
        .with_watermark("timestamp", "5 seconds")
        .group_by(F.window("timestamp", "10 seconds"), "page")
        .agg(F.count().alias("clicks"))
    )
    query = (
        per_page.write_stream.output_mode("append")
        .trigger(trigger)
        .checkpoint(checkpoint)
        .sink(KafkaSink(bootstrap, "clicks-per-page", key="page", value_format="json"))
        .start()
    )
    query.await_termination()


async def produce_sample_clicks(bootstrap: str, n: int = 1000) -> None:
    from pystream.client import Admin, Cluster, Producer

    cluster = Cluster(bootstrap)
    await Admin(cluster).create_topic("clicks", 3, 1)
    producer = Producer(cluster)
    pages = ["/home", "/cart", "/search", "/checkout"]
    for i in range(n):  # one click every 100 ms of event time, from t = 0
        value = json.dumps({"page": pages[i % 7 % 4], "user": i % 13}).encode()
        await producer.send("clicks", value, key=str(i % 13).encode(), timestamp=i * 100)
    await producer.close()
    await cluster.close()


def print_output(bootstrap: str) -> None:
    from pystream.streams import MemorySink

    out = MemorySink()
    Stream.from_source(KafkaSource(bootstrap, "clicks-per-page")).write_stream.trigger(
        Trigger.available_now()
    ).sink(out).run()
    rows = sorted((json.loads(r["value"]) for r in out.rows()), key=lambda r: r["window_start"])
    for r in rows:
        print(r)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", default="localhost:9092")
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--demo", action="store_true", help="embedded broker, sample clicks")
    args = parser.parse_args()
    checkpoint = args.checkpoint or tempfile.mkdtemp(prefix="clicks-per-page-")
    if not args.demo:
        clicks_per_page(args.bootstrap, checkpoint, Trigger.processing_time("1 second"))
        return
    from pystream.testing import EmbeddedBroker

    with EmbeddedBroker() as broker:
        asyncio.run(produce_sample_clicks(broker.bootstrap))
        # available_now: process what is there, then stop (the last windows stay open
        # until later clicks move the watermark past them)
        clicks_per_page(broker.bootstrap, checkpoint, Trigger.available_now())
        print_output(broker.bootstrap)


if __name__ == "__main__":
    main()
