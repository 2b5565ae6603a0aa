"""Start the peers, run the same workloads against each in turn, measure the machine, report.

Usage (from the repository root, in the venv):

    python -m benchmarks.compare.run --quick            # a few minutes
    python -m benchmarks.compare.run                    # full: longer runs, more repeats
    python -m benchmarks.compare.run --peers tansu,kafka --quick

Writes `docs/benchmarks/results.json`, PNG plots beside it, and the results
section of `docs/benchmarks.md`. A peer that cannot be started is reported
as "not started: <reason>"; a run that fails is reported with its error.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from benchmarks.compare.machine import settle, touch_free_memory
from benchmarks.compare.matrix import (
    FULL,
    QUICK,
    RECORD_SIZE,
    Mode,
    consume_cases,
    produce_cases,
)
from benchmarks.compare.report import render_markdown, update_doc, write_plots
from benchmarks.peers import PEERS, KafkaPeer, Peer, PeerNotStarted
from benchmarks.peers.java_tools import run_producer_performance
from pystream.bench.ceiling import measure_enqueue_ceiling
from pystream.bench.limits import measure_disk, measure_loopback_tcp
from pystream.bench.proc_cpu import cpu_usage, tree_cpu_times
from pystream.bench.result import BenchResult, write_json
from pystream.bench.runner import run_consume, run_e2e, run_produce
from pystream.bench.stats import median_and_spread
from pystream.bench.topics import delete_topic, ensure_topic
from pystream.bench.workload import ConsumeWorkload, EndToEndWorkload, ProduceWorkload

REPO = Path(__file__).resolve().parents[2]
JAVA_PROPS = {"acks": "1", "batch.size": "1048576", "linger.ms": "5"}


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.render:
        # Re-render the tables and plots from a stored results.json (no brokers started).
        stored = json.loads(args.render.read_text(encoding="utf-8"))
        write_plots(stored, args.out)
        update_doc(args.doc, render_markdown(stored, args.out, args.doc.parent))
        return 0
    mode = QUICK if args.quick else FULL
    if args.repeats:
        mode = Mode(**{**mode.__dict__, "repeats": args.repeats})
    console = Console()
    work_root = Path(tempfile.mkdtemp(prefix="pystream-compare-", dir=args.work_dir))
    command = "python -m benchmarks.compare.run " + shlex.join(
        sys.argv[1:] if argv is None else argv
    )
    results: dict[str, Any] = {
        "schema": 1,
        "mode": mode.__dict__,
        "command": command.strip(),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": host_info(),
        "work_dir_filesystem": str(work_root),
        "limits": {},
        "peers": {},
        "load_average": {"start": os.getloadavg()},
    }
    try:
        console.rule("machine")
        results["memory_touch"] = touch_free_memory()
        console.print(
            "touched {touched_gib:.1f} GiB of free memory in {seconds:.1f} s (first-touch "
            "faults of a fresh VM would otherwise fall on the first peer)".format(
                **results["memory_touch"]
            )
        )
        console.rule("physical limits")
        results["limits"] = measure_limits(mode, work_root, console)
        console.rule("peers: " + ", ".join(args.peers))
        results["peers"], running = start_peers(
            [PEERS[name]() for name in args.peers], work_root, console
        )
        try:
            run_interleaved(running, mode, console)
        finally:
            for r in running:
                r.peer.stop()
    finally:
        if not args.keep:
            shutil.rmtree(work_root, ignore_errors=True)
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["load_average"]["end"] = os.getloadavg()
    out_dir: Path = args.out
    write_json(out_dir / "results.json", results)
    plots = write_plots(results, out_dir)
    markdown = render_markdown(results, out_dir, args.doc.parent)
    update_doc(args.doc, markdown)
    console.print(f"wrote {out_dir / 'results.json'}, {len(plots)} plots and {args.doc}")
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.compare.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="short runs (a few minutes)")
    parser.add_argument(
        "--peers",
        default="pystream,tansu,kafka",
        type=lambda s: [p.strip() for p in s.split(",") if p.strip()],
        help="comma-separated, from: " + ", ".join(PEERS),
    )
    parser.add_argument("--repeats", type=int, default=0, help="override the mode's repeats")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks")
    parser.add_argument("--doc", type=Path, default=REPO / "docs" / "benchmarks.md")
    parser.add_argument(
        "--work-dir", type=Path, default=None, help="where brokers keep data (default: $TMPDIR)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work dir (logs, data)")
    parser.add_argument(
        "--render", type=Path, default=None, help="only re-render the docs from this results.json"
    )
    args = parser.parse_args(argv)
    unknown = [p for p in args.peers if p not in PEERS]
    if unknown:
        parser.error(f"unknown peers {unknown}; choose from {', '.join(PEERS)}")
    return args


def host_info() -> dict[str, Any]:
    import confluent_kafka

    cpu_model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "confluent_kafka": getattr(confluent_kafka, "__version__", "")
        or str(confluent_kafka.version()),
        "librdkafka": confluent_kafka.libversion()[0],
    }


def measure_limits(mode: Mode, work_root: Path, console: Console) -> dict[str, Any]:
    disk = measure_disk(work_root / "disk", mode.disk_mib)
    console.print(
        f"disk write+fsync {disk.write_fsync_mb_s:,.0f} MB/s, read cold {disk.read_cold_mb_s:,.0f}"
        f" MB/s ({disk.cold_read_method}), read cached {disk.read_cached_mb_s:,.0f} MB/s"
    )
    tcp = measure_loopback_tcp(mode.tcp_mib)
    console.print(f"loopback TCP {tcp:,.0f} MB/s")
    ceiling = measure_enqueue_ceiling(300_000, RECORD_SIZE)
    console.print(
        f"load generator enqueue ceiling (1 process, no broker) {ceiling.records_per_s:,.0f} "
        f"records/s ({ceiling.mb_per_s:,.0f} MB/s)"
    )
    return {
        "disk": disk.to_dict(),
        "loopback_tcp_mb_s": tcp,
        "client_enqueue_ceiling": ceiling.to_dict(),
    }


@dataclass
class Running:
    """A started peer: its result entry, bootstrap address and process id."""

    peer: Peer
    entry: dict[str, Any]
    bootstrap: str
    pid: int | None


def start_peers(
    peers: list[Peer], work_root: Path, console: Console
) -> tuple[dict[str, dict[str, Any]], list[Running]]:
    """Start every peer; the ones that cannot start are reported, never skipped silently."""
    entries: dict[str, dict[str, Any]] = {}
    running: list[Running] = []
    for peer in peers:
        entry: dict[str, Any] = {"describe": peer.describe(), "errors": []}
        entries[peer.name] = entry
        started = time.monotonic()
        try:
            bootstrap = peer.start(work_root / peer.name)
        except PeerNotStarted as exc:
            console.print(f"[red]{peer.name}: not started: {exc}")
            peer.stop()
            entry.update(status="not started", reason=str(exc))
            continue
        entry.update(status="ok", bootstrap=bootstrap, start_s=time.monotonic() - started)
        entry["describe"] = peer.describe()
        pid = peer.process.pid if peer.process is not None else None
        running.append(Running(peer, entry, bootstrap, pid))
    return entries, running


def run_interleaved(running: list[Running], mode: Mode, console: Console) -> None:
    """Every workload, repeat by repeat, on each peer in turn.

    All peers run at once and take turns per run, so whatever else the shared
    machine does (and the page cache's dirty data) falls on every peer alike
    instead of on whichever peer happened to run last.
    """
    for r in running:
        r.entry["load_average_start"] = os.getloadavg()
        _attempt(
            r.entry,
            console,
            f"{r.peer.name} warm-up",
            lambda b=r.bootstrap: run_produce(_produce(b, "warmup", mode)),
            r.pid,
        )
    cases = produce_cases()
    consumed = {c.source_key for c in consume_cases()}
    produce = {r.peer.name: {c.key: {"label": c.label, "runs": []} for c in cases} for r in running}
    for rep in range(mode.repeats):
        for case in cases:
            for r in running:
                workload = _produce(
                    r.bootstrap,
                    f"bench-{case.key}-r{rep}",
                    mode,
                    partitions=case.partitions,
                    acks=case.acks,
                    num_producers=case.producers,
                    client=case.client,
                )
                label = f"{r.peer.name} {case.label} (run {rep + 1}/{mode.repeats})"
                result = _attempt(
                    r.entry, console, label, lambda w=workload: run_produce(w, console), r.pid
                )
                if result is not None:
                    produce[r.peer.name][case.key]["runs"].append(result.to_dict())
                if rep > 0 or case.key not in consumed:
                    # Only the first single-producer topics are read back; an in-memory
                    # peer would otherwise hold every run's records.
                    delete_topic(r.bootstrap, workload.topic)
    for r in running:
        r.entry["produce"] = {k: summarize(v) for k, v in produce[r.peer.name].items()}

    ccases = consume_cases()
    consume = {
        r.peer.name: {c.key: {"label": c.label, "runs": []} for c in ccases} for r in running
    }
    for rep in range(mode.repeats):
        for ccase in ccases:
            for r in running:
                cworkload = ConsumeWorkload(
                    r.bootstrap,
                    f"bench-{ccase.source_key}-r0",
                    mode.produce_records,
                    num_consumers=ccase.consumers,
                    offset_slices=ccase.consumers > 1,
                    reader=ccase.reader,
                )
                label = f"{r.peer.name} consume {ccase.label} (run {rep + 1}/{mode.repeats})"
                result = _attempt(
                    r.entry, console, label, lambda w=cworkload: run_consume(w, console), r.pid
                )
                if result is not None:
                    consume[r.peer.name][ccase.key]["runs"].append(result.to_dict())
    for r in running:
        r.entry["consume"] = {k: summarize(v) for k, v in consume[r.peer.name].items()}

    for r in running:
        e2e = EndToEndWorkload(
            _produce(
                r.bootstrap,
                "bench-e2e",
                mode,
                num_records=mode.e2e_rate * mode.e2e_seconds,
                throughput=mode.e2e_rate,
                acks="all",
                client="python",  # the end-to-end tool stamps send times from Python
            )
        )
        label = f"{r.peer.name} end-to-end at {mode.e2e_rate} records/s"
        result = _attempt(r.entry, console, label, lambda w=e2e: run_e2e(w, console), r.pid)
        r.entry["e2e"] = result.to_dict() if result is not None else None
        r.entry["java_producer"] = java_cross_check(r.bootstrap, mode, console)
        r.entry["load_average_end"] = os.getloadavg()


def java_cross_check(bootstrap: str, mode: Mode, console: Console) -> dict[str, Any]:
    """Kafka's ProducerPerformance on the same broker (1 partition, acks=1)."""
    kafka = KafkaPeer()
    try:
        kafka.prepare()
        ensure_topic(bootstrap, "bench-java-p1", 1)
        result = run_producer_performance(
            kafka, bootstrap, "bench-java-p1", mode.java_records, RECORD_SIZE, JAVA_PROPS
        )
    except (PeerNotStarted, RuntimeError, ValueError, OSError) as exc:
        console.print(f"[yellow]Java ProducerPerformance not run: {exc}")
        return {"error": str(exc)}
    console.print(
        f"Java ProducerPerformance: {result.records_per_s:,.0f} records/s "
        f"({result.mb_per_s:.1f} MB/s), p99 {result.p99_ms:.0f} ms"
    )
    return {"props": JAVA_PROPS, "num_records": mode.java_records, **result.to_dict()}


def summarize(entry: dict[str, Any]) -> dict[str, Any]:
    """Median and spread of the repeated runs' throughput and p99 latency."""
    runs = [r for r in entry["runs"] if r["complete"]]
    out = {**entry, "complete_runs": len(runs)}
    if runs:
        for field, get in (
            ("mb_per_s", lambda r: r["throughput"]["mb_per_s"]),
            ("records_per_s", lambda r: r["throughput"]["records_per_s"]),
            ("p99_ms", lambda r: (r["latency_ms"] or {}).get("p99", 0.0)),
            ("client_cores", lambda r: r["client"]["cpu_cores_used"]),
            ("broker_cores", lambda r: r.get("broker", {}).get("cpu_cores_used")),
            ("broker_cpu_s_per_gb", lambda r: r.get("broker", {}).get("cpu_s_per_gb")),
            ("broker_system_s_per_gb", lambda r: r.get("broker", {}).get("system_s_per_gb")),
            ("client_cpu_s_per_gb", _client_cpu_s_per_gb),
        ):
            values = [v for v in (get(r) for r in runs) if v is not None]
            if not values:
                continue
            median, low, high = median_and_spread(values)
            out[field] = {"median": median, "min": low, "max": high}
    return out


def _client_cpu_s_per_gb(run: dict[str, Any]) -> float | None:
    """The load generators' CPU seconds per GB (2^30 bytes) moved in one run."""
    moved = run["throughput"].get("bytes", 0) / 2**30
    cpu_s = run.get("client", {}).get("cpu_s")
    return cpu_s / moved if cpu_s is not None and moved > 0 else None


def _produce(bootstrap: str, topic: str, mode: Mode, **overrides: Any) -> ProduceWorkload:
    settings: dict[str, Any] = {
        "bootstrap_server": bootstrap,
        "topic": topic,
        "num_records": mode.produce_records,
        "record_size": RECORD_SIZE,
        "acks": "1",
        "batch_size": 1048576,
        "linger_ms": 5.0,
        "client": "c",
    }
    settings.update(overrides)
    return ProduceWorkload(**settings)


def _attempt(
    entry: dict[str, Any], console: Console, label: str, run: Any, pid: int | None = None
) -> BenchResult | None:
    settled = settle()  # no peer pays for another's dirty pages
    totals = entry.setdefault("settle", {"runs": 0, "dirty_mib": 0.0, "seconds": 0.0})
    totals["runs"] += 1
    totals["dirty_mib"] += settled["dirty_mib"]
    totals["seconds"] += settled["seconds"]
    cpu0 = tree_cpu_times(pid) if pid else None
    try:
        result: BenchResult = run()
    except Exception as exc:
        message = f"{label}: {type(exc).__name__}: {exc}"
        entry["errors"].append(message)
        console.print(f"[red]{message}")
        return None
    cpu1 = tree_cpu_times(pid) if pid else None
    broker = ""
    if cpu0 is not None and cpu1 is not None:
        result.broker = cpu_usage(
            cpu1.total - cpu0.total, result.throughput, system_s=cpu1.system - cpu0.system
        )
        broker = (
            f", broker {result.broker['cpu_cores_used']:.2f} cores"
            f" {result.broker['cpu_s_per_gb']:.2f} CPU s/GB"
        )
    status = "" if result.complete else f" [red]INCOMPLETE ({result.errors} errors)"
    lat = result.latency
    console.print(
        f"{label}: {result.throughput.records_per_s:,.0f} records/s "
        f"{result.throughput.mb_per_s:,.1f} MB/s"
        + (f", p50 {lat.p50:.1f} ms p99 {lat.p99:.1f} ms" if lat else "")
        + f", client {result.client_cpu_util:.2f} cores{broker}{status}",
        highlight=False,
    )
    if not result.complete:
        entry["errors"].append(f"{label}: incomplete: {result.first_error}")
    return result


if __name__ == "__main__":
    sys.exit(main())
