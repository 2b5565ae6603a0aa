"""CPU seconds a process (and its descendants) has used, read from /proc/<pid>/stat.

The comparison reads a broker's CPU before and after each run: CPU seconds
per GB moved is an efficiency figure that does not depend on how busy the
shared machine was, unlike throughput. The system (kernel) part is kept
apart: it is the socket and page-cache work any broker moving those bytes
pays, the floor under what the broker's own code costs. Linux only;
elsewhere the readings are `None` and the report leaves the column empty.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from pystream.bench.stats import Throughput

PROC = Path("/proc")


def clock_ticks() -> int:
    """Kernel clock ticks per second, the unit of utime/stime in /proc/<pid>/stat."""
    return int(os.sysconf("SC_CLK_TCK"))


class CpuTimes(NamedTuple):
    """CPU seconds in user space and in the kernel."""

    user: float
    system: float

    @property
    def total(self) -> float:
        return self.user + self.system


def parse_stat(text: str) -> tuple[int, int, int]:
    """(parent pid, utime ticks, stime ticks) from the text of /proc/<pid>/stat.

    The command name (field 2) is in parentheses and may itself contain spaces
    or parentheses, so the fields are counted from the last ')'.
    """
    end = text.rindex(")")
    fields = text[end + 2 :].split()
    # After the name: state(3) ppid(4) ... utime(14) stime(15); index = field number - 3.
    return int(fields[1]), int(fields[11]), int(fields[12])


def _read(pid: int, proc: Path) -> tuple[int, int, int] | None:
    try:
        return parse_stat((proc / str(pid) / "stat").read_text())
    except (OSError, ValueError, IndexError):
        return None  # the process exited meanwhile, or no procfs


def tree_cpu_times(pid: int, proc: Path = PROC) -> CpuTimes | None:
    """User and system CPU seconds used so far by `pid` and every live descendant;
    None if `pid` is gone."""
    own = _read(pid, proc)
    if own is None:
        return None
    children: dict[int, list[int]] = {}
    ticks: dict[int, tuple[int, int]] = {pid: own[1:]}
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == pid:
            continue
        stat = _read(int(entry.name), proc)
        if stat is not None:
            children.setdefault(stat[0], []).append(int(entry.name))
            ticks[int(entry.name)] = stat[1:]
    user = system = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        u, s = ticks.get(current, (0, 0))
        user, system = user + u, system + s
        stack.extend(children.get(current, []))
    hz = clock_ticks()
    return CpuTimes(user / hz, system / hz)


def tree_cpu_seconds(pid: int, proc: Path = PROC) -> float | None:
    """CPU seconds (user + system) used so far by `pid` and every live descendant."""
    times = tree_cpu_times(pid, proc)
    return None if times is None else times.total


def cpu_usage(
    cpu_s: float, throughput: Throughput, system_s: float | None = None
) -> dict[str, float]:
    """A process's CPU over one run: cores busy, and CPU seconds per GB (2^30 bytes) moved;
    with `system_s`, also the kernel's part per GB.

    The CPU window spans the whole run (worker start-up and topic creation
    included), so cores are a slight overestimate for short runs; CPU s/GB does
    not depend on how long the run took or on other load on the machine.
    """
    gigabytes = throughput.bytes / 2**30
    usage = {
        "cpu_s": cpu_s,
        "cpu_cores_used": cpu_s / throughput.seconds if throughput.seconds > 0 else 0.0,
        "cpu_s_per_gb": cpu_s / gigabytes if gigabytes > 0 else 0.0,
    }
    if system_s is not None:
        usage["system_s"] = system_s
        usage["system_s_per_gb"] = system_s / gigabytes if gigabytes > 0 else 0.0
    return usage
