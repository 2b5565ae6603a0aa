"""Storage micro benchmarks (pytest-benchmark; `make bench` enables them).

Workloads (page cache, no fsync on either side unless stated):
- append: 64 batches of 1 MiB (1024 records of 1 KiB, uncompressed) into a
  fresh partition log, against `os.write` of the same bytes to a file in the
  same directory. Target: at least 0.8x.
- sequential read: 256 MiB through `PartitionLog.read_bytes(offset, 1 MiB)`
  (whole batches, one segment per call), against `f.read(1 MiB)` over the
  segment file. Target: at least 0.8x.
- index lookup: `PartitionLog.lookup(offset)` (offset index + header walk)
  for random offsets in a 100 MiB segment of 1 KiB batches, from Python.
  Target: at most 2 us median. Reference: `bisect` over a Python list.
- recovery: reopening a 1 GiB log whose last 8 MiB were never flushed and
  whose last batch is torn, with the recovery point from before the tail.
  Target: at most 1 s. Reference: a full re-validation (recovery point 0).
The last test prints the ratios and writes benchmarks/out/storage_bench.json.
"""

from __future__ import annotations

import bisect
import json
import os
import random
import shutil
import statistics
import struct
import time
from pathlib import Path
from typing import Any

import pytest

from pystream import _native
from pystream.storage import LogConfig, PartitionLog

RESULTS: dict[str, dict[str, float]] = {}
TIMES: dict[str, list[float]] = {}  # per round, in order (rounds are paired)


def _paired(subject: str, reference: str) -> float:
    """Median over rounds of reference time / subject time (throughput
    ratio), each round's pair measured back to back."""
    pairs = zip(TIMES[reference], TIMES[subject], strict=True)
    return statistics.median(r / s for r, s in pairs)


MIB = 1 << 20
HEADER = struct.Struct(">qiibIhiqqqhii")


def _varint(v: int) -> bytes:
    u = (v << 1) ^ (v >> 63)
    out = bytearray()
    while u >= 0x80:
        out.append((u & 0x7F) | 0x80)
        u >>= 7
    out.append(u)
    return bytes(out)


def make_batch(records: int, value_size: int, ts: int = 1_700_000_000_000) -> bytearray:
    """One uncompressed v2 batch at base offset 0 (the base offset is not
    covered by the CRC, so callers rewrite it per append)."""
    body = bytearray()
    value = b"x" * value_size
    for i in range(records):
        rec = (
            b"\x00" + _varint(0) + _varint(i) + _varint(-1) + _varint(value_size) + value + b"\x00"
        )
        body += _varint(len(rec)) + rec
    head = HEADER.pack(0, 49 + len(body), 0, 2, 0, 0, records - 1, ts, ts, -1, -1, -1, records)
    batch = bytearray(head + body)
    struct.pack_into(">I", batch, 17, _native.crc32c(bytes(batch[21:])))
    return batch


BIG = make_batch(1024, 1024 - 8)  # ~1 MiB of 1 KiB records
SMALL = make_batch(1, 1000)  # one 1 KiB record


def _keep(name: str, benchmark: Any, nbytes: int = 0, per_call: int = 1) -> None:
    stats = getattr(benchmark, "stats", None)
    if stats is None:  # benchmarks disabled
        return
    s = stats.stats
    TIMES[name] = list(s.data)
    RESULTS[name] = {
        "median_s": s.median / per_call,
        "min_s": s.min / per_call,
        "max_s": s.max / per_call,
        "rounds": s.rounds,
        **({"gb_per_s": nbytes / s.median / 1e9} if nbytes else {}),
    }


def _keep_manual(name: str, times: list[float], nbytes: int) -> None:
    if len(times) < 2:  # benchmarks disabled: one untimed round
        return
    TIMES[name] = list(times)
    times = sorted(times)
    median = statistics.median(times)
    RESULTS[name] = {
        "median_s": median,
        "min_s": times[0],
        "max_s": times[-1],
        "rounds": len(times),
        "gb_per_s": nbytes / median / 1e9,
    }


def _open(path: Path, **props: Any) -> PartitionLog:
    plog, _ = PartitionLog.open(path, "bench", 0, LogConfig.from_dict(props))
    return plog


# ---- append ----
APPEND_BATCHES = 64


def _batches(start: int) -> list[bytes]:
    out = []
    for i in range(APPEND_BATCHES):
        struct.pack_into(">q", BIG, 0, start + i * 1024)
        out.append(bytes(BIG))
    return out


PAYLOAD = _batches(0)
PAYLOAD_NEXT = _batches(1024)
PAYLOAD_BYTES = sum(len(b) for b in PAYLOAD_NEXT)


