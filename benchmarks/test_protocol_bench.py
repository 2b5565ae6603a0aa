"""Protocol codec micro benchmarks (pytest-benchmark; disabled in the test run,
`make bench` enables them).

Workloads:
- ProduceRequest v9 decode: one topic, one partition, one 1 MiB records blob.
  Reference: a 1 MiB memcpy (bytes(memoryview)) in the same run, which the decode
  must beat by far since records stay a zero-copy slice (O(header fields)).
- FetchResponse v12 encode: one topic, 16 partitions, 4 KiB of records each
  (copied into the frame: below the 16 KiB zero-copy threshold).
- MetadataResponse v12 encode: 3 brokers, 20 topics x 16 partitions, 3 replicas.
Peer: kafka-python 3's schema-driven codec (`kafka.protocol`) on the same data.
The last test prints the ratios and writes benchmarks/out/protocol_bench.json.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from pystream.protocol import Reader, RequestHeader, Writer, encode_response
from pystream.protocol.messages.fetch import FetchResponse
from pystream.protocol.messages.metadata import MetadataResponse
from pystream.protocol.messages.produce import ProduceRequest

RESULTS: dict[str, float] = {}
BLOB = bytes(1 << 20)
FETCH_RECORDS = bytes(4096)


def _keep(name: str, benchmark: Any) -> None:
    stats = getattr(benchmark, "stats", None)
    if stats is not None:  # None when benchmarks are disabled
        RESULTS[name] = stats.stats.median


def _produce_frame() -> bytes:
    req = ProduceRequest(
        acks=-1,
        timeout_ms=30000,
        topic_data=[
            ProduceRequest.TopicProduceData(
                name="bench", partition_data=[ProduceRequest.PartitionProduceData(records=BLOB)]
            )
        ],
    )
    w = Writer()
    req.encode(w, 9)
    return w.getvalue()


PRODUCE = _produce_frame()


def _fetch_response() -> FetchResponse:
    return FetchResponse(
        responses=[
            FetchResponse.FetchableTopicResponse(
                topic="bench",
                partitions=[
                    FetchResponse.PartitionData(
                        partition_index=i, high_watermark=1000, records=FETCH_RECORDS
                    )
                    for i in range(16)
                ],
            )
        ]
    )


def _metadata_response() -> MetadataResponse:
    return MetadataResponse(
        cluster_id="bench-cluster",
        controller_id=0,
        brokers=[
            MetadataResponse.MetadataResponseBroker(node_id=i, host=f"broker-{i}", port=9092)
            for i in range(3)
        ],
        topics=[
            MetadataResponse.MetadataResponseTopic(
                name=f"topic-{t}",
                topic_id=uuid.UUID(int=t + 1),
                partitions=[
                    MetadataResponse.MetadataResponsePartition(
                        partition_index=p,
                        leader_id=p % 3,
                        leader_epoch=1,
                        replica_nodes=[0, 1, 2],
                        isr_nodes=[0, 1, 2],
                    )
                    for p in range(16)
                ],
            )
            for t in range(20)
        ],
    )


def test_produce_decode_1mib(benchmark: Any) -> None:
    def run() -> ProduceRequest:
        return ProduceRequest.decode(Reader(PRODUCE), 9)

    out = benchmark(run)
    assert out.topic_data[0].partition_data[0].records.nbytes == len(BLOB)
    _keep("produce_decode", benchmark)


def test_memcpy_1mib_reference(benchmark: Any) -> None:
    mv = memoryview(PRODUCE)
    benchmark(lambda: bytes(mv[-len(BLOB) :]))
    _keep("memcpy_1mib", benchmark)


def test_fetch_encode_16_partitions(benchmark: Any) -> None:
    resp = _fetch_response()
    header = RequestHeader(request_api_key=1, request_api_version=12, correlation_id=1)
    chunks = benchmark(lambda: encode_response(header, resp))
    assert sum(memoryview(c).nbytes for c in chunks) > 16 * 4096  # type: ignore[arg-type]
    _keep("fetch_encode", benchmark)


def test_metadata_encode(benchmark: Any) -> None:
    resp = _metadata_response()
    header = RequestHeader(request_api_key=3, request_api_version=12, correlation_id=1)
    benchmark(lambda: encode_response(header, resp))
    _keep("metadata_encode", benchmark)


# -- peer: kafka-python's codec on the same data ---------------------------------------


def test_peer_kafka_python_produce_decode(benchmark: Any) -> None:
    kp = pytest.importorskip("kafka.protocol.producer.produce")
    out = benchmark(lambda: kp.ProduceRequest.decode(PRODUCE, version=9))
    assert len(out.topic_data[0].partition_data[0].records) == len(BLOB)
    _keep("peer_produce_decode", benchmark)


def test_peer_kafka_python_fetch_encode(benchmark: Any) -> None:
    kf = pytest.importorskip("kafka.protocol.consumer.fetch").FetchResponse
    topic_cls = kf.FetchableTopicResponse
    resp = kf(
        version=12,
        throttle_time_ms=0,
        error_code=0,
        session_id=0,
        responses=[
            topic_cls(
                topic="bench",
                partitions=[
                    topic_cls.PartitionData(
                        partition_index=i,
                        error_code=0,
                        high_watermark=1000,
                        records=FETCH_RECORDS,
                    )
                    for i in range(16)
                ],
            )
        ],
    )
    benchmark(lambda: resp.encode(version=12))
    _keep("peer_fetch_encode", benchmark)


def test_peer_kafka_python_metadata_encode(benchmark: Any) -> None:
    km = pytest.importorskip("kafka.protocol.metadata.metadata").MetadataResponse
    topic_cls = km.MetadataResponseTopic
    resp = km(
        version=12,
        cluster_id="bench-cluster",
        controller_id=0,
        brokers=[
            km.MetadataResponseBroker(node_id=i, host=f"broker-{i}", port=9092) for i in range(3)
        ],
        topics=[
            topic_cls(
                name=f"topic-{t}",
                topic_id=uuid.UUID(int=t + 1),
                partitions=[
                    topic_cls.MetadataResponsePartition(
                        partition_index=p,
                        leader_id=p % 3,
                        leader_epoch=1,
                        replica_nodes=[0, 1, 2],
                        isr_nodes=[0, 1, 2],
                    )
                    for p in range(16)
                ],
            )
            for t in range(20)
        ],
    )
    benchmark(lambda: resp.encode(version=12))
    _keep("peer_metadata_encode", benchmark)


def test_zz_report() -> None:
    if not RESULTS:
        pytest.skip("benchmarks disabled")
    ratios = {}
    if {"produce_decode", "memcpy_1mib"} <= RESULTS.keys():
        ratios["produce_decode_vs_memcpy_1mib"] = RESULTS["produce_decode"] / RESULTS["memcpy_1mib"]
    for name in ("produce_decode", "fetch_encode", "metadata_encode"):
        if {name, f"peer_{name}"} <= RESULTS.keys():
            ratios[f"{name}_vs_kafka_python"] = RESULTS[name] / RESULTS[f"peer_{name}"]
    report = {"median_seconds": RESULTS, "ratios": ratios}
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "protocol_bench.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
