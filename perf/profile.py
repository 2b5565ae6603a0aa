"""Profile a broker under load: a py-spy flame graph (SVG) and `perf stat`, in one command.

    .venv/bin/python perf/profile.py                        # start pystream, produce scenario
    .venv/bin/python perf/profile.py --scenario consume --num-records 500000 --reader fetch
    .venv/bin/python perf/profile.py --pid 1234 --bootstrap-server 127.0.0.1:9092  # running broker

The broker is started (or attached to by --pid), py-spy and perf attach to
its process, the scenario runs through `pystream.bench`, then both
profilers are stopped with SIGINT, which makes them write their output.
Everything lands in perf/out/<time>-<scenario>/ with a summary.md. See
perf/README.md for how to read the results.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(REPO))

from benchmarks.peers import PeerNotStarted, PystreamPeer  # noqa: E402
from pystream.bench.proc_cpu import cpu_usage, tree_cpu_seconds  # noqa: E402
from pystream.bench.result import BenchResult  # noqa: E402
from pystream.bench.runner import run_consume, run_e2e, run_produce  # noqa: E402
from pystream.bench.workload import (  # noqa: E402
    READERS,
    ConsumeWorkload,
    EndToEndWorkload,
    ProduceWorkload,
)

PERF_EVENTS = "task-clock,context-switches,cpu-migrations,page-faults,cycles,instructions"
_TITLE_TAIL = re.compile(r" \([\d,]+ samples?, [\d.]+%\)$", re.DOTALL)
_TITLE = re.compile(
    r"<title>(?P<frame>.*?) \((?P<samples>[\d,]+) samples?, (?P<pct>[\d.]+)%\)</title>", re.DOTALL
)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out / f"{stamp}-{args.scenario}"
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="pystream-perf-"))
    peer = PystreamPeer()
    try:
        if args.pid:
            pid, bootstrap = args.pid, args.bootstrap_server
        else:
            try:
                bootstrap = peer.start(work)
            except PeerNotStarted as exc:
                print(f"pystream broker not started: {exc}", file=sys.stderr)
                return 2
            assert peer.process is not None
            pid = peer.process.pid
        notes: list[str] = []
        produce = prepare_scenario(args, bootstrap)
        cpu0 = tree_cpu_seconds(pid)
        profilers = [
            p
            for p in (
                start_py_spy(pid, out / "broker.svg", args.rate, args.native, notes),
                start_perf_stat(pid, out / "perf-stat.txt", notes),
            )
            if p is not None
        ]
        time.sleep(0.5)  # let the profilers attach before the load starts
        try:
            result = run_scenario(args, bootstrap, produce)
            cpu1 = tree_cpu_seconds(pid)
            if cpu0 is not None and cpu1 is not None:
                # Includes the profilers' attach/sampling cost charged to the broker.
                result.broker = cpu_usage(cpu1 - cpu0, result.throughput)
        finally:
            for proc in profilers:
                stop(proc)
        for proc in profilers:
            if proc.returncode not in (0, None, -signal.SIGINT):
                notes.append(f"{proc.args[0]} exited with {proc.returncode}")
        result.write_json(out / "bench.json")
        summary = render_summary(args, result, out, notes)
        (out / "summary.md").write_text(summary, encoding="utf-8")
        print(summary)
    finally:
        peer.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="perf/profile.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=("produce", "consume", "e2e"), default="produce")
    parser.add_argument("--num-records", type=int, default=300_000)
    parser.add_argument("--record-size", type=int, default=1024)
    parser.add_argument("--partitions", type=int, default=1)
    parser.add_argument("--acks", default="1", choices=("0", "1", "all", "-1"))
    parser.add_argument("--num-producers", type=int, default=1)
    parser.add_argument(
        "--num-consumers", type=int, default=1, help="consume: >1 splits the offsets"
    )
    parser.add_argument(
        "--reader",
        choices=READERS,
        default="librdkafka",
        help="consume: librdkafka consumers, or the wire-level fetch reader (lighter)",
    )
    parser.add_argument("--throughput", type=float, default=2000, help="e2e rate, records/s")
    parser.add_argument("--rate", type=int, default=100, help="py-spy samples per second")
    parser.add_argument(
        "--no-native", dest="native", action="store_false", help="Python frames only"
    )
    parser.add_argument("--pid", type=int, help="profile this running broker instead")
    parser.add_argument("--bootstrap-server", help="its address (with --pid)")
    parser.add_argument("--out", type=Path, default=REPO / "perf" / "out")
    args = parser.parse_args(argv)
    if args.pid and not args.bootstrap_server:
        parser.error("--pid needs --bootstrap-server")
    return args


def _produce_workload(args: argparse.Namespace, bootstrap: str) -> ProduceWorkload:
    return ProduceWorkload(
        bootstrap_server=bootstrap,
        topic=f"perf-{args.scenario}-{int(time.time())}",
        num_records=args.num_records,
        record_size=args.record_size,
        partitions=args.partitions,
        acks=args.acks,
        num_producers=args.num_producers,
        batch_size=1048576,  # as the comparison (benchmarks/compare) runs it
        linger_ms=5.0,
    )


def prepare_scenario(args: argparse.Namespace, bootstrap: str) -> ProduceWorkload:
    """The produce workload; for `consume`, run it now, so the profile holds only the reads."""
    produce = _produce_workload(args, bootstrap)
    if args.scenario == "consume":
        run_produce(produce)
    return produce


def run_scenario(args: argparse.Namespace, bootstrap: str, produce: ProduceWorkload) -> BenchResult:
    topic = produce.topic
    runs: dict[str, Callable[[], BenchResult]] = {
        "produce": lambda: run_produce(produce),
        "consume": lambda: run_consume(
            ConsumeWorkload(
                bootstrap,
                topic,
                args.num_records,
                num_consumers=args.num_consumers,
                offset_slices=args.num_consumers > 1,
                reader=args.reader,
            )
        ),
        "e2e": lambda: run_e2e(
            EndToEndWorkload(
                ProduceWorkload(
                    bootstrap_server=bootstrap,
                    topic=topic,
                    num_records=args.num_records,
                    record_size=args.record_size,
                    throughput=args.throughput,
                    acks=args.acks,
                )
            )
        ),
    }
    return runs[args.scenario]()


def start_py_spy(
    pid: int, svg: Path, rate: int, native: bool, notes: list[str]
) -> subprocess.Popen[bytes] | None:
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(exe).exists():
        notes.append("py-spy not installed (pip install py-spy): no flame graph")
        return None
    command = [exe, "record", "--pid", str(pid), "--rate", str(rate), "--format", "flamegraph"]
    command += ["--output", str(svg), "--subprocesses"]
    if native:
        command.append("--native")  # Rust frames of pystream._native appear under Python ones
        # Native stacks need py-spy to pause the broker for each sample. A paused
        # `pwrite` looks like a throttled one, and the broker then moves its appends
        # off the event loop for a while (pystream/server/write_placement.py).
        notes.append(
            "py-spy --native pauses the broker per sample; appends may have moved off the "
            "event loop because of it (--no-native samples without pausing)"
        )
    else:
        command.append("--nonblocking")
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def start_perf_stat(pid: int, out: Path, notes: list[str]) -> subprocess.Popen[bytes] | None:
    exe = shutil.which("perf")
    if exe is None:
        notes.append("perf not installed (apt-get install linux-perf): no perf stat")
        return None
    return subprocess.Popen(
        [exe, "stat", "-e", PERF_EVENTS, "-p", str(pid), "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT makes py-spy write its SVG and perf print its counters."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def hot_frames(svg: Path, limit: int = 15) -> list[tuple[str, float]]:
    """The frames with the largest inclusive share of samples in a py-spy flame graph."""
    best: dict[str, float] = {}
    for match in _TITLE.finditer(svg.read_text(encoding="utf-8", errors="replace")):
        frame = html.unescape(match["frame"])
        if frame == "all" or frame.startswith("process ") or "\n" in frame:
            continue
        best[frame] = max(best.get(frame, 0.0), float(match["pct"]))
    return sorted(best.items(), key=lambda item: -item[1])[:limit]


_FRAME = re.compile(r"<g><title>(?P<title>.*?)</title><rect (?P<attrs>[^>]*)/?>", re.DOTALL)
_ATTR = re.compile(r'(?P<key>[\w:]+)="(?P<value>[^"]*)"')
_LINE = re.compile(r":\d+\)$")


# Waiting, not working: the event loop's poll and idle executor threads blocked on their queue.
IDLE_FRAMES = ("EpollSelector.select", "epoll_wait", "_queue_SimpleQueue_get")


@dataclass
class SelfTime:
    """Self samples per function over the busy samples, and how many samples were idle waits."""

    busy: dict[str, int]
    idle: int
    total: int

    def top(self, limit: int = 15) -> list[tuple[str, float, float]]:
        """(function, % of busy samples, % of all samples), largest first."""
        busy_total = max(self.total - self.idle, 1)
        ranked = sorted(self.busy.items(), key=lambda item: -item[1])[:limit]
        return [
            (name, 100.0 * n / busy_total, 100.0 * n / max(self.total, 1))
            for name, n in ranked
            if n > 0
        ]


def self_time(svg: Path) -> SelfTime:
    """Self time per function in a py-spy flame graph, idle waits set apart.

    A frame's self time is its samples minus those of its callees, the frames
    one level further from the root within its span. A frame under one of
    `IDLE_FRAMES` counts as idle. Line numbers are dropped so a function's
    lines add up.
    """
    text = svg.read_text(encoding="utf-8", errors="replace")
    frames = []  # (y, x, width in samples, name)
    for match in _FRAME.finditer(text):
        attrs = {m["key"]: m["value"] for m in _ATTR.finditer(match["attrs"])}
        if "fg:x" not in attrs or "fg:w" not in attrs or "y" not in attrs:
            continue
        title = html.unescape(match["title"])
        name = _LINE.sub(")", _TITLE_TAIL.sub("", title))
        frames.append((float(attrs["y"]), int(attrs["fg:x"]), int(attrs["fg:w"]), name))
    if not frames:
        return SelfTime({}, 0, 0)
    total = max(w for _, _, w, _ in frames)
    # py-spy may draw the root at the top or the bottom: levels count away from it.
    root_y = max(frames, key=lambda f: f[2])[0]
    levels = sorted({f[0] for f in frames}, key=lambda y: abs(y - root_y))
    by_level: dict[float, list[tuple[int, int, str]]] = {y: [] for y in levels}
    for y, x, w, name in frames:
        by_level[y].append((x, w, name))
    idle_spans: list[tuple[int, int]] = []  # sample ranges under an idle frame
    busy: dict[str, int] = {}
    idle = 0
    for depth, y in enumerate(levels):
        upper = by_level[levels[depth + 1]] if depth + 1 < len(levels) else []
        for x, w, name in by_level[y]:
            own = w - sum(cw for cx, cw, _ in upper if x <= cx < x + w)
            under_idle = any(a <= x < b for a, b in idle_spans)
            if not under_idle and name.startswith(IDLE_FRAMES):
                idle_spans.append((x, x + w))
                under_idle = True
            if under_idle:
                idle += own
            elif own > 0 and name != "all" and not name.startswith("process "):
                busy[name] = busy.get(name, 0) + own
    return SelfTime(busy, idle, total)


def render_summary(
    args: argparse.Namespace, result: BenchResult, out: Path, notes: list[str]
) -> str:
    command = "python perf/profile.py " + " ".join(sys.argv[1:])
    lines = [
        f"# Profile: {args.scenario}",
        "",
        f"Command: `{command.strip()}`",
        "",
        f"Result: {result.summary_line()}",
        "",
    ]
    if result.broker:
        b = result.broker
        lines += [
            f"Broker CPU (from /proc, profile window): {b['cpu_s']:.2f} s, "
            f"{b['cpu_cores_used']:.2f} cores, {b['cpu_s_per_gb']:.2f} CPU s/GB; "
            f"client {result.client_cpu_util:.2f} cores.",
            "",
        ]
    svg = out / "broker.svg"
    if svg.exists():
        lines += ["## Hottest frames (inclusive % of samples)", "", "| % | frame |", "|---:|---|"]
        lines += [f"| {pct:.1f} | `{frame}` |" for frame, pct in hot_frames(svg)]
        own = self_time(svg)
        idle_pct = 100.0 * own.idle / max(own.total, 1)
        lines += [
            "",
            "## Top self time",
            "",
            f"{own.total} samples; {idle_pct:.1f}% were idle waits ({', '.join(IDLE_FRAMES)}),"
            " the rest are busy samples.",
            "",
            "| % of busy | % of all | function |",
            "|---:|---:|---|",
        ]
        lines += [f"| {b:.1f} | {a:.1f} | `{frame}` |" for frame, b, a in own.top()]
        lines.append("")
    stat = out / "perf-stat.txt"
    if stat.exists():
        lines += ["## perf stat", "", "```", stat.read_text(encoding="utf-8").strip(), "```", ""]
    if notes:
        lines += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
