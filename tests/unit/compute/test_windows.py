import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pystream.compute import windows


@given(st.lists(st.integers(-10_000, 10_000), max_size=40), st.integers(1, 50), st.integers(0, 20))
def test_tumbling_start_contains_the_timestamp(ts: list[int], size: int, offset: int) -> None:
    starts = windows.tumbling_start(np.array(ts, np.int64), size, offset)
    for t, s in zip(ts, starts.tolist(), strict=True):
        assert s <= t < s + size and (s - offset) % size == 0


@given(
    st.lists(st.integers(-1000, 1000), max_size=30),
    st.integers(1, 20),
    st.integers(1, 20),
    st.integers(0, 9),
)
def test_hopping_assigns_every_containing_window_once(
    ts: list[int], slide: int, extra: int, offset: int
) -> None:
    size = slide + extra
    rows, starts = windows.hopping(np.array(ts, np.int64), size, slide, offset)
    got = sorted(zip(rows.tolist(), starts.tolist(), strict=True))
    want = sorted(
        (i, s)
        for i, t in enumerate(ts)
        for s in range(t - size - slide * 2, t + 1)
        if (s - offset) % slide == 0 and s <= t < s + size
    )
    assert got == want


@settings(deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 100)), max_size=40), st.integers(1, 15))
def test_sessions_merge_overlapping_intervals_per_key(
    events: list[tuple[int, int]], gap: int
) -> None:
    keys = np.array([k for k, _ in events], np.int64)
    starts = np.array([t for _, t in events], np.int64)
    order, session, n = windows.sessions(keys, starts, starts + gap)
    # reference: per key, sort times; a new session starts when t >= previous end
    ref = 0
    for key in set(keys.tolist()):
        ends: list[int] = []
        for t in sorted(t for k, t in events if k == key):
            if not ends or t >= ends[-1]:
                ends.append(t + gap)
                ref += 1
            else:
                ends[-1] = max(ends[-1], t + gap)
    assert n == ref
    assert len(order) == len(events) and (np.diff(session) >= 0).all()
