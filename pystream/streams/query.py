"""Starting and controlling a streaming query: `DataStreamWriter` and `StreamingQuery`.

    query = (stream.write_stream.output_mode("update").trigger(Trigger.available_now())
             .checkpoint("/tmp/cp").sink(FileSink("/tmp/out")).start())
    query.await_termination()

`start()` runs the query on a background thread (as Spark does); `run()` runs it in the
calling thread and raises the query's error directly. Without a checkpoint location the
query checkpoints to a temporary directory that is removed when it stops, which gives no
recovery across restarts.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pystream.streams.checkpoint import CheckpointDir
from pystream.streams.execution import FailPoint, MicroBatchExecution, Progress
from pystream.streams.plan import Node, OutputMode
from pystream.streams.sinks.base import Sink
from pystream.streams.triggers import Trigger

if TYPE_CHECKING:
    from collections.abc import Callable

    from pystream.streams.batch import MicroBatch


class StreamingQueryException(RuntimeError):
    """The query stopped because a batch failed; the cause is chained."""


class StreamingQuery:
    def __init__(
        self, execution: MicroBatchExecution, temp_dir: str | None, name: str | None
    ) -> None:
        self._execution, self._temp_dir, self.name = execution, temp_dir, name
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()

    @property
    def id(self) -> str:
        query_id: str = self._execution.checkpoint.query_id
        return query_id

    def _run(self) -> None:
        sink = self._execution.sink
        try:
            sink.open(self._execution.checkpoint.path)
            for source in self._execution.sources.values():
                open_source = getattr(source, "open", None)  # e.g. the file source's file log
                if open_source is not None:
                    open_source(self._execution.checkpoint.path)
            self._execution.run()
        except BaseException as exc:
            self._error = exc
        finally:
            try:
                sink.close()
            finally:
                for source in self._execution.sources.values():
                    try:
                        source.close()
                    except Exception:  # closing must not hide the query's own error
                        pass
                if self._temp_dir is not None:
                    shutil.rmtree(self._temp_dir, ignore_errors=True)
                self._done.set()

    def start(self) -> StreamingQuery:
        self._thread = threading.Thread(
            target=self._run, name=f"stream-{self.name or 'query'}", daemon=True
        )
        self._thread.start()
        return self

    def run(self) -> StreamingQuery:
        self._run()
        if self._error is not None:
            raise self._error
        return self

    def await_termination(self, timeout: float | None = None) -> bool:
        finished = self._done.wait(timeout)
        if finished and self._error is not None:
            raise StreamingQueryException(f"query failed: {self._error}") from self._error
        return finished

    def stop(self, timeout: float | None = 30.0) -> None:
        self._execution.stop_requested = True
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def is_active(self) -> bool:
        return self._thread is not None and not self._done.is_set()

    def exception(self) -> BaseException | None:
        return self._error

    @property
    def recent_progress(self) -> list[Progress]:
        return list(self._execution.progress)

    @property
    def last_progress(self) -> Progress | None:
        return self._execution.progress[-1] if self._execution.progress else None


class DataStreamWriter:
    def __init__(self, plan: Node) -> None:
        self._plan = plan
        self._mode = OutputMode.APPEND
        self._trigger = Trigger.processing_time(0)
        self._checkpoint: str | None = None
        self._sink: Sink | None = None
        self._name: str | None = None
        self._starting: dict[str, Any] = {}
        self._fail_point: FailPoint | None = None
        self._retain = 10
        self._workers = 1

    def output_mode(self, mode: str) -> DataStreamWriter:
        if mode not in OutputMode.ALL:
            raise ValueError(f"output mode must be one of {OutputMode.ALL}, not {mode!r}")
        self._mode = mode
        return self

    def trigger(self, trigger: Trigger) -> DataStreamWriter:
        self._trigger = trigger
        return self

    def checkpoint(self, path: str | Path) -> DataStreamWriter:
        self._checkpoint = str(path)
        return self

    def sink(self, sink: Sink) -> DataStreamWriter:
        self._sink = sink
        return self

    def foreach_batch(self, fn: Callable[[MicroBatch, int], None]) -> DataStreamWriter:
        from pystream.streams.sinks.foreach import ForeachBatchSink

        return self.sink(ForeachBatchSink(fn))

    def query_name(self, name: str) -> DataStreamWriter:
        self._name = name
        return self

    def starting_offsets(self, source_name: str, spec: Any) -> DataStreamWriter:
        """'earliest' (default), 'latest', {'timestamp': ms} or {partition: offset}."""
        self._starting[source_name] = spec
        return self

    def retain_batches(self, n: int) -> DataStreamWriter:
        if n < 2:
            raise ValueError("keep at least 2 batches of logs and state")
        self._retain = n
        return self

    def workers(self, n: int) -> DataStreamWriter:
        """Run batches on `n` worker processes (forked; POSIX only). Each worker reads a
        contiguous share of the source partitions and owns the state of the keys that hash
        to it; a restarted query must use the same `n` (the checkpoint records it)."""
        if n < 1:
            raise ValueError("workers must be >= 1")
        self._workers = n
        return self

    def _fail_at(self, fail_point: FailPoint) -> DataStreamWriter:
        """Testing hook: called at each step of each batch; raise to simulate a crash."""
        self._fail_point = fail_point
        return self

    def _build(self) -> StreamingQuery:
        if self._sink is None:
            raise ValueError("no sink: call .sink(...) or .foreach_batch(...) before start()")
        temp = None
        location = self._checkpoint
        if location is None:
            temp = location = tempfile.mkdtemp(prefix="pystream-checkpoint-")
        args = (self._plan, self._sink, self._mode, self._trigger, CheckpointDir(location))
        options: dict[str, Any] = {
            "starting_offsets": self._starting,
            "retain_batches": self._retain,
            "fail_point": self._fail_point,
        }
        execution: MicroBatchExecution
        if self._workers > 1:
            from pystream.streams.parallel.execution import ParallelExecution

            execution = ParallelExecution(*args, workers=self._workers, **options)
        else:
            execution = MicroBatchExecution(*args, **options)
        return StreamingQuery(execution, temp, self._name)

    def start(self) -> StreamingQuery:
        return self._build().start()

    def run(self) -> StreamingQuery:
        """Run in the calling thread until the trigger stops the query (or it fails)."""
        return self._build().run()
