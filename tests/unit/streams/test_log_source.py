"""EmbeddedLogSource over a data dir written by the native log (no broker)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pystream import _native
from pystream.record import build_batch
from pystream.streams import DataLossError, EmbeddedLogSource, MemorySink, Stream, Trigger


class Writer:
    """Appends batches of 10 records to `<dir>/<topic>-<p>`; record i has timestamp 1000 + i."""

    def __init__(self, data_dir: Path, topic: str, partitions: int) -> None:
        self.logs = [
            _native.PartitionLog.open(
                str(data_dir / f"{topic}-{p}"),
                segment_bytes=2_000,
                index_interval_bytes=200,
                retention_ms=-1,  # the timestamps are from 1970
            )[0]
            for p in range(partitions)
        ]

    def append(self, p: int, batches: int, size: int = 10) -> None:
        log = self.logs[p]
        for _ in range(batches):
            n = log.log_end_offset
            recs = [
                (f"k{n + i}".encode(), f"p{p}-v{n + i}".encode(), 1000 + n + i, None)
                for i in range(size)
            ]
            log.append(build_batch(recs, base_offset=n))

    def close(self) -> None:
        for log in self.logs:
            log.close()


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Writer]:
    w = Writer(tmp_path, "events", 2)
    yield w
    w.close()


def values(p: int, lo: int, hi: int) -> list[bytes]:
    return [f"p{p}-v{i}".encode() for i in range(lo, hi)]


def test_reads_ranges_across_segments(tmp_path: Path, writer: Writer) -> None:
    writer.append(0, 30)
    writer.append(1, 3)
    assert len(writer.logs[0].segment_base_offsets) > 3  # the ranges cross segment files
    source = EmbeddedLogSource(tmp_path, "events")
    assert source.initial_offsets() == {0: 0, 1: 0}
    assert source.latest_offsets() == {0: 300, 1: 30}
    for lo, hi in [(0, 300), (5, 6), (17, 233), (299, 300), (110, 120)]:
        batch = source.read({0: lo, 1: 0}, {0: hi, 1: 0})
        assert batch["value"].to_pylist() == values(0, lo, hi)
        assert batch["offset"].tolist() == list(range(lo, hi))
    both = source.read({0: 290, 1: 25}, {0: 300, 1: 30})
    assert both["value"].to_pylist() == values(0, 290, 300) + values(1, 25, 30)
    source.close()


def test_sees_appends_made_after_it_opened(tmp_path: Path, writer: Writer) -> None:
    writer.append(0, 2)
    source = EmbeddedLogSource(tmp_path, "events")
    assert source.latest_offsets()[0] == 20
    writer.append(0, 25)  # grows the mapped segment and rolls new ones
    assert source.latest_offsets()[0] == 270
    assert source.read({0: 15}, {0: 270})["value"].to_pylist() == values(0, 15, 270)
    source.close()


def test_a_batch_still_being_written_is_not_read(tmp_path: Path, writer: Writer) -> None:
    writer.append(0, 1)
    writer.logs[0].flush()
    last = max((tmp_path / "events-0").glob("*.log"))
    torn = build_batch([(b"k", b"v", 1)] * 10, base_offset=10)
    with open(last, "ab") as f:
        f.write(torn[: len(torn) // 2])
    source = EmbeddedLogSource(tmp_path, "events")
    assert source.latest_offsets()[0] == 10
    assert source.read({0: 0}, {0: 10})["offset"].tolist() == list(range(10))
    source.close()


def test_offsets_for_timestamp(tmp_path: Path, writer: Writer) -> None:
    writer.append(0, 20)
    source = EmbeddedLogSource(tmp_path, "events")
    found = source.offsets_for_timestamp(1000 + 137)
    assert found[0] == 137
    assert found[1] == 0  # an empty partition: its end
    assert source.offsets_for_timestamp(10**12)[0] == 200
    source.close()


def test_deleted_records_are_data_loss(tmp_path: Path, writer: Writer) -> None:
    writer.append(0, 30)
    source = EmbeddedLogSource(tmp_path, "events")
    writer.logs[0].delete_records(150)
    writer.logs[0].enforce_retention()  # drops the segments wholly below 150
    first = writer.logs[0].segment_base_offsets[0]
    assert 0 < first <= 150
    with pytest.raises(DataLossError, match="events-0"):
        source.read({0: 0}, {0: 200})
    lenient = EmbeddedLogSource(tmp_path, "events", fail_on_data_loss=False)
    assert lenient.read({0: 0}, {0: 200})["offset"].tolist() == list(range(first, 200))
    source.close()
    lenient.close()


def test_unknown_topic_is_a_clear_error(tmp_path: Path, writer: Writer) -> None:
    with pytest.raises(FileNotFoundError, match="nope"):
        EmbeddedLogSource(tmp_path, "nope").latest_offsets()


def test_query_over_the_log_with_a_cap(tmp_path: Path, writer: Writer) -> None:
    writer.append(0, 10)
    writer.append(1, 10)
    sink = MemorySink()
    source = EmbeddedLogSource(tmp_path, "events", max_records_per_trigger=50)
    Stream.from_source(source).select("partition", "offset").write_stream.trigger(
        Trigger.available_now()
    ).checkpoint(tmp_path / "cp").sink(sink).run()
    assert len(sink.batches) == 4
    rows = {(r["partition"], r["offset"]) for r in sink.rows()}
    assert rows == {(p, o) for p in (0, 1) for o in range(100)}
    assert sorted(os.listdir(tmp_path / "cp" / "offsets")) == ["0", "1", "2", "3"]
