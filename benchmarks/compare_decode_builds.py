"""decode_columns of two builds side by side: an older `_native` library against the installed one.

    cargo build --release --features python   # in a checkout of the older commit
    .venv/bin/python benchmarks/compare_decode_builds.py <that target>/release/lib_native.so

Both libraries are loaded in one process and called in turn on the same buffers (so load
and caches hit both alike); prints medians of `--calls` calls after a warm-up. Payloads:
100,000 records of 50 bytes without and with 2 headers each, and `make bench`'s 1,024
records of 1,000 bytes.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import statistics
import time
from types import ModuleType

from pystream import _native as new
from pystream import record


def load(path: str) -> ModuleType:
    loader = importlib.machinery.ExtensionFileLoader("older._native", path)
    spec = importlib.util.spec_from_file_location("older._native", path, loader=loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def payload(per_batch: int, batches: int, value: bytes, headers: bool) -> bytes:
    out = bytearray()
    for _ in range(batches):
        rows = [
            (
                b"key%08d" % i,
                value,
                1_700_000_000_000 + i,
                [("trace-id", b"%016d" % i), ("src", None)] if headers else None,
            )
            for i in range(per_batch)
        ]
        out += record.build_batch(rows)
    return bytes(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("old_library")
    parser.add_argument("--calls", type=int, default=40)
    args = parser.parse_args()
    old = load(args.old_library)
    cases = {
        "100k x 50 B, no headers": payload(1000, 100, b"v" * 50, False),
        "1024 x 1000 B (make bench)": payload(1024, 1, bytes(1000), False),
        "100k x 50 B, 2 headers": payload(1000, 100, b"v" * 50, True),
    }
    for name, buf in cases.items():
        for module in (old, new):
            for _ in range(10):
                module.decode_columns(buf)
        times: dict[str, list[float]] = {"old": [], "new": []}
        pair = [("old", old), ("new", new)]
        for i in range(args.calls):
            for label, module in pair if i % 2 else pair[::-1]:  # alternate who goes first
                began = time.perf_counter()
                module.decode_columns(buf)
                times[label].append(time.perf_counter() - began)
        o, n = statistics.median(times["old"]), statistics.median(times["new"])
        print(f"{name:28} old {o * 1e3:8.3f} ms  new {n * 1e3:8.3f} ms  new/old {n / o:5.3f}")


if __name__ == "__main__":
    main()
