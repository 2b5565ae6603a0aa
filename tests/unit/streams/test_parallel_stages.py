"""Cutting plans into stages, and reconciling a group's assignment with a batch."""

from __future__ import annotations

import numpy as np
import pytest

from pystream.streams import MemorySource, Stream
from pystream.streams import functions as F
from pystream.streams.parallel.assignment import needed_partitions, reconcile
from pystream.streams.parallel.group import GroupSpec, MemberState
from pystream.streams.parallel.stages import shuffle_keys, split_stages
from pystream.streams.plan import Node

SCHEMA = {"ts": "int64", "k": "int64", "v": "int64"}


def numbered(stream: Stream) -> list[Node]:
    nodes = list(stream.node.walk())
    for i, n in enumerate(nodes):
        n.node_id = i
    return nodes


def test_a_join_then_an_aggregation_is_three_stages() -> None:
    a = Stream.from_source(MemorySource(SCHEMA, name="a")).with_watermark("ts", "1 second")
    b = Stream.from_source(MemorySource(SCHEMA, name="b")).with_watermark("ts", "1 second")
    q = (
        a.filter(F.col("v") > 0)
        .join(b, on="k", window=F.window("ts", "1 second"))
        .group_by("window_start", "window_end")
        .agg(F.count().alias("n"))
        .select("window_start", "n")
    )
    nodes = numbered(q)
    plan = split_stages(nodes, q.node)
    assert [len(s.nodes) for s in plan.stages] == [5, 1, 2]  # sources, filter, watermarks
    join, agg = plan.stateful
    assert [ex.consumer for ex in plan.stages[0].outputs] == [join, join]
    assert [ex.side for ex in plan.stages[1].inputs] == [0, 1]
    assert [ex.consumer for ex in plan.stages[1].outputs] == [agg]
    assert plan.final.nodes[-1] is q.node and plan.final.outputs == []


def test_join_sides_hash_alike_whatever_the_integer_width() -> None:
    from pystream.compute.hashing import partition_for
    from pystream.streams.batch import MicroBatch

    a = Stream.from_source(MemorySource(SCHEMA, name="a")).with_watermark("ts", "1 second")
    b = Stream.from_source(MemorySource(SCHEMA, name="b")).with_watermark("ts", "1 second")
    join = a.join(b, on="k", window=F.window("ts", "1 second")).node
    keys = np.arange(100)
    left = shuffle_keys(join, 0, MicroBatch({"k": keys.astype(np.int64)}))
    right = shuffle_keys(join, 1, MicroBatch({"k": keys.astype(np.int32)}))
    assert np.array_equal(partition_for(left, 4), partition_for(right, 4))


def state(gen: int, parts: dict[str, list[int]]) -> MemberState:
    return MemberState(gen, f"m{gen}", "i", parts)


def test_reconcile_waits_for_one_generation_that_covers_the_batch() -> None:
    needed = needed_partitions(
        {"src": {0: 5, 1: 7, 2: 3}}, {"src": {0: 9, 1: 7, 2: 4}}, {"src": "t"}
    )
    assert needed == {"t": {0, 2}}  # partition 1 has nothing to read
    ok = reconcile([state(3, {"t": [0, 1]}), state(3, {"t": [2]})], needed)
    assert ok.plan == [{"t": [0]}, {"t": [2]}]
    assert "joining" in reconcile([state(3, {"t": [0, 1]}), None], needed).reason
    mixed = reconcile([state(3, {"t": [0, 1]}), state(4, {"t": [2]})], needed)
    assert mixed.plan is None and "generations [3, 4]" in mixed.reason
    twice = reconcile([state(3, {"t": [0, 2]}), state(3, {"t": [2]})], needed)
    assert twice.plan is None and "t-2" in twice.reason
    short = reconcile([state(3, {"t": [0]}), state(3, {})], needed)
    assert short.plan is None and short.missing == [("t", 2)]


def test_group_instance_ids_keep_the_worker_order() -> None:
    spec = GroupSpec("h:1", "g", (("s", "t"),), "pystream-q", commit=False)
    ids = [spec.instance_id(i) for i in range(12)]
    assert sorted(ids) == ids  # the range assignor orders static members by instance id


@pytest.mark.parametrize("bad", ["union"])
def test_unions_across_stages_are_refused(bad: str) -> None:
    src = MemorySource(SCHEMA)
    s = Stream.from_source(src).with_watermark("ts", "1 second")
    counts = s.group_by(F.window("ts", "1 second")).agg(F.count().alias("n"))
    q = counts.union(s)
    with pytest.raises(ValueError, match="stateful operator"):
        split_stages(numbered(q), q.node)
