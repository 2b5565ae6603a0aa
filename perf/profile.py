"""Profile a broker under load: a py-spy flame graph (SVG) and `perf stat`, in one command.

    .venv/bin/python perf/profile.py                        # start pystream, produce scenario
    .venv/bin/python perf/profile.py --scenario consume --num-records 500000
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
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(REPO))

from benchmarks.peers import PeerNotStarted, PystreamPeer  # noqa: E402
from pystream.bench.result import BenchResult  # noqa: E402
from pystream.bench.runner import run_consume, run_e2e, run_produce  # noqa: E402
from pystream.bench.workload import (  # noqa: E402
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
            result = run_scenario(args, bootstrap)
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


def run_scenario(args: argparse.Namespace, bootstrap: str) -> BenchResult:
    topic = f"perf-{args.scenario}-{int(time.time())}"
    produce = ProduceWorkload(
        bootstrap_server=bootstrap,
        topic=topic,
        num_records=args.num_records,
        record_size=args.record_size,
        partitions=args.partitions,
        acks=args.acks,
        num_producers=args.num_producers,
    )
    runs: dict[str, Callable[[], BenchResult]] = {
        "produce": lambda: run_produce(produce),
        "consume": lambda: (
            run_produce(produce),
            run_consume(ConsumeWorkload(bootstrap, topic, args.num_records)),
        )[1],
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


def self_frames(svg: Path, limit: int = 15) -> list[tuple[str, float]]:
    """The functions with the largest self time (% of all samples) in a py-spy flame graph.

    A frame's self time is its samples minus those of the frames drawn on top
    of it (its callees). Line numbers are dropped so a function's lines add up.
    """
    text = svg.read_text(encoding="utf-8", errors="replace")
    frames = []  # (y, x, width in samples, name)
    for match in _FRAME.finditer(text):
        attrs = {m["key"]: m["value"] for m in _ATTR.finditer(match["attrs"])}
        if "fg:x" not in attrs or "fg:w" not in attrs:
            continue
        title = html.unescape(match["title"])
        name = _LINE.sub(")", _TITLE_TAIL.sub("", title))
        frames.append((float(attrs["y"]), int(attrs["fg:x"]), int(attrs["fg:w"]), name))
    if not frames:
        return []
    total = max(w for _, _, w, _ in frames)
    levels = sorted({y for y, _, _, _ in frames}, reverse=True)  # root at the bottom
    above = dict(zip(levels, [*levels[1:], None], strict=True))
    by_level: dict[float, list[tuple[int, int]]] = {}
    for y, x, w, _ in frames:
        by_level.setdefault(y, []).append((x, w))
    own: dict[str, int] = {}
    for y, x, w, name in frames:
        upper = above[y]
        callees = (
            sum(cw for cx, cw in by_level.get(upper, []) if x <= cx < x + w)
            if upper is not None
            else 0
        )
        if name != "all" and not name.startswith("process "):
            own[name] = own.get(name, 0) + w - callees
    ranked = sorted(own.items(), key=lambda item: -item[1])[:limit]
    return [(name, 100.0 * samples / total) for name, samples in ranked if samples > 0]


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
    svg = out / "broker.svg"
    if svg.exists():
        lines += ["## Hottest frames (inclusive % of samples)", "", "| % | frame |", "|---:|---|"]
        lines += [f"| {pct:.1f} | `{frame}` |" for frame, pct in hot_frames(svg)]
        lines += ["", "## Top self time (% of samples)", "", "| % | function |", "|---:|---|"]
        lines += [f"| {pct:.1f} | `{frame}` |" for frame, pct in self_frames(svg)]
        lines.append("")
    stat = out / "perf-stat.txt"
    if stat.exists():
        lines += ["## perf stat", "", "```", stat.read_text(encoding="utf-8").strip(), "```", ""]
    if notes:
        lines += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
