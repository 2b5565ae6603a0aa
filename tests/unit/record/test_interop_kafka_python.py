"""Interop with a real client library: kafka-python's RecordBatch v2 builder
and reader, in both directions, for every codec it can use here."""

from __future__ import annotations

import pytest

from pystream import _native, record
from pystream.record import CompressionType

default_records = pytest.importorskip("kafka.record.default_records")
kafka_codec = pytest.importorskip("kafka.codec")
Builder = default_records.DefaultRecordBatchBuilder
Reader = default_records.DefaultRecordBatch

AVAILABLE = {
    CompressionType.NONE: True,
    CompressionType.GZIP: kafka_codec.has_gzip(),
    CompressionType.SNAPPY: kafka_codec.has_snappy(),
    CompressionType.LZ4: kafka_codec.has_lz4(),
    CompressionType.ZSTD: kafka_codec.has_zstd(),
}


def codecs() -> list[object]:
    return [
        pytest.param(
            c, marks=pytest.mark.skipif(not ok, reason=f"kafka-python lacks {c.name.lower()}")
        )
        for c, ok in AVAILABLE.items()
    ]


ROWS = [
    (b"key-%d" % i if i % 3 else None, b"value %d " % i * 20, 1_700_000_000_000 + i * 7)
    for i in range(50)
]
HEADERS = [("trace", b"abc"), ("empty", None)]


@pytest.mark.parametrize("codec", codecs())
def test_we_read_what_kafka_python_writes(codec: CompressionType) -> None:
    b = Builder(
        magic=2,
        compression_type=int(codec),
        is_transactional=False,
        producer_id=1234,
        producer_epoch=5,
        base_sequence=100,
        batch_size=1 << 20,
    )
    for i, (key, value, ts) in enumerate(ROWS):
        b.append(i, timestamp=ts, key=key, value=value, headers=HEADERS if i % 2 else [])
    wire = bytes(b.build())
    (info,) = record.read_batch_infos(wire)
    assert info.compression == codec  # kafka-python did compress
    assert (info.producer_id, info.producer_epoch, info.base_sequence) == (1234, 5, 100)
    got = list(record.iter_records(wire))
    assert [(r.key, r.value, r.timestamp) for r in got] == ROWS
    assert [list(r.headers) for r in got] == [HEADERS if i % 2 else [] for i in range(len(ROWS))]
    # The broker path: full validation and offset assignment accept it too.
    appended = bytearray(wire)
    res = _native.validate_and_assign(appended, 1000, full=True)
    assert (res.first_offset, res.last_offset) == (1000, 1049)
    assert res.batches[0].last_sequence == 149
    assert Reader(appended).validate_crc()


@pytest.mark.parametrize("codec", codecs())
def test_kafka_python_reads_what_we_write(codec: CompressionType) -> None:
    wire = record.build_batch(
        [(k, v, ts, HEADERS) for k, v, ts in ROWS],
        base_offset=40,
        compression=codec,
        producer_id=9,
        producer_epoch=1,
        base_sequence=3,
        is_transactional=True,
    )
    batch = Reader(wire)
    assert batch.validate_crc()
    assert batch.compression_type == codec
    assert (batch.producer_id, batch.producer_epoch, batch.base_sequence) == (9, 1, 3)
    assert batch.is_transactional
    assert batch.last_offset == 40 + len(ROWS) - 1
    recs = list(batch)
    assert [(r.key, r.value, r.timestamp) for r in recs] == ROWS
    assert [r.offset for r in recs] == list(range(40, 40 + len(ROWS)))
    assert all(r.headers == HEADERS for r in recs)


@pytest.mark.skipif(not kafka_codec.has_snappy(), reason="python-snappy missing")
def test_snappy_framing_both_ways(craft: object) -> None:
    """The Java client writes xerial framing; librdkafka writes one raw block."""
    import snappy

    section = b"".join(_record_section())
    wire = record.build_batch([(None, b"x" * 1000, 0)], compression="snappy")
    assert wire[61:69] == b"\x82SNAPPY\x00"  # xerial, like Java
    raw_batch = craft(snappy.compress(section), 3, attributes=2)  # type: ignore[operator]
    assert [r.value for r in record.iter_records(raw_batch)] == [b"a", b"b", b"c"]
    xerial = craft(kafka_codec.snappy_encode(section), 3, attributes=2)  # type: ignore[operator]
    assert [r.value for r in record.iter_records(xerial)] == [b"a", b"b", b"c"]


def _record_section() -> list[bytes]:
    b = Builder(2, 0, False, -1, -1, -1, 1 << 20)
    for i, v in enumerate([b"a", b"b", b"c"]):
        b.append(i, timestamp=0, key=None, value=v, headers=[])
    return [bytes(b.build())[61:]]
