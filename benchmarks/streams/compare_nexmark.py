"""Nexmark q0, q1, q2, q5, q7 and q8: pystream vs Bytewax, PySpark and Quix Streams, one run.

Every engine gets the same events: the first N events of pystream's Nexmark generator
(q0-q7 read the bids, 46 of every 50 events; q8 reads the people and auctions, 4 of every
50), generated before any timer starts. Figures count all N Nexmark events, as Nexmark
reports do, per second of wall time and per CPU-second (per core); `input_records` says how
many records the engine actually read.

- pystream: the queries of `pystream.streams.nexmark.queries` over the pre-generated
  columns (1M records per batch), results counted by a foreachBatch sink, on one core.
- bytewax: `nexmark_bytewax` (one worker, a `TestingSource` of tuples).
- pyspark: `nexmark_spark` (`local[1]`, Parquet files, availableNow; JVM start and a
  warm-up query excluded).
- quix: `nexmark_quix`: Quix Streams reading JSON from a topic of a pystream broker (a
  separate process), beside pystream reading the same topic (`pystream-kafka`), the
  like-for-like pair; the broker's CPU is in neither engine's figure.

Results are verified, not only counted: every engine's result rows are compared as a
multiset with pystream's on the same events (`nexmark_rows.compare`). Bytewax, Quix and
pystream-kafka are checked on their timed runs; Spark's timed runs count rows (its
collected rows would change the sink), so Spark is checked by a separate run over the first
`--verify-events` events that collects every row, and its timed row counts are checked
against pystream's. Engines without an end-of-input watermark leave the windows holding the
last events open; those windows are left out of their comparison (`OPEN_AT_END`).

Writes benchmarks/out/streams_nexmark.json and .png. Run:
    .venv/bin/python benchmarks/streams/compare_nexmark.py --events 10000000 \\
        --peer-events 1000000 --spark-events 5000000 --quix-events 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.streams import nexmark_rows as rows_of
from benchmarks.streams.nexmark_rows import CHUNK, OPEN_AT_END

OUT = Path(__file__).resolve().parents[1] / "out"
QUERIES = ("q0", "q1", "q2", "q5", "q7", "q8")
ENGINES = ("pystream", "bytewax", "pyspark", "pystream-kafka", "quix")


def run_pystream(query: str, events: int, *, keep: bool = False) -> dict[str, Any]:
    """pystream over pre-generated columns; with `keep`, the result rows too (after the
    timer)."""
    from pystream.streams import Trigger
    from pystream.streams.nexmark import generator
    from pystream.streams.nexmark.queries import KINDS
    from pystream.streams.nexmark.queries import QUERIES as BUILDERS
    from pystream.streams.sinks.foreach import ForeachBatchSink

    inputs = {
        kind: generator.pregenerate(kind, events, max_records_per_trigger=CHUNK)
        for kind in KINDS[query]
    }
    stream, mode = BUILDERS[query](inputs)  # type: ignore[arg-type]
    count = [0]
    batches: list[Any] = []

    def sink(batch: Any, batch_id: int) -> None:
        count[0] += batch.num_rows
        if keep:
            batches.append(batch)

    t0, c0 = time.perf_counter(), time.process_time()
    stream.write_stream.output_mode(mode).trigger(Trigger.available_now()).sink(
        ForeachBatchSink(sink)
    ).run()
    out: dict[str, Any] = {
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
        "rows": count[0],
    }
    if keep:
        out["result"] = rows_of.canonical(query, (r for b in batches for r in b.to_pylist()))
    return out


@functools.lru_cache(maxsize=2)  # pystream-kafka and Quix check against the same rows
def reference(query: str, events: int) -> list[tuple[Any, ...]]:
    return run_pystream(query, events, keep=True)["result"]


def _closed_by(engine: str, query: str, events: int) -> int | None:
    open_at_end = (engine, query) in OPEN_AT_END
    return rows_of.last_event_time(query, events) if open_at_end else None


def verify(engine: str, query: str, events: int, got: list[tuple[Any, ...]]) -> dict[str, Any]:
    closed_by = _closed_by(engine, query, events)
    check = rows_of.compare(query, reference(query, events), got, closed_by=closed_by)
    check["events"] = events
    return check


def expected_rows(engine: str, query: str, events: int) -> int:
    """How many rows pystream gives, counting only the windows `engine` closes."""
    closed_by = _closed_by(engine, query, events)
    if closed_by is None:
        return run_pystream(query, events)["rows"]
    return rows_of.compare(query, reference(query, events), [], closed_by=closed_by)["missing"]


def median_of(runs: int, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    results = [fn() for _ in range(runs)]
    secs = [r["seconds"] for r in results]
    out = dict(results[len(results) // 2])
    out["seconds"] = statistics.median(secs)
    out["cpu"] = statistics.median(r["cpu"] for r in results)
    out["spread"] = [min(secs), max(secs)]
    out["runs"] = runs
    return out


class Report:
    """Collects results per query and engine, printing each line as it comes."""

    def __init__(self, queries: list[str]) -> None:
        self.results: dict[str, dict[str, Any]] = {q: {} for q in queries}
        self.skipped: dict[str, str] = {}

    def skip(self, engine: str, reason: str) -> None:
        self.skipped[engine] = reason
        print(f"skipping {engine}: {reason}", file=sys.stderr, flush=True)

    def record(
        self, query: str, engine: str, events: int, res: dict[str, Any], check: Any = None
    ) -> None:
        res = {k: v for k, v in res.items() if k != "result"}
        res["events"] = events
        res["input_records"] = rows_of.input_records(query, events)
        res["events_per_second"] = events / res["seconds"]
        res["events_per_cpu_second"] = events / res["cpu"] if res["cpu"] else None
        if check is not None:
            res["verified"] = check
        self.results[query][engine] = res
        ok = "" if check is None else ("  rows verified" if check["equal"] else "  ROWS DIFFER")
        print(
            f"{query} {engine:>14}: {events:>11,} events {res['seconds']:8.3f} s "
            f"{res['events_per_second']:>13,.0f} ev/s {res['events_per_cpu_second'] or 0:>13,.0f}"
            f" ev/CPU-s  rows={res['rows']:,}{ok}",
            flush=True,
        )

    def ratios(self) -> None:
        """pystream's speed over each engine's; Quix also against pystream-kafka."""
        for per_engine in self.results.values():
            bases = {b: per_engine[b] for b in ("pystream", "pystream-kafka") if b in per_engine}
            for res in per_engine.values():
                for name, base in bases.items():
                    res[f"{name}_speedup"] = base["events_per_second"] / res["events_per_second"]
                    if base["events_per_cpu_second"] and res["events_per_cpu_second"]:
                        res[f"{name}_speedup_per_core"] = (
                            base["events_per_cpu_second"] / res["events_per_cpu_second"]
                        )


def run_bytewax(args: argparse.Namespace, report: Report) -> None:
    from benchmarks.streams import nexmark_bytewax

    bids = rows_of.bid_tuples(args.peer_events) if set(args.queries) - {"q8"} else []
    people_auctions = rows_of.person_auction_tuples(args.peer_events)
    for q in args.queries:
        res = nexmark_bytewax.run(q, people_auctions if q == "q8" else bids)
        report.record(
            q,
            "bytewax",
            args.peer_events,
            res,
            verify("bytewax", q, args.peer_events, res["result"]),
        )


def run_pyspark(args: argparse.Namespace, report: Report) -> None:
    from benchmarks.streams import nexmark_spark

    spark = nexmark_spark.session()
    with tempfile.TemporaryDirectory() as tmp:
        warm, check, data = Path(tmp) / "warm", Path(tmp) / "check", Path(tmp) / "data"
        nexmark_spark.write_parquet(min(args.spark_events, 500_000), warm)
        nexmark_spark.write_parquet(args.verify_events, check)
        nexmark_spark.write_parquet(args.spark_events, data)
        for q in args.queries:
            nexmark_spark.run(q, spark, warm, Path(tmp))  # warm-up: JIT, planning
            collected = nexmark_spark.run(q, spark, check, Path(tmp), collect=True)
            check_rows = verify("pyspark", q, args.verify_events, collected["result"])
            res = nexmark_spark.run(q, spark, data, Path(tmp))
            want = expected_rows("pyspark", q, args.spark_events)
            check_rows["timed_rows_expected"] = want
            check_rows["timed_rows_equal"] = want == res["rows"]
            check_rows["equal"] = check_rows["equal"] and check_rows["timed_rows_equal"]
            report.record(q, "pyspark", args.spark_events, res, check_rows)
    spark.stop()


def run_quix(args: argparse.Namespace, report: Report) -> None:
    from benchmarks.peers.pystream_broker import PystreamPeer
    from benchmarks.streams import nexmark_quix

    n = args.quix_events
    with tempfile.TemporaryDirectory() as tmp, PystreamPeer() as peer:
        bootstrap = peer.start(Path(tmp))
        nexmark_quix.load_topics(bootstrap, rows_of.bid_tuples(n), rows_of.person_auction_tuples(n))
        for q in args.queries:
            res = median_of(args.runs, functools.partial(nexmark_quix.run_pystream, q, bootstrap))
            report.record(
                q, "pystream-kafka", n, res, verify("pystream-kafka", q, n, res["result"])
            )
            try:
                res = nexmark_quix.run_quix(q, bootstrap, rows_of.input_records(q, n), Path(tmp))
            except RuntimeError as exc:  # one failed query must not lose the others
                report.skip(f"quix {q}", f"failed: {exc}")
                continue
            report.record(q, "quix", n, res, verify("quix", q, n, res["result"]))


def plot(results: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    queries = list(results)
    engines = [e for e in ENGINES if any(e in results[q] for q in queries)]
    width = 0.8 / len(engines)
    fig, ax = plt.subplots(figsize=(10, 5))
    for i, engine in enumerate(engines):
        xs = [j + i * width for j, q in enumerate(queries) if engine in results[q]]
        ys = [results[q][engine]["events_per_cpu_second"] for q in queries if engine in results[q]]
        ax.bar(xs, ys, width, label=engine)
    ax.set_xticks([j + width * (len(engines) - 1) / 2 for j in range(len(queries))], queries)
    ax.set_yscale("log")
    ax.set_ylabel("Nexmark events per CPU-second (log)")
    ax.set_title("Nexmark, one core per engine (benchmarks/streams/compare_nexmark.py)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--peer-events", type=int, default=1_000_000, help="bytewax events")
    parser.add_argument("--spark-events", type=int, default=5_000_000)
    parser.add_argument("--quix-events", type=int, default=1_000_000)
    parser.add_argument("--verify-events", type=int, default=200_000, help="Spark's check")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--queries", nargs="*", default=list(QUERIES))
    parser.add_argument("--out", type=Path, default=OUT, help="directory for the results")
    parser.add_argument("--skip", nargs="*", default=[], choices=["bytewax", "pyspark", "quix"])
    args = parser.parse_args()
    report = Report(args.queries)
    started = {"time": time.strftime("%Y-%m-%d %H:%M:%S"), "loadavg": _loadavg()}
    for q in args.queries:
        report.record(
            q,
            "pystream",
            args.events,
            median_of(args.runs, functools.partial(run_pystream, q, args.events)),
        )
    runners = {"bytewax": run_bytewax, "pyspark": run_pyspark, "quix": run_quix}
    modules = {"bytewax": "bytewax", "pyspark": "pyspark", "quix": "quixstreams"}
    for name, runner in runners.items():
        if name in args.skip:
            report.skip(name, f"--skip {name}")
        elif importlib.util.find_spec(modules[name]) is None:
            report.skip(name, f"{modules[name]} is not installed (the bench extra)")
        else:
            try:
                runner(args, report)
            except Exception as exc:  # a peer that fails must not lose the others' figures
                report.skip(name, f"failed: {exc!r}")
        save(args, report, started)  # after every engine, so a failure keeps what ran
    differ = [
        f"{q} {e}" for q, per in report.results.items() for e, r in per.items()
        if not r.get("verified", {"equal": True})["equal"]
    ]  # fmt: skip
    if differ:
        print(f"results differ from pystream's: {', '.join(differ)}", file=sys.stderr)
        sys.exit(1)


def save(args: argparse.Namespace, report: Report, started: dict[str, Any]) -> None:
    report.ratios()
    ended = {"time": time.strftime("%Y-%m-%d %H:%M:%S"), "loadavg": _loadavg()}
    args.out.mkdir(parents=True, exist_ok=True)
    doc = {
        "versions": _versions(),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "started": started,
        "ended": ended,
        "skipped": report.skipped,
        "results": report.results,
    }
    (args.out / "streams_nexmark.json").write_text(json.dumps(doc, indent=2) + "\n")
    plot(report.results, args.out / "streams_nexmark.png")
    print(
        f"wrote {args.out / 'streams_nexmark.json'} and .png; load {started['loadavg']} -> "
        f"{ended['loadavg']}",
        file=sys.stderr,
    )


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for dist in ("pystream", "numpy", "bytewax", "pyspark", "quixstreams", "confluent-kafka"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = None
    return out


def _loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


if __name__ == "__main__":
    main()
