"""`LogManager`: every partition log under one data directory.

Owns the data dir layout (Kafka's): `<topic>-<partition>/` per partition,
`recovery-point-offset-checkpoint` and `log-start-offset-checkpoint` beside
them, topic config overrides in `topic-configs/`, and a `.lock` so two
processes never share a dir. On start it removes partitions left half
deleted (`*-delete`) and loads every partition in parallel (native recovery
runs without the GIL), logging what recovery dropped. It creates, finds and
deletes partitions, keeps topic configs, and runs retention, `flush.ms`
flushing and checkpointing, either when the caller's loop calls
`maintenance()` or from a background thread (`start_background`).

Thread-safe: a lock guards the partition map; log I/O runs outside it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from pystream import _native
from pystream.storage.config import LogConfig
from pystream.storage.partition import PartitionLog
from pystream.storage.topic_configs import DIR_NAME as TOPIC_CONFIGS_DIR
from pystream.storage.topic_configs import TopicConfigStore

log = logging.getLogger(__name__)

RECOVERY_POINT_FILE = "recovery-point-offset-checkpoint"
LOG_START_OFFSET_FILE = "log-start-offset-checkpoint"
LOCK_FILE = ".lock"
# Used with fullmatch: `$` would let a trailing newline in.
_PARTITION_DIR = re.compile(r"(?P<topic>[a-zA-Z0-9._-]+)-(?P<partition>0|[1-9][0-9]{0,9})")
_DELETE_DIR = re.compile(r"^.+\.[0-9a-f]{32}-delete$")

TopicPartition = tuple[str, int]


def parse_partition_dir(name: str) -> TopicPartition | None:
    """`("my-topic", 3)` for `my-topic-3`; None for anything else."""
    m = _PARTITION_DIR.fullmatch(name)
    return (m["topic"], int(m["partition"])) if m else None


class LogManager:
    """The partition logs of `data_dir`, with `defaults` (Kafka topic config
    names) as every topic's base config."""

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        defaults: Mapping[str, Any] | LogConfig | None = None,
        *,
        recovery_threads: int | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_fd = self._lock_data_dir()
        if isinstance(defaults, LogConfig):
            self.defaults = defaults
        else:
            self.defaults = LogConfig.from_dict(defaults or {})
        self._store = TopicConfigStore(self.data_dir)
        self._overrides: dict[str, dict[str, str]] = self._store.load_all()
        self._logs: dict[TopicPartition, PartitionLog] = {}
        self._lock = threading.RLock()
        self._closed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.recovery_reports: dict[TopicPartition, _native.RecoveryReport] = {}
        self._load(recovery_threads or min(8, os.cpu_count() or 1))

    # ---- start-up ----
    def _lock_data_dir(self) -> int:
        fd = os.open(self.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise _native.StorageError(
                f"data dir {self.data_dir} is in use by another log manager"
            ) from None
        return fd

    def _read_checkpoint(self, name: str) -> dict[TopicPartition, int]:
        try:
            entries = _native.read_offset_checkpoint(str(self.data_dir / name))
        except _native.StorageError as e:
            # Kafka's choice too: start from 0, i.e. re-validate everything.
            log.warning("%s; recovering every partition from offset 0", e)
            return {}
        return {(t, p): o for t, p, o in entries}

    def _load(self, threads: int) -> None:
        recovery_points = self._read_checkpoint(RECOVERY_POINT_FILE)
        start_offsets = self._read_checkpoint(LOG_START_OFFSET_FILE)
        found: list[tuple[TopicPartition, Path]] = []
        for entry in sorted(self.data_dir.iterdir()):
            if not entry.is_dir() or entry.name == TOPIC_CONFIGS_DIR:
                continue
            if _DELETE_DIR.match(entry.name):
                log.info("removing partially deleted partition dir %s", entry)
                shutil.rmtree(entry, ignore_errors=True)
                continue
            tp = parse_partition_dir(entry.name)
            if tp is None:
                log.warning("ignoring %s: not a <topic>-<partition> directory", entry)
                continue
            found.append((tp, entry))

        def open_one(item: tuple[TopicPartition, Path]) -> tuple[TopicPartition, PartitionLog]:
            tp, path = item
            plog, report = PartitionLog.open(
                path,
                tp[0],
                tp[1],
                self.log_config(tp[0]),
                recovery_point=recovery_points.get(tp, 0),
                log_start_offset=start_offsets.get(tp, 0),
            )
            self.recovery_reports[tp] = report
            if not report.clean:
                log.warning("recovered %s-%d: %r", tp[0], tp[1], report)
            return tp, plog

        with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
            for tp, plog in pool.map(open_one, found):
                self._logs[tp] = plog
        if found:
            # Recovery flushed what it re-validated: record it at once.
            self.checkpoint()
            log.info("loaded %d partitions from %s", len(found), self.data_dir)

    # ---- partitions ----
    def partition_dir(self, topic: str, partition: int) -> Path:
        return self.data_dir / f"{topic}-{partition}"

    def partitions(self) -> list[TopicPartition]:
        with self._lock:
            return sorted(self._logs)

    def get(self, topic: str, partition: int) -> PartitionLog:
        """The open log of a partition; `KeyError` if it does not exist."""
        with self._lock:
            return self._logs[(topic, partition)]

    def find(self, topic: str, partition: int) -> PartitionLog | None:
        with self._lock:
            return self._logs.get((topic, partition))

    def create(self, topic: str, partition: int) -> PartitionLog:
        """Creates the partition's log (or returns the existing one)."""
        if parse_partition_dir(f"{topic}-{partition}") != (topic, partition):
            raise ValueError(f"illegal topic partition {topic!r} {partition!r}")
        with self._lock:
            self._check_open()
            existing = self._logs.get((topic, partition))
            if existing is not None:
                return existing
            plog, _ = PartitionLog.open(
                self.partition_dir(topic, partition), topic, partition, self.log_config(topic)
            )
            self._logs[(topic, partition)] = plog
            return plog

    def delete(self, topic: str, partition: int) -> None:
        """Closes the log, renames its dir to `<dir>.<uuid>-delete` (so a
        crash midway never leaves a live-looking partition) and removes it."""
        with self._lock:
            plog = self._logs.pop((topic, partition), None)
        if plog is None:
            return
        plog.close()
        src = self.partition_dir(topic, partition)
        doomed = src.with_name(f"{src.name}.{uuid.uuid4().hex}-delete")
        os.rename(src, doomed)
        shutil.rmtree(doomed)

    # ---- topic configs ----
    def log_config(self, topic: str) -> LogConfig:
        return LogConfig.from_dict(self._overrides.get(topic, {}), self.defaults)

    def topic_config(self, topic: str) -> dict[str, Any]:
        """The effective config of `topic` under Kafka's names."""
        return self.log_config(topic).to_dict()

    def topic_overrides(self, topic: str) -> dict[str, str]:
        return dict(self._overrides.get(topic, {}))

    def validate_topic_config(self, overrides: Mapping[str, Any]) -> None:
        """Raises `ValueError` naming the first invalid or unknown config."""
        LogConfig.from_dict(overrides, self.defaults)

    def set_topic_config(self, topic: str, overrides: Mapping[str, Any]) -> None:
        """Replaces the topic's overrides, persists them and applies them to
        its open partitions."""
        config = LogConfig.from_dict(overrides, self.defaults)
        as_text = {k: _text(v) for k, v in overrides.items()}
        with self._lock:
            self._store.save(topic, as_text)
            self._overrides[topic] = as_text
            logs = [p for (t, _), p in self._logs.items() if t == topic]
        for plog in logs:
            plog.update_config(config)

    def delete_topic_config(self, topic: str) -> None:
        with self._lock:
            self._overrides.pop(topic, None)
            self._store.delete(topic)

    # ---- maintenance ----
    def _snapshot(self) -> list[tuple[TopicPartition, PartitionLog]]:
        with self._lock:
            return list(self._logs.items())

    def enforce_retention(self, now_ms: int | None = None) -> dict[TopicPartition, int]:
        """One retention pass over every partition; bytes deleted per partition."""
        deleted = {}
        for tp, plog in self._snapshot():
            try:
                r = plog.enforce_retention(now_ms=now_ms)
            except _native.StorageError as e:
                if self.find(*tp) is plog:  # else deleted meanwhile
                    log.error("retention failed for %s-%d: %s", tp[0], tp[1], e)
                continue
            if r.deleted_segments:
                deleted[tp] = r.deleted_bytes
                log.info(
                    "retention deleted %d segments (%d bytes) of %s-%d; log start offset %d",
                    len(r.deleted_segments), r.deleted_bytes, tp[0], tp[1], r.log_start_offset,
                )  # fmt: skip
        return deleted

    def flush_dirty(self, now_ms: int | None = None) -> list[TopicPartition]:
        """Flushes every log whose last flush is older than its `flush.ms`."""
        now = now_ms if now_ms is not None else int(time.time() * 1000)
        flushed = []
        for tp, plog in self._snapshot():
            flush_ms = plog.log_config.flush_ms
            if flush_ms < 2**63 - 1 and now - plog.last_flush_ms >= flush_ms:
                try:
                    plog.flush()
                except _native.StorageError:
                    if self.find(*tp) is plog:
                        raise
                    continue
                flushed.append(tp)
        return flushed

    def checkpoint(self) -> None:
        """Writes the recovery points and log start offsets of every log."""
        logs = self._snapshot()
        rps = [(t, p, plog.recovery_point) for (t, p), plog in logs]
        starts = [(t, p, plog.log_start_offset) for (t, p), plog in logs]
        _native.write_offset_checkpoint(str(self.data_dir / RECOVERY_POINT_FILE), rps)
        _native.write_offset_checkpoint(str(self.data_dir / LOG_START_OFFSET_FILE), starts)

    def maintenance(self, now_ms: int | None = None) -> None:
        """Retention, `flush.ms` flushes and checkpoints, once. Blocking:
        from asyncio, run it in an executor."""
        self.enforce_retention(now_ms)
        self.flush_dirty(now_ms)
        self.checkpoint()

    def start_background(self, interval_s: float = 30.0) -> None:
        """Runs `maintenance()` every `interval_s` on a daemon thread."""
        if self._thread is not None:
            return

        def run() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.maintenance()
                except Exception:
                    log.exception("log maintenance failed")

        self._thread = threading.Thread(target=run, name="log-maintenance", daemon=True)
        self._thread.start()

    def _check_open(self) -> None:
        if self._closed:
            raise _native.StorageError(f"log manager of {self.data_dir} is closed")

    def close(self) -> None:
        """Stops maintenance, flushes and closes every log, writes the
        checkpoints (so the next start re-validates nothing) and unlocks."""
        if self._closed:
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        errors = []
        for tp, plog in self._snapshot():
            try:
                plog.close()
            except _native.StorageError as e:
                errors.append(e)
                log.error("closing %s-%d: %s", tp[0], tp[1], e)
        self.checkpoint()
        self._closed = True
        os.close(self._lock_fd)
        if errors:
            raise errors[0]

    def __enter__(self) -> LogManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)
