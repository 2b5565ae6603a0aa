"""`SqliteSink`: upsert rows into a SQLite table, exactly-once through batch ids.

Rows with the same key replace each other (`INSERT ... ON CONFLICT DO UPDATE`), which is
what update and complete mode need; without key columns rows are appended. The id of the
last written batch is stored in `_pystream_batches` inside the same transaction as the rows,
and a batch id at or below it is skipped, so even appends are exactly-once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pystream.streams.batch import MicroBatch
from pystream.streams.sinks.base import Sink

_SQL_TYPES = {"str": "TEXT", "bytes": "BLOB", "bool": "INTEGER"}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class SqliteSink(Sink):
    def __init__(self, database: str, table: str, key_columns: Sequence[str] = ()) -> None:
        self.database, self.table, self.keys = database, table, list(key_columns)
        self._db: sqlite3.Connection | None = None
        self._created = False

    def open(self, checkpoint: Path) -> None:
        self._db = sqlite3.connect(self.database, isolation_level=None, check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS _pystream_batches (sink TEXT PRIMARY KEY, batch_id INTEGER)"
        )

    def _create(self, batch: MicroBatch) -> None:
        assert self._db is not None
        cols = []
        for name, kind in batch.schema.items():
            sql = _SQL_TYPES.get(kind) or ("REAL" if kind.startswith("f") else "INTEGER")
            cols.append(f"{_quote(name)} {sql}")
        if self.keys:
            cols.append(f"PRIMARY KEY ({', '.join(map(_quote, self.keys))})")
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {_quote(self.table)} ({', '.join(cols)})")
        self._created = True

    def write(self, batch: MicroBatch, batch_id: int, mode: str) -> None:
        db = self._db
        assert db is not None, "sink used before open()"
        if not batch.columns:
            return
        if not self._created:
            self._create(batch)
        names = batch.names
        placeholders = ", ".join("?" for _ in names)
        sql = f"INSERT INTO {_quote(self.table)} ({', '.join(map(_quote, names))}) VALUES ({placeholders})"
        if self.keys:
            updates = ", ".join(
                f"{_quote(n)} = excluded.{_quote(n)}" for n in names if n not in self.keys
            )
            conflict = ", ".join(map(_quote, self.keys))
            sql += f" ON CONFLICT ({conflict}) DO " + (
                f"UPDATE SET {updates}" if updates else "NOTHING"
            )
        rows: list[tuple[Any, ...]] = [tuple(r.values()) for r in batch.to_pylist()]
        db.execute("BEGIN IMMEDIATE")
        try:
            done = db.execute(
                "SELECT batch_id FROM _pystream_batches WHERE sink = ?", (self.table,)
            ).fetchone()
            if done is not None and batch_id <= done[0]:
                db.execute("ROLLBACK")
                return
            if mode == "complete":
                db.execute(f"DELETE FROM {_quote(self.table)}")
            db.executemany(sql, rows)
            db.execute(
                "INSERT INTO _pystream_batches VALUES (?, ?) ON CONFLICT (sink) DO UPDATE SET batch_id = excluded.batch_id",
                (self.table, batch_id),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
