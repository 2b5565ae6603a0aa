"""`KafkaSource`: a topic of any Kafka-compatible broker as a stream source (Spark's model).

Offsets live in the query's checkpoint (`offsets/<batch id>`, one entry per partition), not
in a consumer group: the runtime asks for the latest offsets (ListOffsets), caps the batch
(`max_records_per_trigger`, Spark's maxOffsetsPerTrigger), logs the range, then `read`
fetches exactly that range. Each Fetch answer's record bytes are decoded into columns by
one native call per partition chunk; no record becomes a Python object.

The partitions a batch reads are fixed by its logged range, so a replay after a crash reads
the same records. With `group_id`, committed batch ends are also committed to that consumer
group, for lag monitoring only (in one process: as an admin, so the group must have no
active members). On worker processes the workers join the group (`group_id`, or a group of
the query's own) and read the partitions it assigns them; see `streams.parallel.group`.

Reads are read_uncommitted: records of aborted transactions are included, control records
(transaction markers) are not. Records the range needs that retention already deleted fail
the query with `DataLossError`, unless `fail_on_data_loss=False`, which skips them.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from pystream.client.cluster import Cluster, KafkaError
from pystream.client.consumer import EARLIEST, LATEST, Consumer
from pystream.protocol.errors import ErrorCode
from pystream.streams.aio import EventLoopThread
from pystream.streams.batch import MicroBatch
from pystream.streams.sources.base import Offsets, Source
from pystream.streams.sources.kafka_fetch import fetch_raw
from pystream.streams.sources.records import (
    RECORD_SCHEMA,
    DataLossError,
    decode_range,
    empty_records,
    scan_batches,
)

log = logging.getLogger(__name__)

RETRIABLE = {
    ErrorCode.NOT_LEADER_OR_FOLLOWER,
    ErrorCode.LEADER_NOT_AVAILABLE,
    ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
    ErrorCode.REQUEST_TIMED_OUT,
    ErrorCode.NETWORK_EXCEPTION,
    ErrorCode.FENCED_LEADER_EPOCH,
    ErrorCode.UNKNOWN_LEADER_EPOCH,
}
MAX_PARTITION_FETCH_BYTES = 256 << 20  # a batch larger than this is refused, not chased


class KafkaSource(Source):
    readable_in_workers = True

    def __init__(
        self,
        bootstrap: str | list[str],
        topic: str,
        *,
        name: str | None = None,
        max_records_per_trigger: int | None = None,
        fail_on_data_loss: bool = True,
        group_id: str | None = None,
        fetch_max_bytes: int = 64 << 20,
        partition_fetch_bytes: int = 8 << 20,
        metadata_max_age_s: float = 5.0,
        request_timeout_s: float = 60.0,
        client_id: str = "pystream-streams",
    ) -> None:
        self.bootstrap, self.topic = bootstrap, topic
        self.name = name or f"kafka:{topic}"
        self.schema = dict(RECORD_SCHEMA)
        self.max_records_per_trigger = max_records_per_trigger
        self.fail_on_data_loss, self.group_id = fail_on_data_loss, group_id
        self.fetch_max_bytes, self.partition_fetch_bytes = fetch_max_bytes, partition_fetch_bytes
        self.metadata_max_age_s, self.request_timeout_s = metadata_max_age_s, request_timeout_s
        self.client_id = client_id
        self._io = EventLoopThread(f"kafka-source-{topic}")
        self._cluster: Cluster | None = None
        self._cluster_pid = -1
        self._metadata_at = 0.0

    # ---- plumbing -----------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_io"], state["_cluster"], state["_cluster_pid"] = None, None, -1
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._io = EventLoopThread(f"kafka-source-{self.topic}")

    def _run(self, coro: Any) -> Any:
        return self._io.run(coro, self.request_timeout_s)

    async def _cluster_now(self) -> Cluster:
        if self._cluster is None or self._cluster_pid != os.getpid():
            self._cluster = Cluster(self.bootstrap, self.client_id)
            self._cluster_pid = os.getpid()
            self._metadata_at = 0.0
        if time.monotonic() - self._metadata_at > self.metadata_max_age_s:
            await self._cluster.refresh([self.topic])
            self._metadata_at = time.monotonic()
        return self._cluster

    async def _partitions(self) -> list[int]:
        cluster = await self._cluster_now()
        return sorted((await cluster.topic(self.topic)).partitions)

    async def _list(self, timestamp: int, partitions: list[int] | None = None) -> Offsets:
        cluster = await self._cluster_now()
        parts = await self._partitions() if partitions is None else partitions
        for attempt in range(5):
            try:
                return await Consumer(cluster).list_offsets(self.topic, parts, timestamp)
            except KafkaError as e:
                if e.code not in RETRIABLE or attempt == 4:
                    raise
                await self._backoff(cluster, attempt)
        raise AssertionError("unreachable")

    async def _backoff(self, cluster: Cluster, attempt: int) -> None:
        await asyncio.sleep(0.1 * (attempt + 1))
        await cluster.refresh([self.topic])
        self._metadata_at = time.monotonic()

    # ---- Source -------------------------------------------------------------------------
    def initial_offsets(self) -> Offsets:
        return dict(self._run(self._list(EARLIEST)))

    def latest_offsets(self) -> Offsets:
        return dict(self._run(self._list(LATEST)))

    def offsets_for_timestamp(self, timestamp_ms: int) -> Offsets:
        async def lookup() -> Offsets:
            found = await self._list(timestamp_ms)
            ends = await self._list(LATEST, sorted(found))
            return {p: off if off >= 0 else ends[p] for p, off in found.items()}

        return dict(self._run(lookup()))

    def read(self, start: Offsets, end: Offsets) -> MicroBatch:
        wanted = {p: (start.get(p, 0), hi) for p, hi in end.items() if hi > start.get(p, 0)}
        if not wanted:
            return empty_records()
        pieces = self._run(self._read(wanted))
        parts = [b for p in sorted(pieces) for b in pieces[p]]
        return MicroBatch.concat(parts) if parts else empty_records()

    async def _read(self, wanted: dict[int, tuple[int, int]]) -> dict[int, list[MicroBatch]]:
        cluster = await self._cluster_now()
        pieces: dict[int, list[MicroBatch]] = {p: [] for p in wanted}
        max_bytes = dict.fromkeys(wanted, self.partition_fetch_bytes)
        failures = 0
        while wanted:
            positions = {p: lo for p, (lo, _) in wanted.items()}
            fetched = await fetch_raw(
                cluster,
                self.topic,
                positions,
                max_bytes=self.fetch_max_bytes,
                partition_max_bytes=max(max_bytes.values()),
            )
            retry = False
            for p, fp in fetched.items():
                if p not in wanted:
                    continue
                lo, hi = wanted[p]
                if fp.error_code == ErrorCode.OFFSET_OUT_OF_RANGE:
                    wanted.update(await self._data_lost(p, lo, hi))
                    wanted = {q: r for q, r in wanted.items() if r[0] < r[1]}
                    continue
                if fp.error_code in RETRIABLE:
                    retry = True
                    continue
                if fp.error_code:
                    raise KafkaError(fp.error_code, context=f"fetch {self.topic}-{p}")
                records = fp.records
                if not records:
                    if fp.high_watermark <= lo:
                        # the log ends before the logged range: truncated under us
                        wanted.update(await self._data_lost(p, lo, hi, fp.high_watermark))
                        wanted = {q: r for q, r in wanted.items() if r[0] < r[1]}
                    else:
                        retry = True
                    continue
                chunk = scan_batches(records, lo, hi)
                if chunk.complete_bytes == 0:
                    # one batch larger than the fetch size: ask for more, within reason
                    if max_bytes[p] >= MAX_PARTITION_FETCH_BYTES:
                        raise KafkaError(
                            ErrorCode.MESSAGE_TOO_LARGE,
                            context=f"{self.topic}-{p} at offset {lo}: batch above "
                            f"{MAX_PARTITION_FETCH_BYTES} bytes",
                        )
                    max_bytes[p] *= 2
                    continue
                if chunk.stop > chunk.start:
                    view = memoryview(records)[chunk.start : chunk.stop]
                    pieces[p].append(decode_range(view, self.topic, p, lo, hi))
                nxt = chunk.next_offset
                if nxt <= lo:
                    retry = True  # nothing at or after the position came back
                elif nxt >= hi:
                    del wanted[p]
                else:
                    wanted[p] = (nxt, hi)
            if retry:
                failures += 1
                if failures > 20:
                    raise KafkaError(
                        ErrorCode.REQUEST_TIMED_OUT,
                        context=f"fetch {self.topic}: no progress after {failures} attempts",
                    )
                await self._backoff(cluster, min(failures, 5))
        return pieces

    async def _data_lost(
        self, p: int, lo: int, hi: int, log_end: int | None = None
    ) -> dict[int, tuple[int, int]]:
        start = (await self._list(EARLIEST, [p]))[p]
        what = (
            f"{self.topic}-{p}: offsets {lo}..{hi - 1} are needed but the log now holds "
            f"{start}..{(log_end if log_end is not None else '?')}"
        )
        if self.fail_on_data_loss:
            raise DataLossError(what + " (set fail_on_data_loss=False to skip lost records)")
        log.warning("skipping lost records: %s", what)
        if log_end is not None and log_end <= lo:
            return {p: (hi, hi)}
        return {p: (max(start, lo), hi)}

    def commit(self, end: Offsets) -> None:
        if self.group_id is None:
            return
        from pystream.client.group import GroupAdmin

        async def commit() -> None:
            cluster = await self._cluster_now()
            offsets = {(self.topic, p): off for p, off in end.items()}
            await GroupAdmin(cluster).commit_offsets(self.group_id or "", offsets)

        try:
            self._run(commit())
        except Exception as e:  # informational only: the checkpoint holds the real offsets
            log.warning("committing offsets to group %r failed: %s", self.group_id, e)

    def close(self) -> None:
        cluster = self._cluster
        if cluster is not None and self._cluster_pid == os.getpid():
            try:
                self._run(cluster.close())
            except Exception:
                log.debug("closing the source's connections failed", exc_info=True)
        self._cluster = None
        self._io.close()
