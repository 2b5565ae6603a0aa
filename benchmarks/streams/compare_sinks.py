"""Writing a batch of rows to a topic: `KafkaSink.write` vs the per-record producer path.

Workload: N keyed rows (16-byte keys, 100-byte values) written to a 3-partition topic of an
in-process broker (acks=all, idempotent producer), same run:

- kafka sink: `KafkaSink.write` (murmur2 partitioning in one numba call, rows grouped by
  partition, one `Producer.send_batch` per partition, partitions concurrently).
- per-record send: the sink's former path, one `Producer.send` (a future) per row, then
  `flush`, as a per-record producer application writes.
- native build floor: `build_batch` of the same rows in 1 MiB chunks, no I/O.

Writes benchmarks/out/streams_sinks.json. Run:
    .venv/bin/python benchmarks/streams/compare_sinks.py --records 300000 --runs 3
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
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from pystream.client import Cluster, Producer
    from pystream.record import build_batch
    from pystream.streams import KafkaSink, MicroBatch
    from pystream.streams.bytes_column import BytesColumn
    from pystream.testing import EmbeddedBroker

    n = args.records
    key_list = [b"key-%012d" % i for i in range(n)]
    value = b"v" * 100
    rows = MicroBatch(
        {"key": BytesColumn.from_pylist(key_list), "value": BytesColumn.from_pylist([value] * n)}
    )
    tmp = Path(tempfile.mkdtemp(prefix="pystream-bench-"))
    results: dict[str, Any] = {
        "workload": {"records": n, "partitions": 3, "key_bytes": 16, "value_bytes": 100}
    }
    with EmbeddedBroker(data_dir=tmp / "data", config={"num.partitions": 3}) as broker:
        sink = KafkaSink(broker.bootstrap, "sink-out", key="key")
        sink.open(tmp)
        ids = iter(range(1 << 30))
        results["kafka_sink"] = timed(
            lambda: (sink.write(rows, next(ids), "append"), n)[1], args.runs
        )
        sink.close()

        def per_record() -> int:
            async def go() -> int:
                cluster = Cluster(broker.bootstrap)
                producer = Producer(cluster)
                futures = [await producer.send("send-out", value, key=k) for k in key_list]
                await producer.flush()
                await asyncio.gather(*futures)
                await cluster.close()
                return len(futures)

            return asyncio.run(go())

        results["per_record_send"] = timed(per_record, args.runs)

    def floor() -> int:
        chunk = (1 << 20) // 132
        for lo in range(0, n, chunk):
            build_batch([(k, value, 0) for k in key_list[lo : lo + chunk]])
        return n

    results["build_floor"] = timed(floor, args.runs)
    OUT.mkdir(exist_ok=True)
    (OUT / "streams_sinks.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results["workload"]))
    ref = results["kafka_sink"]["records_per_s"]
    for name in ("kafka_sink", "per_record_send", "build_floor"):
        r = results[name]
        spread = f"{min(r['seconds']):.3f}-{max(r['seconds']):.3f} s"
        print(
            f"{name:16s} {r['records_per_s'] / 1e6:8.3f} M records/s  ({spread})  "
            f"{r['records_per_s'] / ref:.2f}x the kafka sink's rate"
        )


if __name__ == "__main__":
    main()
