"""Record layer micro benchmarks: CRC32C, validate_and_assign, decode_columns.

Disabled in the test run; `make bench` enables them. Figures are quoted as
ratios against references measured in the same run on the same machine:
memcpy of the same bytes (numpy.copyto) and, for record decoding,
kafka-python's pure-Python reader. The last test prints the ratios and
writes them to benchmarks/out/record_bench.json.

Workload: CRC over 16 MiB; a produce payload of ~1 MiB made of 1 KiB records
(one uncompressed batch of 1024 records: 8-byte key, 1000-byte random value,
no headers, ~1016 bytes encoded each), and the same records as 64 batches
of 16 records.
"""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pystream import record

RESULTS: dict[str, dict[str, float]] = {}
CRC_BYTES = 16 << 20
RECORD_VALUE = 1000
PAYLOAD_RECORDS = 1024


def _keep(name: str, benchmark: Any, nbytes: int) -> None:
    stats = getattr(benchmark, "stats", None)
    if stats is None:  # benchmarks disabled: the function ran once, untimed
        return
    median = stats.stats.median
    RESULTS[name] = {"median_s": median, "gb_per_s": nbytes / median / 1e9, "bytes": nbytes}


def _payload(batches: int) -> bytearray:
    per = PAYLOAD_RECORDS // batches
    value = os.urandom(RECORD_VALUE)
    out = bytearray()
    for b in range(batches):
        rows = [(b"key%05d" % (b * per + i), value, 1_700_000_000_000 + i) for i in range(per)]
        out += record.build_batch(rows)
    return out


SIZES = {"1MiB": 1 << 20, "16MiB": CRC_BYTES}


@pytest.mark.parametrize("size", list(SIZES))
def test_memcpy_reference(benchmark: Any, size: str) -> None:
    src = np.frombuffer(os.urandom(SIZES[size]), dtype=np.uint8)
    dst = np.empty_like(src)
    benchmark(np.copyto, dst, src)
    _keep(f"memcpy_{size}", benchmark, SIZES[size])
    assert np.array_equal(dst, src)


@pytest.mark.parametrize("size", list(SIZES))
def test_crc32c(benchmark: Any, size: str) -> None:
    buf = os.urandom(SIZES[size])
    crc = benchmark(record.crc32c, buf)
    _keep(f"crc32c_{size}", benchmark, SIZES[size])
    assert crc == record.crc32c(buf)


@pytest.mark.parametrize(
    ("name", "batches", "kwargs"),
    [
        ("validate_shallow_1batch", 1, {}),
        ("validate_shallow_64batches", 64, {}),
        ("validate_full_1batch", 1, {"full": True}),
        ("validate_logappendtime_1batch", 1, {"log_append_time_ms": 1_700_000_000_000}),
    ],
)
def test_validate_and_assign(
    benchmark: Any, name: str, batches: int, kwargs: dict[str, Any]
) -> None:
    buf = _payload(batches)
    if "log_append_time_ms" in kwargs:
        # A new time on every call, so each call really rewrites header and CRC.
        times = itertools.count(kwargs.pop("log_append_time_ms"))
        info = benchmark(
            lambda: record.validate_and_assign(buf, 0, log_append_time_ms=next(times), **kwargs)
        )
    else:
        info = benchmark(record.validate_and_assign, buf, 0, **kwargs)
    _keep(name, benchmark, len(buf))
    assert info.record_count == PAYLOAD_RECORDS


def test_decode_columns(benchmark: Any) -> None:
    buf = bytes(_payload(1))
    cols = benchmark(record.decode_columns, buf)
    _keep("decode_columns_1MiB", benchmark, len(buf))
    assert len(cols) == PAYLOAD_RECORDS


def test_kafka_python_reader_reference(benchmark: Any) -> None:
    default_records = pytest.importorskip("kafka.record.default_records")
    buf = bytes(_payload(1))

    def read() -> int:
        batch = default_records.DefaultRecordBatch(buf)
        assert batch.validate_crc()
        return sum(1 for _ in batch)

    assert benchmark(read) == PAYLOAD_RECORDS
    _keep("kafka_python_read_1MiB", benchmark, len(buf))


def test_report_ratios(capsys: pytest.CaptureFixture[str]) -> None:
    """Ratios against the references of the same size class: the 1 MiB
    payload against memcpy/CRC of 1 MiB (cache-resident, like a request
    buffer), the CRC target on 16 MiB (beyond the caches)."""
    needed = {"memcpy_1MiB", "crc32c_1MiB", "memcpy_16MiB", "crc32c_16MiB"}
    if not needed <= RESULTS.keys():
        pytest.skip("benchmarks disabled (run `make bench`)")
    lines = [f"{'benchmark':32} {'GB/s':>8} {'vs memcpy':>10} {'vs crc32c':>10}"]
    for name, r in RESULTS.items():
        size = "16MiB" if name.endswith("16MiB") else "1MiB"
        gbs = r["gb_per_s"]
        memcpy = RESULTS[f"memcpy_{size}"]["gb_per_s"]
        crc = RESULTS[f"crc32c_{size}"]["gb_per_s"]
        lines.append(f"{name:32} {gbs:8.3f} {gbs / memcpy:10.3f} {gbs / crc:10.3f}")
    py = RESULTS.get("kafka_python_read_1MiB")
    cols = RESULTS.get("decode_columns_1MiB")
    if py and cols:
        ratio = cols["gb_per_s"] / py["gb_per_s"]
        lines.append(f"decode_columns vs kafka-python reader: {ratio:.0f}x")
    crc16 = RESULTS["crc32c_16MiB"]["gb_per_s"]
    lines.append(f"crc32c target >= 8 GB/s on 16 MiB: {'met' if crc16 >= 8 else 'NOT met'}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "record_bench.json").write_text(json.dumps(RESULTS, indent=2))
