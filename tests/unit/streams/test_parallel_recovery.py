"""A worker killed with SIGKILL mid-batch is replaced and the batch runs again: the sink
gets the output of a run without failure."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pystream.streams import FileSink, GeneratorSource, MicroBatch, Stream, Trigger
from pystream.streams import functions as F
from pystream.streams.parallel.workers import WorkerLost

SCHEMA = {"ts": "int64", "k": "int64", "v": "int64"}


def events(p: int, start: int, end: int) -> MicroBatch:
    i = np.arange(start, end, dtype=np.int64) * 2 + p
    return MicroBatch({"ts": i * 5 + (i * 7919) % 2_000, "k": (i * 40_503) % 17, "v": i % 9})


def kill_once(
    marker: Path, when: Callable[[MicroBatch], bool]
) -> Callable[[MicroBatch], MicroBatch]:
    """A batch function that SIGKILLs the worker running it, the first time `when` holds."""
    driver = os.getpid()

    def fn(batch: MicroBatch) -> MicroBatch:
        if os.getpid() != driver and batch.num_rows and when(batch):
            try:
                fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return batch
            os.close(fd)
            os.kill(os.getpid(), signal.SIGKILL)
        return batch

    return fn


def query(
    before: Callable[[MicroBatch], MicroBatch], after: Callable[[MicroBatch], MicroBatch]
) -> Stream:
    src = GeneratorSource(events, SCHEMA, partitions=4, total=8_000, max_records_per_trigger=1_000)
    return (
        Stream.from_source(src)
        .map_batches(before)
        .with_watermark("ts", "1 second")
        .group_by(F.window("ts", "2 seconds"), "k")
        .agg(F.count().alias("n"), F.sum("v").alias("s"))
        .map_batches(after)
    )


def run(stream: Stream, out: Path, cp: Path, workers: int = 2) -> list[str]:
    stream.write_stream.output_mode("append").trigger(Trigger.available_now()).workers(
        workers
    ).checkpoint(cp).sink(FileSink(out)).run()
    return sorted(line for f in sorted(out.iterdir()) for line in f.read_text().splitlines())


def same(batch: MicroBatch) -> MicroBatch:
    return batch


@pytest.mark.parametrize("stage", ["map", "reduce"])
def test_a_killed_worker_is_replaced_and_the_batch_rerun(tmp_path: Path, stage: str) -> None:
    want = run(query(same, same), tmp_path / "clean", tmp_path / "cp-clean")
    marker = tmp_path / "killed"
    # the map stage sees partition 3 only in worker 1; the reduce stage sees window 6000
    if stage == "map":
        killer = kill_once(marker, lambda b: int(np.asarray(b["ts"]).max()) > 6_000)
        got = run(query(killer, same), tmp_path / "out", tmp_path / "cp")
    else:
        killer = kill_once(marker, lambda b: 6_000 in np.asarray(b["window_start"]).tolist())
        got = run(query(same, killer), tmp_path / "out", tmp_path / "cp")
    assert marker.exists()  # a worker really was killed
    assert want and got == want
    # the replayed batch's state was restored on every worker: no batch was skipped
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in (tmp_path / "clean").iterdir()
    )


def test_a_worker_that_keeps_dying_fails_the_query(tmp_path: Path) -> None:
    driver = os.getpid()

    def always(batch: MicroBatch) -> MicroBatch:
        if os.getpid() != driver and batch.num_rows:
            os.kill(os.getpid(), signal.SIGKILL)
        return batch

    with pytest.raises(WorkerLost, match="died"):
        run(query(always, same), tmp_path / "out", tmp_path / "cp")


def test_worker_restart_after_the_driver_stops(tmp_path: Path) -> None:
    """The whole query crashes mid-stream (driver error after the sink): a restart with the
    same checkpoint and worker count gives the output of a run without failure."""
    want = run(query(same, same), tmp_path / "clean", tmp_path / "cp-clean")
    crashed: list[Any] = []

    def crash(point: str, batch_id: int) -> None:
        if point == "after_sink" and batch_id == 3 and not crashed:
            crashed.append(batch_id)
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        query(same, same).write_stream.output_mode("append").trigger(
            Trigger.available_now()
        ).workers(2).checkpoint(tmp_path / "cp").sink(FileSink(tmp_path / "out"))._fail_at(
            crash
        ).run()
    assert run(query(same, same), tmp_path / "out", tmp_path / "cp") == want


def test_worker_state_snapshots_keep_every_column_kind(tmp_path: Path) -> None:
    from pystream.streams.batch import BytesColumn, HeadersColumn
    from pystream.streams.checkpoint import CheckpointDir

    table = MicroBatch(
        {
            "k": np.array([1, 2, 3]),
            "name": BytesColumn.from_pylist(["a", None, "ccc"], text=True),
            "headers": HeadersColumn.from_pylist([[("h", b"1")], None, [("x", None), ("y", b"")]]),
        }
    )
    cp = CheckpointDir(tmp_path)
    cp.save_state(4, 7, {"rows": table}, partition=2)
    assert cp.load_state(4, 7, 2)["rows"].to_pylist() == table.to_pylist()
