"""The Nexmark queries in Quix Streams, reading a topic of a pystream broker, and pystream
reading the same topic: the like-for-like pair for a per-record engine that needs Kafka.

Topics (one partition each, so each engine runs on one core; loaded before any timer by a
batching librdkafka producer, JSON values, CreateTime = the event's date_time):
- `nexmark-bids`: one bid per message, keyed by auction id.
- `nexmark-people-auctions`: people keyed by their id and auctions keyed by their seller, in
  event order, `{"kind": "P" | "A", ...}`.

Quix Streams (one `Application`, a fresh consumer group per run, `auto_offset_reset`
earliest, no changelog topics since pystream's runs keep no durable state either, RocksDB
state in a temporary dir): q0 pass-through, q1 `apply`, q2 `filter` + `apply`; q5
`hopping_window(10 s, 2 s).count()` per auction (the message key) and q7
`tumbling_window(10 s).reduce(highest bid)` per auction, both `final(closing_strategy=
"partition")`, the hottest auctions / highest bid per window picked from those rows inside
the timed region; q8 `tumbling_window(10 s).reduce` per person id gathering the person's
name and whether an auction arrived, kept when both did. The timer runs from the first
record Quix hands to the dataframe to the last one (group join and topic set-up excluded,
as Spark's JVM start is); windows holding the last events stay open (no end-of-input
watermark), so their rows are left out of the comparison.

pystream: `KafkaSource` (1M records per trigger) on the same topic, `JsonFormat` decoding
the values, then the query builders of `pystream.streams.nexmark.queries`; q8 reads the
shared topic twice, once per side (each keeps its kind).
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks.streams.nexmark_rows import BID_FIELDS, CHUNK, WINDOW_MS, canonical

BIDS_TOPIC, PA_TOPIC = "nexmark-bids", "nexmark-people-auctions"
PA_SCHEMA = {
    "kind": "str", "id": "int64", "name": "str", "seller": "int64", "date_time": "int64"
}  # fmt: skip
# A run stops itself once the last input record went through; this idle stop is only the
# safety net for a run that never sees it (records missing).
IDLE_STOP_S = 60.0


def topic_for(query: str) -> str:
    return PA_TOPIC if query == "q8" else BIDS_TOPIC


def load_topics(
    bootstrap: str, bids: list[tuple[Any, ...]], people_auctions: list[tuple[Any, ...]]
) -> None:
    """Create both topics and fill them (untimed)."""
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    # The events carry 2023 timestamps: time-based retention (7 days by default, on record
    # timestamps, as in Kafka) would delete them while the benchmark runs.
    topics = [NewTopic(t, 1, 1, config={"retention.ms": "-1"}) for t in (BIDS_TOPIC, PA_TOPIC)]
    for future in admin.create_topics(topics).values():
        future.result()
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "linger.ms": 50,
            "batch.size": 1 << 20,
            "queue.buffering.max.messages": 1_000_000,
        }
    )

    def send(topic: str, key: Any, value: dict[str, Any], ts: int) -> None:
        data = json.dumps(value, separators=(",", ":")).encode()
        while True:
            try:
                producer.produce(topic, data, str(key).encode(), timestamp=ts)
                return
            except BufferError:
                producer.poll(0.05)

    for b in bids:
        send(BIDS_TOPIC, b[0], dict(zip(BID_FIELDS, b, strict=True)), b[5])
    for e in people_auctions:
        if e[0] == "P":
            value = {"kind": "P", "id": e[1], "name": e[3], "date_time": e[2]}
        else:
            value = {"kind": "A", "id": e[3], "seller": e[1], "date_time": e[2]}
        send(PA_TOPIC, e[1], value, e[2])
    if producer.flush(60) != 0:
        raise RuntimeError("the producer could not deliver every Nexmark event")


def run_quix(query: str, bootstrap: str, inputs: int, workdir: Path) -> dict[str, Any]:
    """One Quix Streams run of `query` over the `inputs` records of its topic."""
    from quixstreams import Application

    app = Application(
        broker_address=bootstrap,
        consumer_group=f"nexmark-{query}-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        state_dir=str(workdir / f"quix-state-{uuid.uuid4().hex[:8]}"),
        use_changelog_topics=False,
        loglevel="WARNING",
    )
    topic = app.topic(
        topic_for(query),
        value_deserializer="json",
        key_deserializer="str",
        timestamp_extractor=lambda value, headers, ts, ts_type: value["date_time"],
    )
    sdf = app.dataframe(topic)
    clock: dict[str, float] = {}
    seen = [0]

    def tick(value: Any) -> None:
        # the first and the last input record bound the timed region
        seen[0] += 1
        if seen[0] == 1:
            clock["t0"], clock["c0"] = time.perf_counter(), time.process_time()
        if seen[0] == inputs:
            clock["t1"], clock["c1"] = time.perf_counter(), time.process_time()
            app.stop()  # the loop ends once this record has gone through the dataframe

    sdf = sdf.update(tick)
    sdf = _query(query, sdf)
    out = app.run(timeout=IDLE_STOP_S, metadata=query in ("q5", "q8"))
    if "t1" not in clock:
        raise RuntimeError(f"Quix saw {seen[0]} of {inputs} records of {topic_for(query)}")
    t_post, c_post = time.perf_counter(), time.process_time()
    rows = _finish(query, out)
    post_s, post_cpu = time.perf_counter() - t_post, time.process_time() - c_post
    return {
        "seconds": clock["t1"] - clock["t0"] + post_s,
        "cpu": clock["c1"] - clock["c0"] + post_cpu,
        "rows": len(rows),
        "result": rows,
    }


def _query(query: str, sdf: Any) -> Any:
    if query == "q0":
        return sdf
    if query == "q1":
        return sdf.apply(
            lambda b: {
                "auction": b["auction"],
                "bidder": b["bidder"],
                "price": b["price"] * 0.908,
                "date_time": b["date_time"],
                "extra": b["extra"],
            }
        )
    if query == "q2":
        sdf = sdf.filter(lambda b: b["auction"] % 123 == 0)
        return sdf.apply(lambda b: {"auction": b["auction"], "price": b["price"]})
    if query == "q5":
        window = sdf.hopping_window(duration_ms=WINDOW_MS, step_ms=2_000).count()
        return window.final(closing_strategy="partition")
    if query == "q7":
        window = sdf.tumbling_window(duration_ms=WINDOW_MS).reduce(_higher, lambda b: b)
        return window.final(closing_strategy="partition")
    if query == "q8":
        window = sdf.tumbling_window(duration_ms=WINDOW_MS).reduce(_gather, _gather_first)
        sdf = window.final(closing_strategy="partition")
        return sdf.filter(lambda w: w["value"][0] is not None and w["value"][1])
    raise ValueError(f"unknown query {query}")


def _higher(best: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return b if b["price"] > best["price"] else best


def _gather_first(e: dict[str, Any]) -> list[Any]:
    return _gather([None, False], e)


def _gather(acc: list[Any], e: dict[str, Any]) -> list[Any]:
    """[the person's name once registered, whether an auction arrived] of one (id, window)."""
    if e["kind"] == "P":
        return [e["name"], acc[1]]
    return [acc[0], True]


def _finish(query: str, out: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    if query == "q0":
        return [tuple(b[f] for f in BID_FIELDS) for b in out]
    if query == "q1":
        return [(b["auction"], b["bidder"], b["price"], b["date_time"], b["extra"]) for b in out]
    if query == "q2":
        return [(b["auction"], b["price"]) for b in out]
    if query == "q5":  # the auction is the message key, kept through the run's metadata
        most: dict[int, int] = {}
        for w in out:
            most[w["start"]] = max(most.get(w["start"], 0), w["value"])
        return [
            (w["start"], int(w["_key"]), w["value"]) for w in out if w["value"] == most[w["start"]]
        ]
    if query == "q7":
        best: dict[int, dict[str, Any]] = {}
        for w in out:
            b, start = w["value"], w["start"]
            top = best.get(start)
            if top is None or (b["price"], -b["date_time"]) > (top["price"], -top["date_time"]):
                best[start] = b
        return [(s, b["auction"], b["price"], b["bidder"], b["date_time"]) for s, b in best.items()]
    return [(w["start"], int(w["_key"]), w["value"][0]) for w in out]  # q8


def json_topic(bootstrap: str, query: str, kind: str | None = None) -> Any:
    """A KafkaSource on the query's topic whose values `JsonFormat` decodes when read (only
    the rows of `kind` for q8's sides): the source the query builders take."""
    from pystream.streams import KafkaSource
    from pystream.streams.bytes_column import BytesColumn
    from pystream.streams.formats import JsonFormat
    from pystream.streams.nexmark.generator import BID_SCHEMA
    from pystream.streams.sources.base import Source

    schema = PA_SCHEMA if query == "q8" else BID_SCHEMA
    fmt = JsonFormat(schema)

    class JsonTopic(Source):
        def __init__(self) -> None:
            self.source = KafkaSource(bootstrap, topic_for(query), max_records_per_trigger=CHUNK)
            self.name = f"{self.source.name}:{kind or 'all'}"
            self.schema = dict(schema)
            self.max_records_per_trigger = CHUNK

        def initial_offsets(self) -> dict[int, int]:
            return self.source.initial_offsets()

        def latest_offsets(self) -> dict[int, int]:
            return self.source.latest_offsets()

        def close(self) -> None:
            self.source.close()

        def read(self, start: dict[int, int], end: dict[int, int]) -> Any:
            import numpy as np

            raw = self.source.read(start, end)
            batch = fmt.decode(raw["value"], raw.num_rows)
            if kind is not None:
                kinds = batch["kind"]
                assert isinstance(kinds, BytesColumn)
                batch = batch.filter(np.asarray(kinds.to_fixed()) == kind.encode())
            return batch

    return JsonTopic()


def run_pystream(query: str, bootstrap: str) -> dict[str, Any]:
    """pystream over the same topic: fetch, decode the JSON values, run the query."""
    from pystream.streams import Trigger
    from pystream.streams.nexmark.queries import QUERIES
    from pystream.streams.sinks.foreach import ForeachBatchSink

    if query == "q8":
        inputs = {k: json_topic(bootstrap, query, k[0].upper()) for k in ("person", "auction")}
    else:
        inputs = {"bid": json_topic(bootstrap, query)}
    stream, mode = QUERIES[query](inputs)
    batches: list[Any] = []

    def keep(batch: Any, batch_id: int) -> None:
        batches.append(batch)  # turned into rows after the timer

    t0, c0 = time.perf_counter(), time.process_time()
    stream.write_stream.output_mode(mode).trigger(Trigger.available_now()).sink(
        ForeachBatchSink(keep)
    ).run()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    rows = canonical(query, (r for b in batches for r in b.to_pylist()))
    return {"seconds": seconds, "cpu": cpu, "rows": len(rows), "result": rows}
