import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pystream.protocol.errors import FrameTooLargeError, InvalidRequestError
from pystream.server import framing
from pystream.server.framing import SCRATCH_SIZE, BufferPool, FrameReceiver, large_buffer_size


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
    monkeypatch: pytest.MonkeyPatch, max_size: int, pool: BufferPool | None = None
) -> tuple[FrameReceiver, list[int]]:
    """A receiver, and the sizes of the buffers `framing` allocates from now on."""
    rx = FrameReceiver(max_size, pool)
    sizes: list[int] = []

    def counting_bytearray(size: int) -> bytearray:
        sizes.append(size)
        return bytearray(size)

    monkeypatch.setattr(framing, "bytearray", counting_bytearray, raising=False)
    return rx, sizes


def _frame(body: bytes) -> bytes:
    return struct.pack(">i", len(body)) + body


def test_an_answered_large_frame_lends_its_buffer_to_the_next_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rx, allocated = _counting_receiver(monkeypatch, 1 << 20)
    [first] = _feed_views(rx, _frame(b"a" * 300_000))
    rx.recycle(first)
    del first
    [second] = _feed_views(rx, _frame(b"b" * 200_000))
    assert allocated == [large_buffer_size(300_000)]  # the second went into the first's buffer
    assert isinstance(second, memoryview)
    assert len(second) == 200_000 and bytes(second) == b"b" * 200_000
    rx.recycle(second)
    del second
    [third] = _feed_views(rx, _frame(b"c" * 700_000))  # too big for it: a new buffer
    assert allocated == [large_buffer_size(300_000), large_buffer_size(700_000)]
    assert bytes(third) == b"c" * 700_000


def test_a_frame_not_yet_answered_keeps_its_buffer(monkeypatch: pytest.MonkeyPatch) -> None:
    rx, allocated = _counting_receiver(monkeypatch, 1 << 20)
    [first] = _feed_views(rx, _frame(b"a" * 300_000))
    del first  # dropped, but never handed back: not known to be done
    _feed_views(rx, _frame(b"b" * 300_000))
    assert len(allocated) == 2


def test_a_large_frame_still_referenced_is_never_overwritten() -> None:
    rx = FrameReceiver(1 << 20)
    [first] = _feed_views(rx, _frame(b"a" * 300_000))
    records = first[1000:2000]  # e.g. a decoded request keeping its records
    rx.recycle(first)
    del first
    [second] = _feed_views(rx, _frame(b"b" * 300_000))
    assert bytes(records) == b"a" * 1000
    assert isinstance(second, memoryview) and second.obj is not records.obj
    assert bytes(second) == b"b" * 300_000
    del records
    rx.recycle(second)
    del second
    [third] = _feed_views(rx, _frame(b"c" * 300_000))  # the first's buffer, free at last
    assert bytes(third) == b"c" * 300_000


def test_pipelined_frames_reuse_the_buffers_of_answered_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # librdkafka keeps many produce requests in flight: several are queued
    # while one is appended, and each answered one frees a buffer for the next.
    rx, allocated = _counting_receiver(monkeypatch, 1 << 20)
    queued = [_feed_views(rx, _frame(bytes([i]) * 300_000))[0] for i in range(6)]
    assert len(allocated) == 6
    for i in range(6, 40):
        answered = queued.pop(0)
        rx.recycle(answered)
        del answered
        queued.append(_feed_views(rx, _frame(bytes([i]) * 300_000))[0])
    assert len(allocated) == 6
    assert [bytes(q[:1]) for q in queued] == [bytes([i]) for i in range(34, 40)]
    assert all(bytes(q) == bytes(q[:1]) * 300_000 for q in queued)


def test_a_pool_holds_at_most_its_byte_limit_dropping_the_longest_unused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pool = BufferPool(max_bytes=3 * large_buffer_size(100_000))
    rx = FrameReceiver(1 << 20, pool)
    held = [_feed_views(rx, _frame(bytes([i]) * 100_000))[0] for i in range(5)]
    kept_ids = {id(h.obj) for h in held[2:]}  # ids: a reference would keep them busy
    for frame in held:
        rx.recycle(frame)
        rx.recycle(frame)  # twice: still one entry
    del held, frame
    assert len(pool) == 3
    taken = [pool.take(100_000) for _ in range(3)]
    assert {id(b) for b in taken} == kept_ids
    assert pool.take(100_000) is None


def test_connections_sharing_a_pool_reuse_each_others_buffers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A new producer connection starts with the buffers earlier ones freed.
    pool = BufferPool()
    first_rx, allocated = _counting_receiver(monkeypatch, 1 << 20, pool)
    frames = [_feed_views(first_rx, _frame(b"a" * 300_000))[0] for _ in range(3)]
    for frame in frames:
        first_rx.recycle(frame)
    del frames, frame, first_rx
    second_rx = FrameReceiver(1 << 20, pool)
    frames = [_feed_views(second_rx, _frame(b"b" * 300_000))[0] for _ in range(4)]
    large = [size for size in allocated if size != SCRATCH_SIZE]  # not the new scratch
    assert len(large) == 4  # three reused, one new
    assert all(bytes(f) == b"b" * 300_000 for f in frames)


def test_a_pool_skips_buffers_that_do_not_fit() -> None:
    pool = BufferPool()
    pool.give(bytearray(65_536))
    pool.give(bytearray(4 * 65_536))
    assert pool.take(3 * 65_536) is not None  # the larger one
    assert pool.take(200_000) is None  # the small one is too small
    assert pool.take(10_000) is None  # ... and more than twice this
    assert len(pool) == 1


def test_a_slightly_larger_frame_reuses_the_buffer(monkeypatch: pytest.MonkeyPatch) -> None:
    # Consecutive produce requests grow by a few bytes as record varints grow.
    rx, allocated = _counting_receiver(monkeypatch, 1 << 20)
    [first] = _feed_views(rx, _frame(b"a" * 999_932))
    rx.recycle(first)
    del first
    [second] = _feed_views(rx, _frame(b"b" * 999_940))
    assert len(allocated) == 1 and allocated[0] >= 999_940
    assert len(second) == 999_940 and bytes(second) == b"b" * 999_940


def test_an_idle_pool_gives_its_memory_back() -> None:
    now = [100.0]
    pool = BufferPool(clock=lambda: now[0])
    pool.give(bytearray(65_536))
    now[0] += 59.0
    pool.trim(idle_s=60.0)
    assert len(pool) == 1 and pool.nbytes == 65_536
    assert pool.take(65_536) is not None  # a take restarts the idle clock
    pool.give(bytearray(65_536))
    now[0] += 59.0
    pool.trim(idle_s=60.0)
    assert len(pool) == 1
    now[0] += 1.0
    pool.trim(idle_s=60.0)
    assert len(pool) == 0 and pool.nbytes == 0
