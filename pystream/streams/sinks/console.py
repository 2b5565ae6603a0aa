"""`ConsoleSink`: print each batch as a table (rich), truncated to `num_rows` rows."""

from __future__ import annotations

from typing import Any

import numpy as np

from pystream.streams.batch import MicroBatch
from pystream.streams.sinks.base import Sink


class ConsoleSink(Sink):
    def __init__(self, num_rows: int = 20, console: Any = None) -> None:
        self.num_rows = num_rows
        self._console = console

    def write(self, batch: MicroBatch, batch_id: int, mode: str) -> None:
        from rich.console import Console
        from rich.table import Table

        console = self._console or Console()
        table = Table(title=f"Batch: {batch_id} ({mode}, {batch.num_rows} rows)")
        for name in batch.names:
            table.add_column(name)
        shown = batch.take(np.arange(min(batch.num_rows, self.num_rows)))
        for row in shown.to_pylist():
            table.add_row(*(repr(v) if isinstance(v, bytes) else str(v) for v in row.values()))
        console.print(table)
        if batch.num_rows > self.num_rows:
            console.print(f"only showing the first {self.num_rows} rows")
