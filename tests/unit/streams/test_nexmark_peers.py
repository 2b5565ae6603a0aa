"""The peer implementations of the Nexmark comparison (benchmarks/streams) give pystream's rows.

The benchmark's ratios mean something only if every engine computes the same result, so
each peer query runs on a small event range and its row multiset is compared with
pystream's. Peers that are not installed (the `bench` extra) are skipped with the reason.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from benchmarks.streams import nexmark_rows as rows_of
from benchmarks.streams.compare_nexmark import QUERIES, reference
from benchmarks.streams.nexmark_rows import OPEN_AT_END

EVENTS = 150_000  # 15 s of event time: closed windows for the engines that leave the last open


def _check(engine: str, query: str, events: int, got: list[tuple[Any, ...]]) -> dict[str, Any]:
    closed_by = rows_of.last_event_time(query, events) if (engine, query) in OPEN_AT_END else None
    return rows_of.compare(query, reference(query, events), got, closed_by=closed_by)


def test_person_auction_tuples_follow_event_order() -> None:
    from pystream.streams.nexmark import generator as g

    events = rows_of.person_auction_tuples(1_000)
    assert len(events) == g.count_of("person", 1_000) + g.count_of("auction", 1_000)
    assert [e[0] for e in events[:8]] == ["P", "A", "A", "A", "P", "A", "A", "A"]
    assert [e[2] for e in events] == sorted(e[2] for e in events)
    people = g.persons(0, 2).to_pylist()
    assert events[0] == ("P", people[0]["id"], people[0]["date_time"], people[0]["name"])


def test_compare_finds_missing_and_extra_rows_and_skips_open_windows() -> None:
    want = [(0, 1, 5), (10_000, 2, 7), (20_000, 3, 1)]
    assert rows_of.compare("q5", want, list(reversed(want)))["equal"]
    diff = rows_of.compare("q5", want, [(0, 1, 5), (10_000, 2, 8)])
    assert not diff["equal"] and diff["missing"] == 2 and diff["extra"] == 1
    # the window [20 s, 30 s) is still open at 25 s, so its absence is not a difference
    closed = rows_of.compare("q5", want, want[:2], closed_by=25_000)
    assert closed["equal"] and closed["rows_in_open_windows_not_compared"] == 1
    assert not rows_of.compare("q5", want, want[:1], closed_by=25_000)["equal"]


@pytest.mark.parametrize("query", QUERIES)
def test_bytewax_gives_pystreams_rows(query: str) -> None:
    pytest.importorskip("bytewax", reason="bytewax is in the bench extra")
    from benchmarks.streams import nexmark_bytewax

    events = 60_000
    records = rows_of.person_auction_tuples(events) if query == "q8" else rows_of.bid_tuples(events)
    got = nexmark_bytewax.run(query, records)
    check = _check("bytewax", query, events, got["result"])
    assert check["equal"], check
    assert check["rows"] > 0


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Any:
    pytest.importorskip("pyspark", reason="pyspark is in the bench extra")
    if shutil.which("java") is None:
        pytest.skip("PySpark needs a Java runtime on PATH")
    from benchmarks.streams import nexmark_spark

    session = nexmark_spark.session()
    data = tmp_path_factory.mktemp("nexmark") / "data"
    nexmark_spark.write_parquet(EVENTS, data)
    yield session, data
    session.stop()


@pytest.mark.slow
@pytest.mark.parametrize("query", QUERIES)
def test_pyspark_gives_pystreams_rows(query: str, spark: Any, tmp_path: Path) -> None:
    from benchmarks.streams import nexmark_spark

    session, data = spark
    got = nexmark_spark.run(query, session, data, tmp_path, collect=True)
    check = _check("pyspark", query, EVENTS, got["result"])
    assert check["equal"], check
    assert check["rows"] > 0
    # the counting path (the timed one) sees as many rows as the collecting one
    assert nexmark_spark.run(query, session, data, tmp_path)["rows"] == got["rows"]


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Any:
    pytest.importorskip("quixstreams", reason="quixstreams is in the bench extra")
    pytest.importorskip("confluent_kafka", reason="confluent-kafka loads the topics")
    from benchmarks.peers.pystream_broker import PystreamPeer
    from benchmarks.streams import nexmark_quix

    work = tmp_path_factory.mktemp("quix")
    with PystreamPeer() as peer:
        bootstrap = peer.start(work)
        nexmark_quix.load_topics(
            bootstrap, rows_of.bid_tuples(EVENTS), rows_of.person_auction_tuples(EVENTS)
        )
        yield bootstrap, work


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.parametrize("query", QUERIES)
def test_quix_and_pystream_from_the_topic_give_pystreams_rows(query: str, broker: Any) -> None:
    from benchmarks.streams import nexmark_quix

    bootstrap, work = broker
    ours = nexmark_quix.run_pystream(query, bootstrap)
    check = _check("pystream-kafka", query, EVENTS, ours["result"])
    assert check["equal"], check
    quix = nexmark_quix.run_quix(query, bootstrap, rows_of.input_records(query, EVENTS), work)
    check = _check("quix", query, EVENTS, quix["result"])
    assert check["equal"], check
    assert check["rows"] > 0
