"""PartitionLog: appends, reads and lookups across segment rolls, checked
against the files on disk decoded here with `struct`."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pystream import errors
from pystream.storage import LogConfig, PartitionLog


def test_round_trip_across_rolls_matches_disk(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, report = kb.open_log(tmp_path / "t-0")
    assert report.clean
    batches = kb.append_batches(plog, 60)
    assert plog.log_end_offset == 180
    bases = plog.segment_base_offsets
    assert len(bases) > 5
    # Every offset reads back the batch that holds it, whole.
    for off in range(180):
        got = plog.read_bytes(off, 1)
        assert got == batches[off // 3]
    # All batches come back, segment by segment, in order.
    out, off, reads = b"", 0, 0
    while off < plog.log_end_offset:
        chunk = plog.read_bytes(off, 1 << 20)
        out += chunk
        off = kb.decode_batches(chunk)[-1]["last"] + 1
        reads += 1
    assert out == b"".join(batches)
    assert reads == len(bases)  # one segment per read, as Kafka serves fetches
    plog.close()
    # The files: 20-digit names, whole batches with valid CRCs, sparse
    # index entries pointing at batch starts.
    names = sorted(os.listdir(tmp_path / "t-0"))
    logs = [n for n in names if n.endswith(".log")]
    assert [int(n[:20]) for n in logs] == bases
    assert all(len(n) == 24 for n in logs)
    for name in logs:
        log_path = tmp_path / "t-0" / name
        decoded = kb.decode_log(log_path)
        assert decoded[0]["base"] == int(name[:20])
        starts = {b["position"]: b for b in decoded}
        index = kb.decode_index(log_path.with_suffix(".index"))
        assert index, "sparse entries every index.interval.bytes"
        for off, pos in index:
            assert starts[pos]["last"] == off
        gaps = [b["position"] for b in decoded]
        assert len(index) >= (gaps[-1] // 200) // 2
        times = kb.decode_time_index(log_path.with_suffix(".timeindex"))
        assert times[-1][0] == max(b["max_ts"] for b in decoded)
        assert times == sorted(times)


def test_read_semantics(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0", **{"segment.bytes": 1 << 20})
    batches = kb.append_batches(plog, 10)
    size = len(batches[0])
    # At least one whole batch even when max_bytes is smaller.
    assert plog.read_bytes(4, 1) == batches[1]
    # Whole batches only, never more than max_bytes beyond the first.
    assert plog.read_bytes(0, 3 * size + size - 1) == b"".join(batches[:3])
    # max_offset (high watermark): nothing at or past it.
    assert plog.read_bytes(0, 1 << 20, max_offset=9) == b"".join(batches[:3])
    assert plog.read_bytes(0, 1 << 20, max_offset=8) == b"".join(batches[:2])
    assert plog.read(6, 100, max_offset=6) is None
    assert plog.read(30, 100) is None  # at the log end
    with pytest.raises(errors.OffsetOutOfRangeError):
        plog.read(31, 100)
    with pytest.raises(errors.OffsetOutOfRangeError):
        plog.read(-1, 100)
    s = plog.read(3, 2 * size)
    assert s is not None
    fd, position, length = s
    assert (position, length, s.first_offset) == (size, 2 * size, 3)
    assert os.pread(fd, length, position) == b"".join(batches[1:3]) == s.read()


def test_slice_survives_segment_deletion(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0")
    batches = kb.append_batches(plog, 30)
    s = plog.read(0, 100)
    assert s is not None
    plog.delete_records(plog.log_end_offset)
    assert not Path(s.path).exists()
    assert os.pread(s.fileno(), s.length, s.position) == batches[0]


def test_append_rejects_bad_input_and_keeps_log(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0")
    kb.append_batches(plog, 2)
    good = kb.build_batch(6, [1, 2])
    before = plog.read_bytes(0, 1 << 20)
    with pytest.raises(errors.InvalidRecordError):
        plog.append(kb.build_batch(5, [1, 2]))  # overlaps offset 5
    with pytest.raises(errors.InvalidRecordError):
        plog.append(good, 99)  # declared last offset is wrong
    with pytest.raises(errors.CorruptRecordError):
        plog.append(good[:-1])  # torn batch
    with pytest.raises(errors.CorruptRecordError):
        plog.append(good + b"\x00" * 12)  # trailing junk
    with pytest.raises(errors.RecordTooLargeError):
        plog.append(kb.build_batch(6, [1], value_size=4000))
    with pytest.raises(errors.InvalidRecordError):
        plog.append(b"")
    assert plog.read_bytes(0, 1 << 20) == before
    info = plog.append(bytearray(good), 7)
    assert (info.first_offset, info.last_offset, info.records) == (6, 7, 2)
    assert plog.log_end_offset == 8


def test_offset_gap_and_memoryview(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0")
    b = kb.build_batch(100, [5, 6])
    info = plog.append(memoryview(b))
    assert plog.segment_base_offsets == [100]  # the empty segment moved
    assert info.first_offset == 100 and plog.log_end_offset == 102
    assert plog.read_bytes(100, 10) == b


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sizes=st.lists(st.tuples(st.integers(1, 6), st.integers(1, 300)), min_size=1, max_size=40),
    interval=st.sampled_from([0, 64, 500, 4096]),
    data=st.data(),
)
def test_lookups_match_linear_scan(
    tmp_path_factory: pytest.TempPathFactory,
    kb: SimpleNamespace,
    sizes: list[tuple[int, int]],
    interval: int,
    data: st.DataObject,
) -> None:
    path = tmp_path_factory.mktemp("p") / "t-0"
    plog, _ = kb.open_log(path, **{"index.interval.bytes": interval, "segment.bytes": 3000})
    # Batches with random sizes, offset gaps and non-monotonic timestamps.
    scan = []  # (base, last, [(offset, ts)])
    for records, value_size in sizes:
        gap = data.draw(st.integers(0, 3))
        base = plog.log_end_offset + gap
        ts = data.draw(st.lists(st.integers(0, 10_000), min_size=records, max_size=records))
        plog.append(kb.build_batch(base, ts, value_size=value_size))
        scan.append((base, base + records - 1, [(base + i, t) for i, t in enumerate(ts)]))
    leo = plog.log_end_offset
    for off in range(leo):
        want = next(b for b in scan if b[1] >= off)
        got = plog.read_bytes(off, 1)
        assert int.from_bytes(got[:8], "big") == want[0]
        found = plog.lookup(off)
        assert found is not None
        segment, position = found
        raw = (path / f"{segment:020d}.log").read_bytes()
        assert raw[position : position + len(got)] == got
    targets = data.draw(st.lists(st.integers(0, 10_500), min_size=1, max_size=30))
    for t in targets:
        want_ts = next(((o, ts) for b in scan for o, ts in b[2] if ts >= t), None)
        assert plog.offset_for_timestamp(t) == want_ts
    plog.close()


def test_offset_for_special_timestamps(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0")
    assert plog.offset_for_timestamp(-3) is None
    plog.append(kb.build_batch(0, [50, 70, 60]))
    plog.append(kb.build_batch(3, [10, 20]))
    assert plog.offset_for_timestamp(-1) == (5, -1)
    assert plog.offset_for_timestamp(-2) == (0, -1)
    assert plog.offset_for_timestamp(-3) == (2, 70)
    assert plog.offset_for_timestamp(65) == (1, 70)
    assert plog.offset_for_timestamp(71) is None
    la = kb.build_batch(5, [1, 2], log_append_time=True)
    plog.append(la)
    assert plog.offset_for_timestamp(1) == (0, 50)


def test_flush_moves_recovery_point_and_reopen(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0")
    kb.append_batches(plog, 20)
    first_roll = plog.segment_base_offsets[1]
    assert plog.recovery_point >= first_roll  # fsync on roll
    plog.flush()
    assert plog.recovery_point == plog.log_end_offset == 60
    data = plog.read_bytes(0, 1 << 20)
    plog.close()
    with pytest.raises(errors.StorageError):
        plog.read(0, 10)
    again, report = kb.open_log(tmp_path / "t-0", recovery_point=60)
    assert report.clean and report.bytes_validated == 0
    assert again.read_bytes(0, 1 << 20) == data
    kb.append_batches(again, 1)
    assert again.log_end_offset == 63


def test_deferred_flush_reports_what_to_flush(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0")
    infos = []
    while len(plog.segment_base_offsets) < 3:
        leo = plog.log_end_offset
        batch = kb.build_batch(leo, [1_000_000 + leo + i for i in range(3)], value_size=100)
        infos.append(plog.append(batch, leo + 2, flush=False))
    assert plog.recovery_point == 0  # nothing was fsynced by the appends
    rolls = [i for i in infos if i.rolled]
    assert rolls and all(i.flush_up_to == i.segment_base_offset for i in rolls)
    assert all(i.flush_up_to is None for i in infos if not i.rolled)
    plog.flush(rolls[-1].flush_up_to)
    assert plog.recovery_point == rolls[-1].segment_base_offset


def test_deferred_flush_messages_asks_for_everything(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0", **{"flush.messages": 5})
    b0 = kb.build_batch(0, [1, 2, 3])
    assert plog.append(b0, 2, flush=False).flush_up_to is None
    b1 = kb.build_batch(3, [4, 5, 6])
    assert plog.append(b1, 5, flush=False).flush_up_to == -1
    assert plog.recovery_point == 0
    plog.flush()
    assert plog.recovery_point == 6 and plog.native.unflushed_messages == 0


def test_flush_messages(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0", **{"flush.messages": 5})
    kb.append_batches(plog, 1)
    assert plog.recovery_point == 0 and plog.native.unflushed_messages == 3
    kb.append_batches(plog, 1)
    assert plog.recovery_point == 6 and plog.native.unflushed_messages == 0


def test_segment_ms_rolls_on_record_time(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0", **{"segment.ms": 1000, "segment.bytes": 1 << 20})
    plog.append(kb.build_batch(0, [10_000]))
    plog.append(kb.build_batch(1, [10_900]))
    assert plog.segment_base_offsets == [0]
    info = plog.append(kb.build_batch(2, [11_001]))
    assert info.rolled and plog.segment_base_offsets == [0, 2]


def test_leader_epochs(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0")
    plog.append(kb.build_batch(0, [1, 2], epoch=0))
    plog.append(kb.build_batch(2, [1, 2], epoch=3))
    plog.append(kb.build_batch(4, [1, 2], epoch=3))
    assert plog.native.leader_epochs == [(0, 0), (3, 2)]
    assert plog.end_offset_for_leader_epoch(1) == (0, 2)
    assert plog.end_offset_for_leader_epoch(3) == (3, 6)
    text = (tmp_path / "t-0" / "leader-epoch-checkpoint").read_text()
    assert text == "0\n2\n0 0\n3 2\n"
    plog.truncate_to(3)
    assert plog.native.leader_epochs == [(0, 0), (3, 2)]
    plog.truncate_to(2)
    assert plog.native.leader_epochs == [(0, 0)]
    plog.close()
    again, _ = kb.open_log(tmp_path / "t-0")
    assert again.native.leader_epochs == [(0, 0)]


def test_config_update_applies(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0", **{"segment.bytes": 1 << 20})
    kb.append_batches(plog, 5)
    plog.update_config(LogConfig.from_dict({**kb.SMALL, "segment.bytes": 500}))
    kb.append_batches(plog, 3)
    assert len(plog.segment_base_offsets) >= 3
    assert plog.config["segment.bytes"] == 500
    with pytest.raises(ValueError):
        plog.native.update_config(segment_bytes=1)


def test_threads_share_a_log(tmp_path: Path, kb: SimpleNamespace) -> None:
    import threading

    plog, _ = kb.open_log(tmp_path / "t-0")
    stop = threading.Event()
    seen: list[int] = []

    def reader() -> None:
        while not stop.is_set():
            leo = plog.log_end_offset
            if leo:
                assert plog.read_bytes(leo - 1, 1 << 16)
                seen.append(leo)

    t = threading.Thread(target=reader)
    t.start()
    kb.append_batches(plog, 100)
    plog.flush()
    stop.set()
    t.join()
    assert plog.log_end_offset == 300


def test_partition_log_type() -> None:
    assert PartitionLog.__module__ == "pystream.storage.partition"


def test_segment_grows_past_its_first_config(tmp_path: Path, kb: SimpleNamespace) -> None:
    plog, _ = kb.open_log(tmp_path / "t-0", **{"segment.bytes": 2048})
    batches = kb.append_batches(plog, 3)
    plog.update_config(LogConfig.from_dict({**kb.SMALL, "segment.bytes": 1 << 20}))
    batches += kb.append_batches(plog, 40)
    assert len(plog.segment_base_offsets) <= 2
    for off in range(plog.log_end_offset):
        assert plog.read_bytes(off, 1) == batches[off // 3]
        assert plog.lookup(off) is not None
