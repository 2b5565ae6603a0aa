"""Keeps the partitions of `__consumer_offsets` short, so loading them stays
fast however long the coordinator runs.

The coordinator knows the latest value of every key it wrote (it is what
a loaded partition holds in memory anyway). When most of a partition's
records are superseded (Kafka's `log.cleaner.min.cleanable.ratio`,
default 0.5) and it holds at least `min_records`, the live records are
appended again as a snapshot and the log start offset is moved to where
the snapshot begins: what was before is all superseded. This is what
Kafka's log cleaner achieves for a compacted topic, done by rewriting
instead of cleaning segments in place.

Safety while requests keep writing: the snapshot is written in chunks,
each chunk reading the keys' *current* values at the moment it is written,
so a commit made during the snapshot is either inside it or after it in
the log; and nothing before the snapshot's first offset is needed once
the last chunk is written. A crash in between leaves the old records in
place (the start offset has not moved): nothing is lost, the next run
compacts again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pystream.coordinator.store import CoordinatorStore, Record

log = logging.getLogger(__name__)

CHUNK_RECORDS = 2000


class Compactor:
    def __init__(self, store: CoordinatorStore, min_records: int, min_ratio: float) -> None:
        self.store = store
        self.min_records = min_records
        self.min_ratio = min_ratio
        # Per partition: key -> latest value; tombstoned keys are dropped.
        self.live: dict[int, dict[bytes, bytes]] = {}
        self._running: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.compactions = 0

    def maybe_start(self, partition: int, records: list[Record]) -> None:
        """Tracks appended records and starts a compaction when one is due."""
        if self.appended(partition, records):
            task = asyncio.get_running_loop().create_task(self.compact(partition))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def loaded(self, partition: int, latest: dict[bytes, bytes | None]) -> None:
        self.live[partition] = {k: v for k, v in latest.items() if v is not None}

    def appended(self, partition: int, records: list[Record]) -> bool:
        """Tracks the records; True when the partition is worth compacting."""
        live = self.live.setdefault(partition, {})
        for key, value in records:
            if value is None:
                live.pop(key, None)
            else:
                live[key] = value
        if partition in self._running:
            return False
        start, end = self.store.offsets(partition)
        span = end - start
        return span >= self.min_records and (span - len(live)) >= self.min_ratio * span

    async def compact(self, partition: int) -> None:
        if partition in self._running:
            return
        self._running.add(partition)
        try:
            start_before, snapshot_start = self.store.offsets(partition)
            live = self.live.get(partition, {})
            keys = list(live)
            for i in range(0, len(keys), CHUNK_RECORDS):
                chunk: list[Record] = [
                    (k, live[k]) for k in keys[i : i + CHUNK_RECORDS] if k in live
                ]
                if chunk:
                    self.store.append(partition, chunk)
                await asyncio.sleep(0)  # let requests in between chunks
            await self.store.delete_before(partition, snapshot_start)
            self.compactions += 1
            log.info(
                "compacted __consumer_offsets-%d: %d live records, start %d -> %d",
                partition,
                len(live),
                start_before,
                snapshot_start,
            )
        except Exception as e:  # the old records stay; the next append retries
            log.warning("compacting __consumer_offsets-%d failed: %s", partition, e)
        finally:
            self._running.discard(partition)
        # Commits made during the snapshot were not allowed to start another one; they
        # may have made the partition due again.
        self.maybe_start(partition, [])

    async def wait_idle(self) -> None:
        """Returns once no compaction is running or due (tests, shutdown checks)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
