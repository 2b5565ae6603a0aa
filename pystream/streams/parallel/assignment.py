"""Who reads which source partition in a batch: the group's assignment, checked by the driver.

Two things are decided in two places, as in Spark's Kafka source:

* **the checkpoint decides offsets**: the driver writes `offsets/<batch id>` (the exact
  range of every partition) before any worker reads; a batch that is run again after a
  crash reads the same ranges, whoever reads them;
* **the consumer group decides owners**: which worker reads which partition of a Kafka
  source is the group's current assignment.

Before a batch's map stage the driver asks every worker for its last completed join
(generation and partitions) and runs the stage only when all workers report the same
generation and their assignments cover every partition that has records in the batch
exactly once (`reconcile`). Otherwise a rebalance is under way, and the driver asks again
until it settles; the partitions of one batch therefore have exactly one reader each, and a
rebalance between or during batches moves no offset. A partition the group does not assign
(new partitions the leader has not seen, or members outside this query holding them) makes
the driver ask the workers to rejoin; if the group still does not cover the batch, the
query fails with `GroupAssignmentError` naming the group's members.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pystream.streams.parallel.group import MemberState


class GroupAssignmentError(RuntimeError):
    """The consumer group does not settle on an assignment that covers the batch."""


def needed_partitions(
    start: dict[str, dict[int, int]], end: dict[str, dict[int, int]], topics: dict[str, str]
) -> dict[str, set[int]]:
    """topic -> partitions with records in the batch (only these need a reader)."""
    out: dict[str, set[int]] = {}
    for name, topic in topics.items():
        lo = start.get(name, {})
        out[topic] = {p for p, hi in end.get(name, {}).items() if hi > lo.get(p, 0)}
    return out


@dataclass
class Verdict:
    plan: list[dict[str, list[int]]] | None  # per worker: topic -> needed partitions it reads
    reason: str = ""
    missing: list[tuple[str, int]] = field(default_factory=list)  # settled, yet not covered


def reconcile(reports: Sequence[MemberState | None], needed: dict[str, set[int]]) -> Verdict:
    """Who reads what, when the workers agree on one generation that covers `needed`."""
    if any(r is None for r in reports):
        waiting = [i for i, r in enumerate(reports) if r is None]
        return Verdict(None, f"workers {waiting} are joining the group")
    states = [r for r in reports if r is not None]
    generations = {s.generation for s in states}
    if len(generations) > 1:
        return Verdict(None, f"workers report generations {sorted(generations)}")
    owners: dict[tuple[str, int], int] = {}
    for i, s in enumerate(states):
        for topic, parts in s.partitions.items():
            for p in parts:
                if (topic, p) in owners:
                    return Verdict(
                        None, f"{topic}-{p} is assigned to workers {owners[topic, p]} and {i}"
                    )
                owners[topic, p] = i
    missing = sorted((t, p) for t, ps in needed.items() for p in ps if (t, p) not in owners)
    if missing:
        shown = ", ".join(f"{t}-{p}" for t, p in missing[:8])
        return Verdict(None, f"no worker of this query is assigned {shown}", missing)
    plan: list[dict[str, list[int]]] = [{} for _ in states]
    for (topic, p), i in sorted(owners.items()):
        if p in needed.get(topic, set()):
            plan[i].setdefault(topic, []).append(p)
    return Verdict(plan)
