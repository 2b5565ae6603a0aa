"""The `Sink` interface: one `write` per micro-batch, tagged with the batch id.

A batch that ran but did not commit runs again after a restart with the same id and the same
rows. A sink is exactly-once when writing the same batch id twice has the effect of writing
it once: the file sinks replace the batch's own file, the SQLite sink records the last
batch id in the same transaction as the rows, the memory sink keys batches by id.
`foreach_batch` hands the id to user code, which must do the same to stay exactly-once.
"""

from __future__ import annotations

from pathlib import Path

from pystream.streams.batch import MicroBatch


class Sink:
    def open(self, checkpoint: Path) -> None:
        """Called once when a query starts, with its checkpoint directory."""

    def write(self, batch: MicroBatch, batch_id: int, mode: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Called once when the query stops, whether or not it failed."""
