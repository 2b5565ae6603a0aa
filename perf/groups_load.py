"""Load time of `__consumer_offsets` as its history grows (live keys fixed).

Usage: python perf/groups_load.py KEYS ROUNDS
Commits KEYS offsets (10 groups x KEYS/10 partitions) ROUNDS times, restarts
the broker three times and prints the restart time, which includes the
coordinator's load (median and runs) as JSON, beside the time to merely
read the offsets partition's bytes.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import Coroutine
from typing import Any

from pystream import _native
from pystream.coordinator.results import CommitRequestPartition
from pystream.coordinator.service import group_coordinator
from pystream.testing import EmbeddedBroker


def on_loop(b: EmbeddedBroker, coro: Coroutine[Any, Any, Any]) -> Any:
    assert b._loop is not None
    return asyncio.run_coroutine_threadsafe(coro, b._loop).result(600)


async def fill(b: EmbeddedBroker, keys: int, rounds: int) -> None:
    broker = b.broker
    assert broker is not None and broker.topics is not None
    if broker.topics.get("t") is None:
        broker.topics.create("t", keys // 10)
    c = group_coordinator(broker)
    await c.start()
    for r in range(rounds):
        parts = [CommitRequestPartition("t", i, r) for i in range(keys // 10)]
        for g in range(10):
            c.commit_offsets(f"group-{g}", -1, "", None, parts)
        await asyncio.sleep(0)


async def read_all(b: EmbeddedBroker) -> dict[str, float]:
    broker = b.broker
    assert broker is not None and broker.topics is not None
    t1 = time.perf_counter()
    part = broker.topics.partition("__consumer_offsets", 0)
    assert part is not None
    offset, nbytes = part.log_start_offset, 0
    while offset < part.log_end_offset:
        data = part.log.read_bytes(offset, 8 << 20)
        infos = _native.read_batch_infos(data, allow_partial_tail=True)
        nbytes += len(data)
        offset = infos[-1].last_offset + 1
    t2 = time.perf_counter()
    return {"read_bytes_s": t2 - t1, "bytes": nbytes}


def main() -> None:
    keys, rounds = int(sys.argv[1]), int(sys.argv[2])
    b = EmbeddedBroker()
    b.start()
    on_loop(b, fill(b, keys, rounds))
    runs = []
    for _ in range(3):
        # The broker loads existing groups during start-up, before serving.
        t0 = time.perf_counter()
        b.restart()
        restart_s = time.perf_counter() - t0
        runs.append({"restart_with_load_s": restart_s, **on_loop(b, read_all(b))})
    b.close()
    median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(json.dumps({"keys": keys, "rounds": rounds, "median": median, "runs": runs}))


if __name__ == "__main__":
    main()
