from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pystream.protocol.errors import ErrorCode
from pystream.server.producer_state import ProducerStateManager


def test_sequence_rules(tmp_path: Path) -> None:
    ps = ProducerStateManager(tmp_path)
    assert ps.check(7, 0, 0, 4).error == ErrorCode.NONE
    ps.update(7, 0, 0, 4, 100, 104, 1)
    # The next batch must continue the sequence.
    assert ps.check(7, 0, 5, 9).error == ErrorCode.NONE
    assert ps.check(7, 0, 6, 9).error == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    # A retry of a cached batch is a duplicate with its original offsets.
    dup = ps.check(7, 0, 0, 4).duplicate
    assert dup is not None and dup.first_offset == 100
    # Older epochs are fenced; a newer epoch must restart at 0.
    ps.update(7, 2, 0, 0, 105, 105, 2)
    assert ps.check(7, 1, 1, 1).error == ErrorCode.INVALID_PRODUCER_EPOCH
    assert ps.check(7, 3, 5, 5).error == ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER
    assert ps.check(7, 3, 0, 0).error == ErrorCode.NONE
    # No producer id: never checked.
    assert ps.check(-1, -1, -1, -1).error == ErrorCode.NONE


def test_only_last_five_batches_are_deduplicated(tmp_path: Path) -> None:
    ps = ProducerStateManager(tmp_path)
    for i in range(7):
        ps.update(1, 0, i, i, i, i, 0)
    assert ps.check(1, 0, 1, 1).duplicate is None
    assert ps.check(1, 0, 2, 2).duplicate is not None


@given(
    st.lists(st.tuples(st.integers(0, 2**40), st.integers(0, 5), st.integers(1, 50)), max_size=6)
)
def test_snapshot_roundtrip(entries: list[tuple[int, int, int]]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        ps = ProducerStateManager(Path(d))
        offset = 0
        for pid, epoch, n in entries:
            ps.update(pid, epoch, 0, n - 1, offset, offset + n - 1, 123)
            offset += n
        ps.write_snapshot(offset)
        again = ProducerStateManager(Path(d))
        assert again.load_latest_snapshot(offset) == offset
        assert {p: (e.epoch, list(e.batches)) for p, e in again.producers.items()} == {
            p: (e.epoch, list(e.batches)) for p, e in ps.producers.items()
        }


def test_snapshot_beyond_log_end_is_discarded(tmp_path: Path) -> None:
    ps = ProducerStateManager(tmp_path)
    ps.update(1, 0, 0, 0, 0, 0, 0)
    ps.write_snapshot(50)
    again = ProducerStateManager(tmp_path)
    assert again.load_latest_snapshot(10) == 0
    assert again.producers == {}


def test_corrupt_snapshot_is_ignored(tmp_path: Path) -> None:
    (tmp_path / f"{5:020d}.snapshot").write_text("garbage")
    ps = ProducerStateManager(tmp_path)
    assert ps.load_latest_snapshot(10) == 0
