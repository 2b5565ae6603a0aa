"""Interleaved A/B of broker versions under `pystream bench produce` (medians).

    cp -a pystream /tmp/before/                  # a copy of the package before a change
    .venv/bin/python perf/ab_produce.py before=/tmp/before after=. --rounds 8
    .venv/bin/python perf/ab_produce.py before=/tmp/before after=. -- --num-producers 4

Each variant is a directory holding a `pystream` package (the native module
included), put first on the broker's PYTHONPATH. Every run starts a fresh
broker on an empty data dir, produces with the C client (unless the bench
arguments after `--` say otherwise), stops the broker and deletes its data,
so no run inherits page cache or dirty pages from another. Variants
alternate (A B, B A, ...) so that load from other work on a shared machine
falls on both alike. Prints MB/s and the broker's CPU seconds per run, then
the medians.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
_MB_S = re.compile(r"\(([\d.]+) MB/sec\)")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    variants = dict(_variant(v) for v in args.variants)
    mb: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    for rnd in range(args.rounds):
        for name in names if rnd % 2 == 0 else names[::-1]:
            rate, seconds = run_once(variants[name], args)
            mb[name].append(rate)
            cpu[name].append(seconds)
            load = os.getloadavg()[0]
            print(
                f"round {rnd} {name}: {rate:.1f} MB/s, broker CPU {seconds:.2f} s, load {load:.1f}"
            )
    for name in names:
        print(
            f"{name}: median {statistics.median(mb[name]):.1f} MB/s, "
            f"broker CPU {statistics.median(cpu[name]):.2f} s; runs {mb[name]}"
        )
    return 0


def run_once(path: Path, args: argparse.Namespace) -> tuple[float, float]:
    """(MB/s, broker CPU seconds) of one bench run against a fresh broker from `path`."""
    data = Path(tempfile.mkdtemp(prefix="pystream-ab-"))
    env = dict(os.environ, PYTHONPATH=str(path.resolve()))
    broker = subprocess.Popen(
        [str(BIN / "pystream"), "broker", "--data-dir", str(data), "--listen", args.listen],
        cwd=tempfile.gettempdir(),  # not the repo: its `pystream` would shadow the variant's
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_listening(args.listen)
        cpu0 = _cpu_seconds(broker.pid)
        command = [str(BIN / "pystream"), "bench", "produce", "--bootstrap-server", args.listen]
        command += ["--topic", "ab", "--num-records", str(args.num_records), "--acks", "1"]
        command += ["--client", "c", *args.bench_args]  # later flags win
        bench = subprocess.run(
            command,
            cwd=tempfile.gettempdir(),
            capture_output=True,
            text=True,
        )
        cpu1 = _cpu_seconds(broker.pid)
    finally:
        broker.send_signal(signal.SIGTERM)
        broker.wait(30)
        shutil.rmtree(data, ignore_errors=True)
    match = _MB_S.search(bench.stdout)
    return (float(match.group(1)) if match else float("nan")), cpu1 - cpu0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_listening(listen: str, timeout_s: float = 20.0) -> None:
    host, port = listen.rsplit(":", 1)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection((host, int(port)), 0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _variant(spec: str) -> tuple[str, Path]:
    name, sep, path = spec.partition("=")
    if not sep or not (Path(path) / "pystream").is_dir():
        raise SystemExit(f"expected NAME=DIR with DIR/pystream, got {spec!r}")
    return name, Path(path)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    argv = list(sys.argv[1:] if argv is None else argv)
    bench_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, bench_args = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], usage="%(prog)s NAME=DIR... [options] [-- bench flags]"
    )
    parser.add_argument("variants", nargs="+", help="NAME=DIR, DIR holding a pystream package")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--num-records", type=int, default=2_000_000)
    parser.add_argument("--listen", default="127.0.0.1:29092")
    args = parser.parse_args(argv)
    args.bench_args = bench_args
    return args


if __name__ == "__main__":
    raise SystemExit(main())
