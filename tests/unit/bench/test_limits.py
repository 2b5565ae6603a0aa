"""Physical-limit measurements and the load generator's enqueue ceiling, on tiny sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from pystream.bench.limits import measure_disk, measure_loopback_tcp


def test_disk_measurement_reports_rates_and_leaves_no_file(tmp_path: Path) -> None:
    limits = measure_disk(tmp_path / "d", size_mib=2)
    assert limits.size_mib == 2
    assert limits.write_fsync_mb_s > 0
    assert limits.read_cold_mb_s > 0
    assert limits.read_cached_mb_s > 0
    assert "fadvise" in limits.cold_read_method or "page cache" in limits.cold_read_method
    assert list((tmp_path / "d").iterdir()) == []
    assert limits.to_dict()["directory"] == str(tmp_path / "d")


def test_loopback_tcp_moves_every_byte() -> None:
    assert measure_loopback_tcp(size_mib=4) > 0


@pytest.mark.parametrize("bad", [0, -1])
def test_sizes_must_be_positive(tmp_path: Path, bad: int) -> None:
    with pytest.raises(ValueError):
        measure_disk(tmp_path, size_mib=bad)
    with pytest.raises(ValueError):
        measure_loopback_tcp(size_mib=bad)


def test_enqueue_ceiling_counts_every_record() -> None:
    pytest.importorskip("confluent_kafka")
    from pystream.bench.ceiling import measure_enqueue_ceiling

    ceiling = measure_enqueue_ceiling(num_records=2000, record_size=100)
    assert ceiling.records == 2000
    assert ceiling.bytes == 200_000
    assert ceiling.records_per_s > 0


def test_payload_is_deterministic_capital_letters() -> None:
    from pystream.bench.producer import make_payload

    payload = make_payload(64, seed=3)
    assert len(payload) == 64
    assert payload.isalpha() and payload.isupper()
    assert payload == make_payload(64, seed=3)
    assert payload != make_payload(64, seed=4)