def test_append_1mib_batches(benchmark: Any, tmp_path: Path) -> None:
    """Each round first times the reference (`os.write` of the same bytes to
    a file in the same dir), then the log: paired rounds, so the load of a
    shared machine hits both sides alike."""
    n = [0]
    reference: list[float] = []

    def setup() -> tuple[tuple[PartitionLog], dict[str, Any]]:
        n[0] += 1
        shutil.rmtree(tmp_path / str(n[0] - 1), ignore_errors=True)
        d = tmp_path / str(n[0])
        # A log that has seen its first batch (which records the leader
        # epoch in an fsync'd checkpoint, once per epoch).
        plog = _open(d / "bench-0")
        plog.append(PAYLOAD[0])
        fd = os.open(d / "plain.log", os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, PAYLOAD[0])
        os.sync()  # no dirty pages left to write back on either side
        t = time.perf_counter()
        for b in PAYLOAD_NEXT:
            os.write(fd, b)
        reference.append(time.perf_counter() - t)
        os.close(fd)
        os.sync()
        return (plog,), {}

    def run(plog: PartitionLog) -> None:
        for i, b in enumerate(PAYLOAD_NEXT):
            plog.append(b, (i + 2) * 1024 - 1)

    benchmark.pedantic(run, setup=setup, rounds=15)
    _keep("append_1MiB_batches", benchmark, PAYLOAD_BYTES)
    _keep_manual("reference_os_write", reference, PAYLOAD_BYTES)


# ---- sequential read ----
READ_BYTES = 256 * MIB


@pytest.fixture(scope="module")
def read_log(tmp_path_factory: pytest.TempPathFactory) -> PartitionLog:
    plog = _open(tmp_path_factory.mktemp("read") / "bench-0")
    offset = 0
    while plog.size_in_bytes < READ_BYTES:
        struct.pack_into(">q", BIG, 0, offset)
        plog.append(BIG)
        offset += 1024
    return plog


