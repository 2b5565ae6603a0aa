"""crc32c: Castagnoli CRC as RecordBatch v2 uses it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pystream import record

kafka_util = pytest.importorskip("kafka.record.util")


def test_check_value() -> None:
    assert record.crc32c(b"123456789") == 0xE3069283  # the standard check value
    assert record.crc32c(b"") == 0


@given(st.binary(max_size=2000))
def test_matches_kafka_pythons_implementation(data: bytes) -> None:
    assert record.crc32c(data) == kafka_util.calc_crc32c(data)


def test_accepts_any_contiguous_buffer() -> None:
    data = bytes(range(256)) * 1000  # big enough to run without the GIL
    want = kafka_util.calc_crc32c(data)
    assert record.crc32c(bytearray(data)) == want
    assert record.crc32c(memoryview(data)) == want
    assert record.crc32c(np.frombuffer(data, dtype=np.uint8)) == want  # type: ignore[arg-type]
    with pytest.raises((TypeError, BufferError)):
        record.crc32c(memoryview(data)[::2])
