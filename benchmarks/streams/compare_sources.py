"""Reading a topic into columns: KafkaSource and EmbeddedLogSource vs their floors and peers.

Workload (printed with the results): N records in 3 partitions, 16-byte keys, 100-byte
values, uncompressed batches of 10,000 records written by the native batch builder into a
data dir that an embedded broker then serves (page cache, no fsync). Every engine reads all
N records into memory in the same run:

- kafka source: `KafkaSource.read` over the whole range (Fetch + one native columnar decode
  per partition chunk), through loopback TCP to the in-process broker.
- log source: `EmbeddedLogSource.read` of the broker's data dir while the broker runs
  (mmap of the segments, one native decode per segment chunk).
- client poll: `pystream.client.Consumer.poll` until every record is consumed (a Python
  object per record), the path a per-record consumer takes.
- decode floor: the segment files' bytes already in memory, decoded by one
  `decode_columns` call per partition (no I/O, no protocol).
- file read: `Path.read_bytes` of every segment (the raw sequential-read reference).
- kafka sink: `KafkaSink.write` of 100k keyed rows (murmur2 in one numba call, one
  `Producer.send_batch` per partition); reported separately (`compare_sinks.py` compares
  it with the per-record producer path in the same run).

Writes benchmarks/out/streams_sources.json. Run:
    .venv/bin/python benchmarks/streams/compare_sources.py --records 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "out"
TOPIC, PARTITIONS, BATCH = "bench", 3, 10_000


def write_data_dir(data_dir: Path, n: int) -> None:
    from pystream import _native
    from pystream.record import build_batch

    value = b"v" * 100
    for p in range(PARTITIONS):
        log, _ = _native.PartitionLog.open(str(data_dir / f"{TOPIC}-{p}"), retention_ms=-1)
        count = n // PARTITIONS + (1 if p < n % PARTITIONS else 0)
        for base in range(0, count, BATCH):
            size = min(BATCH, count - base)
            recs = [(b"key-%012d" % (base + i), value, base + i, None) for i in range(size)]
            log.append(build_batch(recs, base_offset=base))
        log.flush()
        log.close()


def timed(fn: Callable[[], int], runs: int) -> dict[str, Any]:
    times, rows = [], 0
    for _ in range(runs):
        began = time.perf_counter()
        rows = fn()
        times.append(time.perf_counter() - began)
    med = statistics.median(times)
    return {"rows": rows, "seconds": times, "median_s": med, "records_per_s": rows / med}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sink-records", type=int, default=100_000)
    args = parser.parse_args()

    from pystream.client import Cluster, Consumer
    from pystream.record import decode_columns
    from pystream.streams import EmbeddedLogSource, KafkaSink, KafkaSource, MicroBatch
    from pystream.streams.bytes_column import BytesColumn
    from pystream.testing import EmbeddedBroker

    tmp = Path(tempfile.mkdtemp(prefix="pystream-bench-"))
    write_data_dir(tmp / "data", args.records)
    segments = sorted((tmp / "data").glob(f"{TOPIC}-*/*.log"))
    results: dict[str, Any] = {
        "workload": {
            "records": args.records,
            "partitions": PARTITIONS,
            "key_bytes": 16,
            "value_bytes": 100,
            "records_per_batch": BATCH,
            "compression": "none",
            "bytes_on_disk": sum(p.stat().st_size for p in segments),
        }
    }
    with EmbeddedBroker(data_dir=tmp / "data") as broker:
        kafka = KafkaSource(broker.bootstrap, TOPIC)
        local = EmbeddedLogSource(tmp / "data", TOPIC)
        start, end = kafka.initial_offsets(), kafka.latest_offsets()
        assert sum(end.values()) == args.records

        def poll() -> int:
            async def go() -> int:
                cluster = Cluster(broker.bootstrap)
                consumer = Consumer(cluster, max_wait_ms=0)
                await consumer.assign(TOPIC, None, -2)
                n = 0
                while n < args.records:
                    n += len(await consumer.poll())
                await cluster.close()
                return n

            return asyncio.run(go())

        def floor() -> int:
            total = 0
            for p in range(PARTITIONS):
                parts = sorted((tmp / "data" / f"{TOPIC}-{p}").glob("*.log"))
                blob = b"".join(f.read_bytes() for f in parts)
                began = time.perf_counter()
                total += len(decode_columns(blob).offsets)
                floor_decode[0] += time.perf_counter() - began
            return total

        floor_decode = [0.0]
        results["kafka_source"] = timed(lambda: kafka.read(start, end).num_rows, args.runs)
        results["log_source"] = timed(lambda: local.read(start, end).num_rows, args.runs)
        results["client_poll"] = timed(poll, args.runs)
        results["file_read"] = timed(
            lambda: sum(len(p.read_bytes()) for p in segments) // 116, args.runs
        )
        results["decode_floor"] = timed(floor, args.runs)
        results["decode_floor"]["decode_only_s_total"] = floor_decode[0]

        n = args.sink_records
        keys = BytesColumn.from_pylist([b"key-%012d" % i for i in range(n)])
        rows = MicroBatch({"key": keys, "value": BytesColumn.from_pylist([b"v" * 100] * n)})
        sink = KafkaSink(broker.bootstrap, "bench-out", key="key")
        sink.open(tmp)
        ids = iter(range(1 << 30))
        results["kafka_sink"] = timed(lambda: (sink.write(rows, next(ids), "append"), n)[1], 1)
        sink.close()
        kafka.close()
        local.close()

    OUT.mkdir(exist_ok=True)
    (OUT / "streams_sources.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["workload"]))
    ref = results["kafka_source"]["records_per_s"]
    for name in (
        "kafka_source",
        "log_source",
        "client_poll",
        "decode_floor",
        "file_read",
        "kafka_sink",
    ):
        r = results[name]
        spread = f"{min(r['seconds']):.3f}-{max(r['seconds']):.3f} s"
        print(
            f"{name:14s} {r['records_per_s'] / 1e6:8.2f} M records/s  ({spread})  "
            f"kafka source is {ref / r['records_per_s']:.2f}x"
        )


if __name__ == "__main__":
    main()