def test_sequential_read(benchmark: Any, read_log: PartitionLog) -> None:
    """Paired rounds: each first times the reference (`f.read(1 MiB)` over
    the segment file, unbuffered), then the log's `read_bytes` pass."""
    path = read_log.path / f"{0:020d}.log"
    reference: list[float] = []

    def plain() -> int:
        total = 0
        with open(path, "rb", buffering=0) as f:
            while chunk := f.read(len(BIG)):
                total += len(chunk)
        return total

    def setup() -> tuple[tuple[()], dict[str, Any]]:
        t = time.perf_counter()
        plain()
        reference.append(time.perf_counter() - t)
        return (), {}

    def run() -> int:
        off, total = 0, 0
        end = read_log.log_end_offset
        while off < end:
            data = read_log.read_bytes(off, MIB)
            total += len(data)
            off += 1024 * (len(data) // len(BIG))
        return total

    plain()  # warm the page cache
    assert benchmark.pedantic(run, setup=setup, rounds=9) == read_log.size_in_bytes
    _keep("sequential_read", benchmark, read_log.size_in_bytes)
    _keep_manual("reference_plain_read", reference, read_log.size_in_bytes)


# ---- index lookup ----
LOOKUPS = 10_000


@pytest.fixture(scope="module")
def lookup_log(tmp_path_factory: pytest.TempPathFactory) -> PartitionLog:
    plog = _open(tmp_path_factory.mktemp("lookup") / "bench-0")
    buf = bytearray(SMALL * 1024)
    step = len(SMALL)
    offset = 0
    for _ in range(100):  # 100 MiB of 1 KiB batches, 1 MiB per append
        for i in range(1024):
            struct.pack_into(">q", buf, i * step, offset + i)
        plog.append(buf)
        offset += 1024
    return plog


TARGETS = [random.Random(7).randrange(100 * 1024) for _ in range(LOOKUPS)]


def test_index_lookup(benchmark: Any, lookup_log: PartitionLog) -> None:
    lookup = lookup_log.lookup

    def run() -> None:
        for t in TARGETS:
            lookup(t)

    assert lookup_log.lookup(5000) == (0, 5000 * len(SMALL))
    benchmark.pedantic(run, rounds=15, warmup_rounds=2)
    _keep("index_lookup", benchmark, per_call=LOOKUPS)


def test_reference_bisect(benchmark: Any) -> None:
    offsets = list(range(0, 100 * 1024, 4))

    def run() -> None:
        for t in TARGETS:
            bisect.bisect_right(offsets, t)

    benchmark.pedantic(run, rounds=15, warmup_rounds=2)
    _keep("reference_bisect", benchmark, per_call=LOOKUPS)


# ---- recovery ----
@pytest.fixture(scope="module")
def gib_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A 1 GiB log, flushed; returns its dir and recovery point."""
    path = tmp_path_factory.mktemp("recovery") / "bench-0"
    plog = _open(path)
    offset = 0
    while plog.size_in_bytes < 1024 * MIB:
        struct.pack_into(">q", BIG, 0, offset)
        plog.append(BIG)
        offset += 1024
    plog.flush()
    rp = plog.recovery_point
    plog.close()
    return path, rp


def _tear(path: Path, rp: int) -> tuple[Path, int]:
    """Truncates the log to the recovery point, appends 8 MiB without a
    flush, tears the last batch, and drops the log without closing it."""
    plog, _ = PartitionLog.open(path, "bench", 0, LogConfig(), recovery_point=rp)
    plog.truncate_to(rp)
    for i in range(8):
        struct.pack_into(">q", BIG, 0, rp + i * 1024)
        plog.append(BIG)
    seg = path / f"{plog.segment_base_offsets[-1]:020d}.log"
    del plog
    os.truncate(seg, seg.stat().st_size - len(BIG) // 2)
    return path, rp


def _recover(path: Path, rp: int, recovery_point: int) -> _native.RecoveryReport:
    plog, report = PartitionLog.open(path, "bench", 0, LogConfig(), recovery_point=recovery_point)
    assert plog.log_end_offset == rp + 7 * 1024
    del plog
    return report


def test_recovery_1gib_torn_tail(benchmark: Any, gib_log: tuple[Path, int]) -> None:
    path, rp = gib_log
    report = benchmark.pedantic(_recover, setup=lambda: ((*_tear(path, rp), rp), {}), rounds=5)
    assert report.dropped and report.bytes_validated == 7 * len(BIG)
    _keep("recovery_1GiB_torn_tail", benchmark)


def test_reference_full_revalidation(benchmark: Any, gib_log: tuple[Path, int]) -> None:
    path, rp = gib_log
    report = benchmark.pedantic(_recover, setup=lambda: ((*_tear(path, rp), 0), {}), rounds=2)
    assert report.bytes_validated > 1024 * MIB
    _keep("reference_full_revalidation", benchmark)


def test_report_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    needed = {
        "append_1MiB_batches",
        "reference_os_write",
        "sequential_read",
        "reference_plain_read",
        "index_lookup",
        "recovery_1GiB_torn_tail",
    }
    if not needed <= RESULTS.keys():
        pytest.skip("benchmarks disabled (run `make bench`)")
    r = RESULTS
    append = _paired("append_1MiB_batches", "reference_os_write")
    read = _paired("sequential_read", "reference_plain_read")
    lookup_us = r["index_lookup"]["median_s"] * 1e6
    recovery_s = r["recovery_1GiB_torn_tail"]["median_s"]
    summary = {
        "append_vs_os_write": append,
        "sequential_read_vs_plain_read": read,
        "index_lookup_us": lookup_us,
        "index_lookup_vs_bisect": r["index_lookup"]["median_s"] / r["reference_bisect"]["median_s"],
        "recovery_1GiB_s": recovery_s,
        "recovery_vs_full_revalidation": recovery_s
        / r.get("reference_full_revalidation", {"median_s": float("nan")})["median_s"],
    }
    lines = [f"{k:34} {v:10.3f}" for k, v in summary.items()]
    lines.append(
        "targets: append>=0.8 {} | read>=0.8 {} | lookup<=2us {} | recovery<=1s {}".format(
            *("met" if ok else "NOT met" for ok in (
                append >= 0.8, read >= 0.8, lookup_us <= 2, recovery_s <= 1
            ))
        )
    )  # fmt: skip
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "storage_bench.json").write_text(json.dumps({"summary": summary, **r}, indent=2))
    _plot(out / "storage_bench.png", append, read, lookup_us, recovery_s)


def _plot(path: Path, append: float, read: float, lookup_us: float, recovery_s: float) -> None:
    """Each figure against its target (1.0 = exactly on target; above is better)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    names = [
        f"append {append:.2f}x os.write (>= 0.8x)",
        f"read {read:.2f}x plain read (>= 0.8x)",
        f"lookup {lookup_us:.2f} us (<= 2 us)",
        f"recovery {recovery_s:.2f} s (<= 1 s)",
    ]
    scores = [append / 0.8, read / 0.8, 2 / lookup_us, 1 / recovery_s]
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.barh(names, scores, color=["#4c72b0" if x >= 1 else "#c44e52" for x in scores])
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("margin over the target (log scale; >= 1 meets it)")
    ax.set_title("pystream storage micro benchmarks")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
