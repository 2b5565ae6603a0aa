"""PostgresSink against a real PostgreSQL server started for the test module.

Skips (with the reason) when psycopg is not installed or PostgreSQL's server binaries
(`initdb`, `pg_ctl`) are not on PATH; on Debian/Ubuntu `apt-get install postgresql`
provides them. As root, the server runs as the `postgres` user (initdb refuses root).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pystream.streams import MemorySource, MicroBatch, PostgresSink, Stream, Trigger
from pystream.streams import functions as F

psycopg = pytest.importorskip("psycopg", reason="PostgresSink tests need psycopg installed")


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (base / name).exists():
            return str(base / name)
    return None


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    run_as: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no postgres user to run the server")
        run_as = ["runuser", "-u", "postgres", "--"]
    root = Path(tempfile.mkdtemp(prefix="pystream-pg-"))
    data = root / "data"
    if run_as:
        shutil.chown(root, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run(
        [*run_as, initdb, "-D", str(data), "-U", "pystream", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*run_as, pg_ctl, "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"host=127.0.0.1 port={port} user=pystream dbname=postgres"
    finally:
        subprocess.run(
            [*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )
        shutil.rmtree(root, ignore_errors=True)


SCHEMA = {"k": "str", "n": "int64", "raw": "bytes", "x": "float64"}


def batch(*rows: tuple[str, int]) -> MicroBatch:
    return MicroBatch.from_pylist(
        [{"k": k, "n": n, "raw": k.encode(), "x": n / 2} for k, n in rows], SCHEMA
    )


def table(dsn: str, name: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as db:
        return [tuple(r) for r in db.execute(f'SELECT * FROM "{name}" ORDER BY 1, 2').fetchall()]


def test_upserts_and_skips_replayed_batches(postgres: str, tmp_path: Path) -> None:
    sink = PostgresSink(postgres, "counts", key_columns=["k"])
    sink.open(tmp_path)
    sink.write(batch(("a", 1), ("b", 1)), 0, "update")
    sink.write(batch(("a", 2)), 1, "update")
    sink.write(batch(("a", 99)), 1, "update")  # a replay of batch 1 changes nothing
    sink.close()
    assert table(postgres, "counts") == [("a", 2, b"a", 1.0), ("b", 1, b"b", 0.5)]


def test_appends_exactly_once_and_complete_mode_replaces(postgres: str, tmp_path: Path) -> None:
    sink = PostgresSink(postgres, "events")
    sink.open(tmp_path)
    for batch_id in (0, 0, 1):
        sink.write(batch(("x", batch_id)), batch_id, "append")
    sink.close()
    assert [r[1] for r in table(postgres, "events")] == [0, 1]
    full = PostgresSink(postgres, "snapshot", key_columns=["k"])
    full.open(tmp_path)
    full.write(batch(("a", 1), ("b", 2)), 0, "complete")
    full.write(batch(("c", 3)), 1, "complete")
    full.close()
    assert [r[0] for r in table(postgres, "snapshot")] == ["c"]


def test_a_failed_batch_leaves_nothing_behind(postgres: str, tmp_path: Path) -> None:
    sink = PostgresSink(postgres, "strict", key_columns=["k"])
    sink.open(tmp_path)
    sink.write(batch(("a", 1)), 0, "update")
    wrong = MicroBatch.from_pylist([{"k": "b", "n": "not a number"}], {"k": "str", "n": "str"})
    with pytest.raises(psycopg.Error):
        sink.write(wrong, 1, "update")
    sink.write(batch(("b", 5)), 1, "update")  # the failed batch id is not marked done
    sink.close()
    assert [r[:2] for r in table(postgres, "strict")] == [("a", 1), ("b", 5)]


def test_streaming_query_into_postgres_survives_a_crash(postgres: str, tmp_path: Path) -> None:
    clicks = MemorySource({"page": "str", "ts": "int64"})
    clicks.add_data([{"page": f"/p{i % 3}", "ts": i} for i in range(30)])
    counts = Stream.from_source(clicks).group_by("page").agg(F.count().alias("clicks"))

    def crash(point: str, batch_id: int) -> None:
        if point == "after_sink" and batch_id == 1:
            raise RuntimeError("crash")

    writer = counts.write_stream.output_mode("update").checkpoint(tmp_path / "cp")
    writer.trigger(Trigger.available_now()).sink(PostgresSink(postgres, "pages", ["page"])).run()
    clicks.add_data([{"page": "/p0", "ts": 99}])
    with pytest.raises(RuntimeError, match="crash"):
        counts.write_stream.output_mode("update").checkpoint(tmp_path / "cp").trigger(
            Trigger.available_now()
        ).sink(PostgresSink(postgres, "pages", ["page"]))._fail_at(crash).run()
    counts.write_stream.output_mode("update").checkpoint(tmp_path / "cp").trigger(
        Trigger.available_now()
    ).sink(PostgresSink(postgres, "pages", ["page"])).run()
    assert [r[:2] for r in table(postgres, "pages")] == [("/p0", 11), ("/p1", 10), ("/p2", 10)]
