"""`PostgresSink`: upsert rows into a PostgreSQL table, exactly-once through batch ids.

The same contract as `SqliteSink`: rows with equal key columns replace each other
(`INSERT ... ON CONFLICT (keys) DO UPDATE`), rows are appended when there are no key
columns, complete mode replaces the table's contents, and the id of the last written batch
is stored in `_pystream_batches` in the same transaction as the rows. A replayed batch
(id at or below the stored one) is skipped, so the table sees each batch exactly once.

The table is created on the first batch when it does not exist (types from the batch's
columns; the key columns become the primary key). Needs `psycopg` (version 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pystream.streams.batch import MicroBatch
from pystream.streams.sinks.base import Sink

_PG_TYPES = {
    "str": "TEXT",
    "bytes": "BYTEA",
    "bool": "BOOLEAN",
    "int8": "SMALLINT",
    "int16": "SMALLINT",
    "uint8": "SMALLINT",
    "int32": "INTEGER",
    "uint16": "INTEGER",
    "float32": "REAL",
    "float64": "DOUBLE PRECISION",
}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _qualified(table: str) -> str:
    return ".".join(_quote(part) for part in table.split("."))


class PostgresSink(Sink):
    def __init__(
        self,
        conninfo: str,
        table: str,
        key_columns: Sequence[str] = (),
        *,
        sink_id: str | None = None,
    ) -> None:
        self.conninfo, self.table, self.keys = conninfo, table, list(key_columns)
        self.sink_id = sink_id or table
        self._db: Any = None
        self._created = False

    def open(self, checkpoint: Path) -> None:
        try:
            import psycopg
        except ImportError as exc:  # an optional dependency
            raise RuntimeError("PostgresSink needs psycopg: pip install 'psycopg[binary]'") from exc
        self._db = psycopg.connect(self.conninfo)
        with self._db.transaction():
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS _pystream_batches "
                "(sink TEXT PRIMARY KEY, batch_id BIGINT NOT NULL)"
            )

    def _create(self, batch: MicroBatch) -> None:
        cols = [f"{_quote(n)} {_PG_TYPES.get(kind, 'BIGINT')}" for n, kind in batch.schema.items()]
        if self.keys:
            cols.append(f"PRIMARY KEY ({', '.join(map(_quote, self.keys))})")
        self._db.execute(f"CREATE TABLE IF NOT EXISTS {_qualified(self.table)} ({', '.join(cols)})")
        self._created = True

    def _insert_sql(self, names: list[str]) -> str:
        sql = (
            f"INSERT INTO {_qualified(self.table)} ({', '.join(map(_quote, names))}) "
            f"VALUES ({', '.join(['%s'] * len(names))})"
        )
        if self.keys:
            updates = ", ".join(
                f"{_quote(n)} = EXCLUDED.{_quote(n)}" for n in names if n not in self.keys
            )
            conflict = ", ".join(map(_quote, self.keys))
            sql += f" ON CONFLICT ({conflict}) DO " + (
                f"UPDATE SET {updates}" if updates else "NOTHING"
            )
        return sql

    def write(self, batch: MicroBatch, batch_id: int, mode: str) -> None:
        db = self._db
        assert db is not None, "sink used before open()"
        if not batch.columns:
            return
        missing = [k for k in self.keys if k not in batch]
        if missing:
            raise ValueError(f"key columns {missing} are not in the batch ({batch.names})")
        rows = [tuple(r.values()) for r in batch.to_pylist()]
        with db.transaction():
            done = db.execute(
                "SELECT batch_id FROM _pystream_batches WHERE sink = %s FOR UPDATE",
                (self.sink_id,),
            ).fetchone()
            if done is not None and batch_id <= done[0]:
                return
            if not self._created:
                self._create(batch)
            if mode == "complete":
                db.execute(f"DELETE FROM {_qualified(self.table)}")
            with db.cursor() as cur:
                cur.executemany(self._insert_sql(batch.names), rows)
            db.execute(
                "INSERT INTO _pystream_batches VALUES (%s, %s) "
                "ON CONFLICT (sink) DO UPDATE SET batch_id = EXCLUDED.batch_id",
                (self.sink_id, batch_id),
            )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
