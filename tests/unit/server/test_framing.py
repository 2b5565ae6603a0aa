import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pystream.protocol.errors import FrameTooLargeError, InvalidRequestError
from pystream.server import framing
from pystream.server.framing import SCRATCH_SIZE, FrameReceiver, large_buffer_size


def _feed(rx: FrameReceiver, data: bytes, chunk: int) -> list[bytes]:
    out: list[bytes] = []
    pos = 0
    while pos < len(data):
        buf = rx.get_buffer()
        n = min(len(buf), chunk, len(data) - pos)
        buf[:n] = data[pos : pos + n]
        pos += n
        out += [bytes(f) for f in rx.buffer_updated(n)]
    return out


@settings(deadline=None, max_examples=60)
@given(
    sizes=st.lists(
        st.one_of(
            st.integers(0, 300),
            st.integers(SCRATCH_SIZE - 10, SCRATCH_SIZE + 10),
            st.integers(100_000, 300_000),
        ),
        max_size=8,
    ),
    chunk=st.sampled_from([997, 4096, 65536, 1 << 20]),
)
def test_frames_survive_any_chunking(sizes: list[int], chunk: int) -> None:
    bodies = [bytes([i % 251]) * n for i, n in enumerate(sizes)]
    stream = b"".join(struct.pack(">i", len(b)) + b for b in bodies)
    rx = FrameReceiver(1 << 20)
    assert _feed(rx, stream, chunk) == bodies


def test_large_frames_are_writable_views() -> None:
    rx = FrameReceiver(1 << 20)
    body = b"x" * 200_000
    frames = []
    data = struct.pack(">i", len(body)) + body
    pos = 0
    while pos < len(data):
        buf = rx.get_buffer()
        n = min(len(buf), len(data) - pos)
        buf[:n] = data[pos : pos + n]
        pos += n
        frames += rx.buffer_updated(n)
    assert len(frames) == 1 and isinstance(frames[0], memoryview) and not frames[0].readonly


@pytest.mark.parametrize("size, error", [(-1, InvalidRequestError), (2 << 20, FrameTooLargeError)])
def test_bad_sizes_fail_before_allocating(size: int, error: type[Exception]) -> None:
    rx = FrameReceiver(1 << 20)
    buf = rx.get_buffer()
    buf[:4] = struct.pack(">i", size)
    with pytest.raises(error):
        rx.buffer_updated(4)


@given(sizes=st.lists(st.integers(0, 40), max_size=6), chunk=st.integers(1, 7))
def test_tiny_chunks(sizes: list[int], chunk: int) -> None:
    bodies = [bytes([i]) * n for i, n in enumerate(sizes)]
    stream = b"".join(struct.pack(">i", len(b)) + b for b in bodies)
    assert _feed(FrameReceiver(1 << 20), stream, chunk) == bodies


def _feed_views(rx: FrameReceiver, data: bytes) -> list[memoryview | bytes]:
    frames: list[memoryview | bytes] = []
    pos = 0
    while pos < len(data):
        buf = rx.get_buffer()
        n = min(len(buf), len(data) - pos, 50_000)
        buf[:n] = data[pos : pos + n]
        pos += n
        frames += rx.buffer_updated(n)
    return frames


def _counting_receiver(
    monkeypatch: pytest.MonkeyPatch, max_size: int
) -> tuple[FrameReceiver, list[int]]:
    """A receiver, and the sizes of the buffers `framing` allocates for it from now on."""
    rx = FrameReceiver(max_size)
    sizes: list[int] = []

    def counting_bytearray(size: int) -> bytearray:
        sizes.append(size)
        return bytearray(size)

    monkeypatch.setattr(framing, "bytearray", counting_bytearray, raising=False)
    return rx, sizes


def _frame(body: bytes) -> bytes:
    return struct.pack(">i", len(body)) + body


def test_a_released_large_buffer_is_reused_for_the_next_large_frame(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rx, allocated = _counting_receiver(monkeypatch, 1 << 20)
    [first] = _feed_views(rx, _frame(b"a" * 300_000))
    del first
    [second] = _feed_views(rx, _frame(b"b" * 200_000))
    assert allocated == [large_buffer_size(300_000)]  # the second went into the first's buffer
    assert isinstance(second, memoryview)
    assert len(second) == 200_000 and bytes(second) == b"b" * 200_000
    del second
    [third] = _feed_views(rx, _frame(b"c" * 700_000))  # too big for it: a new buffer
    assert allocated == [large_buffer_size(300_000), large_buffer_size(700_000)]
    assert bytes(third) == b"c" * 700_000


def test_a_large_frame_still_referenced_is_never_overwritten() -> None:
    rx = FrameReceiver(1 << 20)
    [first] = _feed_views(rx, _frame(b"a" * 300_000))
    records = first[1000:2000]  # e.g. a decoded request keeping its records
    del first
    [second] = _feed_views(rx, _frame(b"b" * 300_000))
    assert bytes(records) == b"a" * 1000
    assert isinstance(second, memoryview) and second.obj is not records.obj
    assert bytes(second) == b"b" * 300_000


def test_a_pipelined_large_frame_reuses_an_earlier_buffer_once_released(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # librdkafka keeps several produce requests in flight: the next one arrives
    # while the previous one is still being appended.
    rx, allocated = _counting_receiver(monkeypatch, 1 << 20)
    [first] = _feed_views(rx, _frame(b"a" * 300_000))
    [second] = _feed_views(rx, _frame(b"b" * 300_000))  # the first is still held
    assert len(allocated) == 2
    del first
    [third] = _feed_views(rx, _frame(b"c" * 300_000))  # the second is still held
    assert len(allocated) == 2
    assert bytes(second) == b"b" * 300_000 and bytes(third) == b"c" * 300_000


def test_at_most_max_spare_buffers_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    rx, allocated = _counting_receiver(monkeypatch, 1 << 20)
    held = [
        _feed_views(rx, _frame(b"a" * 100_000))[0] for _ in range(framing.MAX_SPARE_BUFFERS + 2)
    ]
    assert len(allocated) == framing.MAX_SPARE_BUFFERS + 2
    del held
    for _ in range(framing.MAX_SPARE_BUFFERS):
        frame = _feed_views(rx, _frame(b"b" * 100_000))[0]
        del frame  # released at once: the same spare again
    assert len(allocated) == framing.MAX_SPARE_BUFFERS + 2


def test_a_slightly_larger_frame_reuses_the_buffer(monkeypatch: pytest.MonkeyPatch) -> None:
    # Consecutive produce requests grow by a few bytes as record varints grow.
    rx, allocated = _counting_receiver(monkeypatch, 1 << 20)
    [first] = _feed_views(rx, _frame(b"a" * 999_932))
    del first
    [second] = _feed_views(rx, _frame(b"b" * 999_940))
    assert len(allocated) == 1 and allocated[0] >= 999_940
    assert len(second) == 999_940 and bytes(second) == b"b" * 999_940
