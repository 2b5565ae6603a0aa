"""Self time from a py-spy flame graph (perf/profile.py), on small hand-made SVGs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

PROFILE = Path(__file__).resolve().parents[3] / "perf" / "profile.py"


@pytest.fixture(scope="module")
def profile() -> ModuleType:
    spec = importlib.util.spec_from_file_location("perf_profile", PROFILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["perf_profile"] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


def frame(name: str, x: int, w: int, depth: int, top_down: bool) -> str:
    y = 20 + 16 * depth if top_down else 500 - 16 * depth
    return (
        f'<g><title>{name} ({w} samples, {w:.1f}%)</title><rect x="0%" y="{y}" '
        f'width="1%" height="15" fill="rgb(0,0,0)" fg:x="{x}" fg:w="{w}"/></g>'
    )


def svg(tmp_path: Path, top_down: bool) -> Path:
    # all(100) -> main(100) -> [loop(60) -> epoll_wait(40), handle(20) -> pwrite(15)]
    #                          [work (f.py:3)(30), work (f.py:9)(10)]
    frames = [
        ("all", 0, 100, 0),
        ("main (m.py:1)", 0, 100, 1),
        ("loop (l.py:5)", 0, 60, 2),
        ("EpollSelector.select (selectors.py:468)", 0, 40, 3),
        ("epoll_wait (libc.so.6)", 0, 40, 4),
        ("handle (h.py:7)", 40, 20, 3),
        ("pwrite64 (libc.so.6)", 40, 15, 4),
        ("work (f.py:3)", 60, 30, 2),
        ("work (f.py:9)", 90, 10, 2),
    ]
    body = "".join(frame(n, x, w, d, top_down) for n, x, w, d in frames)
    path = tmp_path / "broker.svg"
    path.write_text(f'<svg xmlns="http://www.w3.org/2000/svg">{body}</svg>')
    return path


@pytest.mark.parametrize("top_down", [True, False])
def test_self_time_subtracts_callees_and_sets_idle_waits_apart(
    profile: ModuleType, tmp_path: Path, top_down: bool
) -> None:
    own = profile.self_time(svg(tmp_path, top_down))
    assert own.total == 100 and own.idle == 40
    # Lines of one function add up; callers keep only their own samples.
    assert own.busy == {"work (f.py)": 40, "pwrite64 (libc.so.6)": 15, "handle (h.py)": 5}
    top = own.top(2)
    assert top[0] == ("work (f.py)", pytest.approx(40 / 60 * 100), pytest.approx(40.0))
    assert top[1][0] == "pwrite64 (libc.so.6)"


def test_empty_or_foreign_svg_gives_no_frames(profile: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "x.svg"
    path.write_text("<svg><g><title>no samples here</title></g></svg>")
    own = profile.self_time(path)
    assert own.total == 0 and own.top() == []
