"""Micro-batch execution: the loop that plans, runs, checkpoints and commits batches.

One batch, in order (Spark's protocol):
  1. pick the end offsets (available now, capped) and the watermark; write offsets/<id>;
  2. read the source ranges and run the plan;
  3. write the output to the sink, and late rows to late-data sinks, tagged with the id;
  4. snapshot the state of every stateful operator as version <id>;
  5. write commits/<id> with the watermark for the next batch.
On start, the last offsets entry without a commit is run again with the same offsets, the
same watermark and the state of the batch before it, so sinks that are idempotent per batch
id see exactly the output of a run without failure.

A watermark that moves past open windows triggers a batch without new data, so results are
not held back until the next record arrives. A bounded source that has been read to the end
gets one last batch with the watermark at +infinity, which closes every window (Flink's end
of input); the offsets log records it, so replays do the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pystream.streams.batch import MicroBatch
from pystream.streams.checkpoint import CheckpointDir, CheckpointError
from pystream.streams.plan import (
    FINAL_WATERMARK,
    NO_WATERMARK,
    BatchContext,
    Node,
    OutputMode,
    SourceNode,
    WatermarkNode,
)
from pystream.streams.sinks.base import Sink
from pystream.streams.sources.base import (
    Offsets,
    Source,
    cap_offsets,
    decode_offsets,
    encode_offsets,
    total_records,
)
from pystream.streams.triggers import Trigger

FailPoint = Callable[[str, int], None]


@dataclass
class BatchPlan:
    batch_id: int
    start: dict[str, Offsets]
    end: dict[str, Offsets]
    watermark: int
    final: bool = False

    def to_entry(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "start": {s: encode_offsets(o) for s, o in self.start.items()},
            "end": {s: encode_offsets(o) for s, o in self.end.items()},
            "watermark_ms": self.watermark,
            "final": self.final,
        }

    @classmethod
    def from_entry(cls, entry: dict[str, Any]) -> BatchPlan:
        return cls(
            entry["batch_id"],
            {s: decode_offsets(o) for s, o in entry["start"].items()},
            {s: decode_offsets(o) for s, o in entry["end"].items()},
            int(entry["watermark_ms"]),
            bool(entry.get("final", False)),
        )


@dataclass
class BatchOutput:
    num_input_rows: int
    result: MicroBatch
    late_rows: dict[int, list[MicroBatch]]
    metrics: dict[str, int]
    event_time_max: dict[int, int]


def run_nodes(
    nodes: list[Node], ctx: BatchContext, outputs: dict[int, MicroBatch] | None = None
) -> dict[int, MicroBatch]:
    """Run `nodes` (inputs before users) on one batch; `outputs` may hold inputs already."""
    outputs = {} if outputs is None else outputs
    for node in nodes:
        inputs = [outputs[child.node_id] for child in node.inputs]
        if not node.stateful and inputs and all(not b.columns for b in inputs):
            outputs[node.node_id] = MicroBatch({})
            continue
        outputs[node.node_id] = node.process(inputs, ctx)
    return outputs


@dataclass
class Progress:
    batch_id: int
    num_input_rows: int
    num_output_rows: int
    watermark_ms: int
    duration_ms: float
    metrics: dict[str, int] = field(default_factory=dict)


class MicroBatchExecution:
    def __init__(
        self,
        plan: Node,
        sink: Sink,
        output_mode: str,
        trigger: Trigger,
        checkpoint: CheckpointDir,
        starting_offsets: dict[str, Any] | None = None,
        retain_batches: int = 10,
        fail_point: FailPoint | None = None,
        poll_interval_s: float = 0.01,
    ) -> None:
        if output_mode not in OutputMode.ALL:
            raise ValueError(f"output mode must be one of {OutputMode.ALL}")
        self.plan, self.sink, self.output_mode, self.trigger = plan, sink, output_mode, trigger
        self.checkpoint, self.retain_batches = checkpoint, retain_batches
        self.fail_point, self.poll_interval_s = fail_point, poll_interval_s
        self.starting_offsets = starting_offsets or {}
        self.nodes = list(plan.walk())
        for i, node in enumerate(self.nodes):
            node.node_id = i
        self.sources: dict[str, Source] = {}
        for node in self.nodes:
            if isinstance(node, SourceNode):
                known = self.sources.setdefault(node.source.name, node.source)
                if known is not node.source:
                    raise ValueError(f"two different sources are named {node.source.name!r}")
        self.stateful = [n for n in self.nodes if n.stateful]
        self.watermarks = [n for n in self.nodes if isinstance(n, WatermarkNode)]
        if output_mode == OutputMode.COMPLETE and not self.stateful:
            raise ValueError("complete output mode needs an aggregation in the query")
        for node in self.nodes:
            node.check_output_mode(output_mode)
        self.progress: list[Progress] = []
        self.stop_requested = False
        self._last_end: dict[str, Offsets] = {}
        self._watermark = NO_WATERMARK  # in force for the next batch
        self._applied_watermark = NO_WATERMARK  # the last batch ran with this one
        self._event_time_max: dict[int, int] = {}
        self._next_id = 0
        self._finished_input = False

    # ---- recovery -----------------------------------------------------------------------
    def recover(self) -> BatchPlan | None:
        """Restore offsets, watermark and state; return a logged batch that must run again."""
        last_offsets = self.checkpoint.offsets.latest()
        last_commit = self.checkpoint.commits.latest()
        self._reset_state()  # a plan reused from an earlier query must not keep its state
        if last_offsets is None:
            self._last_end = {
                name: src.resolve_starting_offsets(self.starting_offsets.get(name))
                for name, src in self.sources.items()
            }
            return None
        committed_id = last_commit[0] if last_commit else -1
        if committed_id >= 0:
            assert last_commit is not None
            self._restore_committed(committed_id, last_commit[1])
        pending_id = last_offsets[0]
        if pending_id == committed_id:
            done = BatchPlan.from_entry(last_offsets[1])
            self._last_end = done.end
            self._applied_watermark = done.watermark
            self._finished_input = done.final
            self._next_id = committed_id + 1
            return None
        if pending_id != committed_id + 1:
            raise CheckpointError(
                f"offsets log ends at batch {pending_id} but commits end at {committed_id}"
            )
        rerun = BatchPlan.from_entry(last_offsets[1])
        self._last_end = rerun.start
        self._next_id = pending_id
        return rerun

    def _reset_state(self) -> None:
        for node in self.stateful:
            node.restore({})

    def _restore_committed(self, batch_id: int, commit: dict[str, Any]) -> None:
        self._watermark = int(commit["next_watermark_ms"])
        self._event_time_max = {int(k): int(v) for k, v in commit.get("event_time_max", {}).items()}
        for node in self.stateful:
            node.restore(self.checkpoint.load_state(node.node_id, batch_id))

    # ---- planning -----------------------------------------------------------------------
    def _next_plan(self, limit: dict[str, Offsets] | None) -> BatchPlan | None:
        if self._finished_input:
            return None
        start = self._last_end
        end: dict[str, Offsets] = {}
        for name, src in self.sources.items():
            latest = limit[name] if limit is not None else src.latest_offsets()
            cap = None if self.trigger.kind == "once" else src.max_records_per_trigger
            end[name] = cap_offsets(start.get(name, {}), latest, cap)
        has_data = any(total_records(start.get(n, {}), e) > 0 for n, e in end.items())
        plan = BatchPlan(self._next_id, start, end, self._watermark)
        if has_data:
            return plan
        if self.stateful and self._watermark > self._applied_watermark:
            return plan  # no new data, but the watermark moved: emit and evict
        if self._inputs_exhausted(end):
            if self.stateful and self.watermarks:
                plan.watermark, plan.final = FINAL_WATERMARK, True
                return plan
            self._finished_input = True
        return None

    def _inputs_exhausted(self, end: dict[str, Offsets]) -> bool:
        for name, src in self.sources.items():
            if not src.bounded or end[name] != src.latest_offsets():
                return False
        return True

    @property
    def _pending_watermark(self) -> int:
        if not self.watermarks:
            return self._watermark
        candidates = []
        for node in self.watermarks:
            seen = self._event_time_max.get(node.node_id)
            if seen is not None:
                candidates.append(seen - node.delay)
        if not candidates:
            return self._watermark
        return max(self._watermark, min(candidates))  # Spark's default multi-watermark policy

    # ---- running ------------------------------------------------------------------------
    def _fail(self, point: str, batch_id: int) -> None:
        if self.fail_point is not None:
            self.fail_point(point, batch_id)

    def execute(self, plan: BatchPlan) -> BatchOutput:
        """Read the batch's source ranges and run the plan (in this process)."""
        batches = {
            name: src.read(plan.start.get(name, {}), plan.end[name])
            for name, src in self.sources.items()
        }
        ctx = BatchContext(plan.batch_id, plan.watermark, self.output_mode, batches)
        ctx.event_time_max = dict(self._event_time_max)
        outputs = run_nodes(self.nodes, ctx)
        return BatchOutput(
            sum(b.num_rows for b in batches.values()),
            outputs[self.plan.node_id],
            ctx.late_rows,
            ctx.metrics,
            ctx.event_time_max,
        )

    def save_state(self, batch_id: int) -> None:
        for node in self.stateful:
            self.checkpoint.save_state(node.node_id, batch_id, node.snapshot())

    def run_batch(self, plan: BatchPlan, logged: bool = False) -> Progress:
        began = time.perf_counter()
        if not logged:
            self.checkpoint.offsets.write(plan.batch_id, plan.to_entry())
        self._fail("after_offsets", plan.batch_id)
        out = self.execute(plan)
        result = out.result
        if result.columns and (result.num_rows or self.output_mode == OutputMode.COMPLETE):
            self.sink.write(result, plan.batch_id, self.output_mode)
        for wm_node in self.watermarks:
            late = out.late_rows.get(wm_node.node_id)
            if late and wm_node.late_sink is not None:
                wm_node.late_sink.write(MicroBatch.concat(late), plan.batch_id, OutputMode.APPEND)
        self._fail("after_sink", plan.batch_id)
        self.save_state(plan.batch_id)
        self._fail("after_state", plan.batch_id)
        self._event_time_max = out.event_time_max
        self._watermark = plan.watermark
        self._applied_watermark = plan.watermark
        next_wm = max(self._pending_watermark, plan.watermark)
        self.checkpoint.commits.write(
            plan.batch_id,
            {
                "next_watermark_ms": next_wm,
                "event_time_max": {str(k): v for k, v in self._event_time_max.items()},
            },
        )
        self._fail("after_commit", plan.batch_id)
        self._watermark = next_wm
        self._last_end = plan.end
        self._next_id = plan.batch_id + 1
        self._finished_input = plan.final
        self._commit_sources(plan)
        self._purge(plan.batch_id)
        progress = Progress(
            plan.batch_id,
            out.num_input_rows,
            result.num_rows,
            plan.watermark,
            (time.perf_counter() - began) * 1000,
            out.metrics,
        )
        self.progress.append(progress)
        del self.progress[:-100]
        return progress

    def _commit_sources(self, plan: BatchPlan) -> None:
        """Tell the sources a batch committed (Kafka sources commit to their group)."""
        for name, src in self.sources.items():
            src.commit(plan.end[name])

    def _purge(self, batch_id: int) -> None:
        keep_from = batch_id - self.retain_batches + 1
        if keep_from <= 0:
            return
        self.checkpoint.offsets.purge_before(keep_from)
        self.checkpoint.commits.purge_before(keep_from)
        for node in self.stateful:
            self.checkpoint.purge_state_before(node.node_id, keep_from)

    def run(self) -> None:
        """Run batches until the trigger says stop or `stop_requested` is set."""
        rerun = self.recover()
        if rerun is not None:
            self.run_batch(rerun, logged=True)
        limit = None
        if self.trigger.kind == "available_now":
            limit = {name: src.latest_offsets() for name, src in self.sources.items()}
        if self.trigger.kind == "once":
            plan = self._next_plan(None)
            if plan is not None:
                self.run_batch(plan)
            limit = {name: dict(self._last_end[name]) for name in self.sources}
        interval = self.trigger.interval_ms / 1000
        while not self.stop_requested:
            began = time.monotonic()
            plan = self._next_plan(limit)
            if plan is not None:
                self.run_batch(plan)
            elif self.trigger.stops_when_caught_up or self._finished_input:
                return
            wait = interval - (time.monotonic() - began) if interval else 0.0
            if plan is None:
                wait = max(wait, self.poll_interval_s)
            if wait > 0:
                time.sleep(wait)
