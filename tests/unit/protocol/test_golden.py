"""Request frames captured from real clients (kafka-python, librdkafka), decoded
and re-encoded byte for byte. Regenerate with fixtures/capture.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from pystream.protocol import ApiKey, Writer, decode_request, request_header_version

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.bin"))


def test_fixtures_present() -> None:
    assert len(FIXTURES) >= 8


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_decode_and_reencode_byte_exact(path: Path) -> None:
    frame = path.read_bytes()
    header, body = decode_request(frame)
    assert path.stem.split("-")[-2] == ApiKey(header.request_api_key).name.lower()
    w = Writer()
    header.encode(w, request_header_version(header.request_api_key, header.request_api_version))
    body.encode(w, header.request_api_version)
    assert w.getvalue() == frame


def _one(pattern: str) -> tuple[object, object]:
    (path,) = (p for p in FIXTURES if p.match(pattern))
    return decode_request(path.read_bytes())


@pytest.mark.parametrize(
    ("client", "software"),
    [("kafka-python", "kafka-python"), ("librdkafka", "confluent-kafka-python")],
)
def test_api_versions_request(client: str, software: str) -> None:
    header, body = _one(f"{client}-00-api_versions-*.bin")
    assert header.client_id == f"golden-{client}"  # type: ignore[attr-defined]
    assert body.client_software_name == software  # type: ignore[attr-defined]
    assert body.client_software_version  # type: ignore[attr-defined]


def test_metadata_requests() -> None:
    _, bootstrap = _one("kafka-python-01-metadata-*.bin")
    assert bootstrap.topics == []  # type: ignore[attr-defined]
    _, body = _one("librdkafka-01-metadata-*.bin")
    assert [t.name for t in body.topics] == ["golden"]  # type: ignore[attr-defined]
    assert body.allow_auto_topic_creation is True  # type: ignore[attr-defined]


@pytest.mark.parametrize("client", ["kafka-python", "librdkafka"])
def test_produce_request_carries_a_record_batch(client: str) -> None:
    _header, body = _one(f"{client}-*-produce-*.bin")
    (topic,) = body.topic_data  # type: ignore[attr-defined]
    assert topic.name == "golden"
    (part,) = topic.partition_data
    records = part.records
    assert isinstance(records, memoryview)  # zero-copy slice of the frame
    batch = bytes(records)
    assert batch[16] == 2  # RecordBatch magic v2
    assert b"hello from" in batch
    assert body.acks in (-1, 1)  # type: ignore[attr-defined]
