"""JsonFormat's three decoders on the same Nexmark-like bids, interleaved, CPU and wall time.

    .venv/bin/python benchmarks/streams/compare_json_decode.py [ROWS]

native: `pystream._native.json_columns` (the default); pyarrow: its JSON reader over the
values joined by newlines (what JsonFormat used before); python json: the per-value path
(the reference, still taken by batches the native decoder leaves).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

import numpy as np

from pystream.streams.batch import MicroBatch
from pystream.streams.bytes_column import BytesColumn
from pystream.streams.formats import JsonFormat
from pystream.streams.sources.file_formats import json_arrow

SCHEMA = {
    "auction": "int64",
    "bidder": "int64",
    "price": "int64",
    "channel": "str",
    "url": "str",
    "date_time": "int64",
    "extra": "str",
}


def bids(n: int) -> BytesColumn:
    return BytesColumn.from_pylist(
        [
            json.dumps(
                {
                    "auction": 1000 + i % 500,
                    "bidder": 2000 + i,
                    "price": 123 + i,
                    "channel": "Google",
                    "url": f"https://www.nexmark.com/abc/def/item.htm?query=1&channel_id={i}",
                    "date_time": 1_700_000_000_000 + i,
                    "extra": "x" * 20,
                }
            ).encode()
            for i in range(n)
        ]
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    values = bids(n)
    native = JsonFormat(SCHEMA)
    reference = JsonFormat(SCHEMA)
    reference._decode_native = lambda *_: None  # type: ignore[method-assign]

    def arrow() -> MicroBatch | None:
        data = values.data[: int(values.offsets[-1])]
        return json_arrow(np.insert(data, values.offsets[1:], 10), SCHEMA)

    decoders: dict[str, Callable[[], MicroBatch | None]] = {
        "native": lambda: native._decode_native(values, n),
        "pyarrow": arrow,
        "python json": lambda: reference.decode(values, n),
    }
    cpu: dict[str, list[float]] = {k: [] for k in decoders}
    wall: dict[str, list[float]] = {k: [] for k in decoders}
    for _ in range(3):
        for name, decode in decoders.items():
            c0, w0 = time.process_time(), time.perf_counter()
            batch = decode()
            cpu[name].append((time.process_time() - c0) / n * 1e9)
            wall[name].append((time.perf_counter() - w0) / n * 1e9)
            assert batch is not None and batch.num_rows == n
    size = float(np.mean(values.lengths()))
    print(f"{n:,} values of {size:.0f} bytes; median of 3, ns per value")
    for name in decoders:
        c = sorted(cpu[name])
        print(
            f"{name:12} cpu {c[1]:7.0f} (runs {c[0]:.0f}-{c[2]:.0f})  wall {sorted(wall[name])[1]:7.0f}"
        )


if __name__ == "__main__":
    main()
