from pystream.server.write_placement import OFFLOOP_APPEND_BYTES, WritePlacement


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_large_writes_stay_on_the_loop_while_writes_are_fast() -> None:
    placement = WritePlacement(slow_s=0.005, calm_s=2.0, clock=_Clock())
    assert placement.on_loop(1 << 20)
    placement.record(0.004)
    assert placement.on_loop(1 << 20)


def test_a_slow_write_moves_large_writes_off_the_loop_until_calm() -> None:
    clock = _Clock()
    placement = WritePlacement(slow_s=0.005, calm_s=2.0, clock=clock)
    placement.record(0.05)
    assert not placement.on_loop(1 << 20)
    assert placement.on_loop(OFFLOOP_APPEND_BYTES - 1)  # small ones never move
    clock.now += 1.5
    placement.record(0.006)  # still slow: the calm period starts again
    clock.now += 1.9
    assert not placement.on_loop(1 << 20)
    placement.record(0.001)  # fast writes do not shorten it
    clock.now += 0.1
    assert placement.on_loop(1 << 20)
