"""The C load generator (`rdkperf`): librdkafka's C API with no Python per record.

One Python `produce()` call per record costs about 2 µs of CPU, so on a
small machine the Python load generator, not the broker, sets the pace
(see docs/benchmarks.md). `rdkperf` (source beside this module) drives the
same librdkafka from C. It is compiled on first use with the system's C
compiler and librdkafka's header (Debian: `librdkafka-dev`), and linked
against the very librdkafka the confluent-kafka wheel ships (so both load
generators run the same library version; the system one is the fallback).
Builds are cached under `~/.cache/pystream-bench/`, keyed by the source and
the library.

Each worker is one `rdkperf` process speaking a line protocol on its
stdin/stdout (see rdkperf.c): `ready`, then `go` from here once every worker
is ready (the common start line), `progress N` lines, and `result {json}`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import selectors
import shutil
import subprocess
import tempfile
import time
from array import array
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

from pystream.bench.worker import READY_TIMEOUT_S, WorkerReport

SOURCE = "rdkperf.c"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pystream-bench"


class CClientError(RuntimeError):
    """A C load-generator worker failed (bad settings, broker unreachable, crashed)."""


class CClientUnavailable(CClientError):
    """The C load generator cannot be built here (no compiler or no librdkafka headers)."""


def build() -> Path:
    """Path of the compiled tool, compiling it if the cached build is missing or stale."""
    source = resources.files("pystream.bench.rdkperf").joinpath(SOURCE).read_bytes()
    library = wheel_librdkafka()
    link = (
        [f"-L{library.parent}", f"-l:{library.name}", f"-Wl,-rpath,{library.parent}"]
        if library is not None
        else ["-lrdkafka"]
    )
    digest = hashlib.sha256(source + str(library).encode()).hexdigest()[:16]
    binary = CACHE / f"rdkperf-{digest}"
    if binary.exists():
        return binary
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise CClientUnavailable("no C compiler (cc/gcc) on PATH")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / SOURCE
        src.write_bytes(source)
        out = Path(tmp) / "rdkperf"
        proc = subprocess.run(
            [cc, "-O2", "-Wall", "-o", str(out), str(src), *link],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            hint = (
                " (install librdkafka's headers: Debian `librdkafka-dev`)"
                if "rdkafka.h" in proc.stderr or "lrdkafka" in proc.stderr
                else ""
            )
            raise CClientUnavailable(f"building rdkperf failed{hint}: {proc.stderr.strip()[-500:]}")
        # Atomic: a concurrent run sees either no binary or a whole one.
        tmp_binary = binary.with_suffix(f".{os.getpid()}.tmp")
        shutil.copy2(out, tmp_binary)
        os.replace(tmp_binary, binary)
    return binary


def wheel_librdkafka() -> Path | None:
    """The librdkafka shared library inside the installed confluent-kafka wheel, if any."""
    spec = importlib.util.find_spec("confluent_kafka")
    if spec is None or spec.origin is None:
        return None
    libs = Path(spec.origin).parent.parent / "confluent_kafka.libs"
    found = sorted(libs.glob("librdkafka*.so*"))
    return found[0] if found else None


def props_args(config: dict[str, str]) -> list[str]:
    """librdkafka settings as `-X key=value` arguments."""
    args: list[str] = []
    for key, value in config.items():
        args += ["-X", f"{key}={value}"]
    return args


def run_workers(
    argvs: Sequence[list[str]],
    on_progress: Callable[[int], object] | None = None,
    latency_files: Sequence[Path | None] | None = None,
) -> list[WorkerReport]:
    """Run one rdkperf process per argv to completion from a common start line."""
    binary = build()
    procs = [
        subprocess.Popen(
            [str(binary), *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        for argv in argvs
    ]
    try:
        return _drive(procs, on_progress, latency_files or [None] * len(procs))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


def _drive(
    procs: list[subprocess.Popen[str]],
    on_progress: Callable[[int], object] | None,
    latency_files: Sequence[Path | None],
) -> list[WorkerReport]:
    sel = selectors.DefaultSelector()
    for i, proc in enumerate(procs):
        assert proc.stdout is not None
        sel.register(proc.stdout, selectors.EVENT_READ, i)
    ready: set[int] = set()
    progress = [0] * len(procs)
    reports: dict[int, WorkerReport] = {}
    deadline = time.monotonic() + READY_TIMEOUT_S * 2
    while len(reports) < len(procs):
        if len(ready) < len(procs) and time.monotonic() > deadline:
            raise CClientError("rdkperf workers did not get ready in time")
        for key, _ in sel.select(timeout=0.1):
            i = key.data
            line = key.fileobj.readline()  # type: ignore[union-attr]
            if not line:
                sel.unregister(key.fileobj)
                if i not in reports:
                    raise CClientError(f"rdkperf worker {i} exited with code {procs[i].wait()}")
                continue
            word, _, rest = line.strip().partition(" ")
            if word == "ready":
                ready.add(i)
                if len(ready) == len(procs):
                    for proc in procs:
                        assert proc.stdin is not None
                        proc.stdin.write("go\n")
                        proc.stdin.flush()
            elif word == "progress":
                progress[i] = int(rest)
                if on_progress is not None:
                    on_progress(sum(progress))
            elif word == "result":
                reports[i] = _report(i, json.loads(rest), latency_files[i])
            elif word == "error":
                raise CClientError(f"rdkperf worker {i}: {rest}")
    return [reports[i] for i in range(len(procs))]


def _report(index: int, data: dict[str, object], latency_file: Path | None) -> WorkerReport:
    latencies = array("d")
    if latency_file is not None and latency_file.exists():
        latencies.frombytes(latency_file.read_bytes())
    report = WorkerReport(
        index=index,
        records=int(data["records"]),  # type: ignore[call-overload]
        bytes=int(data["bytes"]),  # type: ignore[call-overload]
        errors=int(data["errors"]),  # type: ignore[call-overload]
        first_error=str(data["first_error"]),
        started=float(data["started"]),  # type: ignore[arg-type]
        finished=float(data["finished"]),  # type: ignore[arg-type]
        cpu_s=float(data["cpu_s"]),  # type: ignore[arg-type]
        latencies=latencies,
    )
    report.extra["librdkafka"] = data.get("librdkafka")
    return report
