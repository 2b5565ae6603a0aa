"""What a benchmark run does: the workload description and the librdkafka settings it implies.

A workload is printed and stored with every result, so a figure always comes
with the record size, partitions, acks, compression, batching and client count
that produced it. Client properties use Kafka's names; librdkafka accepts the
common ones (`acks`, `batch.size`, `linger.ms`, `compression.type`) as is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

COMPRESSION_TYPES = ("none", "gzip", "snappy", "lz4", "zstd")
ACKS_VALUES = ("0", "1", "all", "-1")

# Large batches and a short linger let librdkafka fill whole batches, so one
# Python produce() call per record is the only per-record cost on the client.
PRODUCER_DEFAULTS: dict[str, str] = {
    "queue.buffering.max.messages": "1000000",
    "queue.buffering.max.kbytes": "1048576",
    "message.timeout.ms": "60000",
    "enable.idempotence": "false",
}
CONSUMER_DEFAULTS: dict[str, str] = {
    "auto.offset.reset": "earliest",
    "enable.auto.commit": "false",
    "fetch.max.bytes": "52428800",
    "max.partition.fetch.bytes": "10485760",
    "queued.max.messages.kbytes": "262144",
    # Some brokers (Tansu 0.6) hold a JoinGroup for part of the rebalance timeout, which
    # librdkafka takes from max.poll.interval.ms (5 minutes by default). A benchmark
    # consumer never stalls that long, so short values only shorten the join.
    "session.timeout.ms": "6000",
    "max.poll.interval.ms": "10000",
}


READERS = ("librdkafka", "fetch", "rdkafka-c")
# "python": confluent-kafka, one produce() call per record; "c": the same librdkafka
# driven from C (pystream.bench.cclient), so the client costs far less CPU per record.
CLIENTS = ("python", "c")


class WorkloadError(ValueError):
    """A workload or client property that cannot be run."""


def parse_props(items: Iterable[str]) -> dict[str, str]:
    """Parse `key=value` pairs as Kafka's `--producer-props` does; later keys win."""
    props: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise WorkloadError(f"expected key=value, got {item!r}")
        props[key] = value.strip()
    return props


def read_properties_file(path: Path) -> dict[str, str]:
    """Read a Java-style `.properties` file (key=value lines, # and ! comments)."""
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", "!")):
            lines.append(line)
    return parse_props(lines)


@dataclass(frozen=True)
class ProduceWorkload:
    """One producer benchmark: `num_records` of `record_size` bytes to `topic`."""

    bootstrap_server: str
    topic: str
    num_records: int
    record_size: int = 1024
    throughput: float = -1.0  # records/s across all producers; <= 0 means unthrottled
    partitions: int = 1
    replication_factor: int = 1
    acks: str = "all"
    compression: str = "none"
    batch_size: int = 1048576
    linger_ms: float = 5.0
    num_producers: int = 1
    producer_props: Mapping[str, str] = field(default_factory=dict)
    client: str = "python"

    def __post_init__(self) -> None:
        _check_common(self.num_records, self.partitions, self.replication_factor)
        if self.client not in CLIENTS:
            raise WorkloadError(f"--client must be one of {', '.join(CLIENTS)}")
        if self.record_size < 1:
            raise WorkloadError("--record-size must be at least 1 byte")
        if self.num_producers < 1:
            raise WorkloadError("--num-producers must be at least 1")
        if self.num_producers > self.num_records:
            raise WorkloadError("--num-producers cannot exceed --num-records")
        if self.acks not in ACKS_VALUES:
            raise WorkloadError(f"--acks must be one of {', '.join(ACKS_VALUES)}")
        if self.compression not in COMPRESSION_TYPES:
            raise WorkloadError(f"--compression must be one of {', '.join(COMPRESSION_TYPES)}")
        if self.batch_size < 1:
            raise WorkloadError("--batch-size must be positive")
        if self.linger_ms < 0:
            raise WorkloadError("--linger-ms cannot be negative")

    @property
    def throttled(self) -> bool:
        return self.throughput > 0

    def producer_config(self) -> dict[str, str]:
        """librdkafka settings: defaults, then the flags, then explicit --producer-props."""
        config = dict(PRODUCER_DEFAULTS)
        config.update(
            {
                "bootstrap.servers": self.bootstrap_server,
                "acks": self.acks,
                "compression.type": self.compression,
                "batch.size": str(self.batch_size),
                "linger.ms": _number(self.linger_ms),
            }
        )
        config.update(self.producer_props)
        return config

    def share(self, index: int) -> tuple[int, float]:
        """(records, records/s) for producer `index`: an even split of the totals."""
        base, extra = divmod(self.num_records, self.num_producers)
        rate = self.throughput / self.num_producers if self.throttled else -1.0
        return base + (1 if index < extra else 0), rate

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["producer_props"] = dict(self.producer_props)
        return data


@dataclass(frozen=True)
class ConsumeWorkload:
    """One consumer benchmark: read `num_records` from `topic` in a fresh group."""

    bootstrap_server: str
    topic: str
    num_records: int
    group: str = ""
    num_consumers: int = 1
    timeout_ms: int = 10000  # give up after this long without a record, as Kafka's tool does
    consumer_props: Mapping[str, str] = field(default_factory=dict)
    # Instead of a group: consumer i is assigned the i-th slice of every partition's offsets,
    # so several processes can share one partition (to show the load generator is not the limit).
    offset_slices: bool = False
    # "librdkafka" (confluent-kafka consumers), "fetch" (pystream.bench.fetcher: plain Fetch
    # requests, batch headers only, always offset slices; for a single-node broker) or
    # "rdkafka-c" (librdkafka's C API through pystream.bench.cclient; assigned partitions,
    # no group, offset slices when there are several).
    reader: str = "librdkafka"

    def __post_init__(self) -> None:
        _check_common(self.num_records, 1, 1)
        if self.num_consumers < 1:
            raise WorkloadError("--num-consumers must be at least 1")
        if self.timeout_ms < 1:
            raise WorkloadError("--timeout must be positive")
        if self.reader not in READERS:
            raise WorkloadError(f"--reader must be one of {', '.join(READERS)}")

    def consumer_config(self, group: str) -> dict[str, str]:
        config = dict(CONSUMER_DEFAULTS)
        config.update({"bootstrap.servers": self.bootstrap_server, "group.id": group})
        config.update(self.consumer_props)
        return config

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["consumer_props"] = dict(self.consumer_props)
        return data


@dataclass(frozen=True)
class EndToEndWorkload:
    """Fixed-rate end-to-end latency: produce at `throughput`, time each record to its consumer."""

    produce: ProduceWorkload
    timeout_ms: int = 10000
    consumer_props: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.produce.record_size < 8:
            raise WorkloadError("--record-size must be at least 8 bytes (the send timestamp)")
        if self.produce.num_producers != 1:
            raise WorkloadError("end-to-end latency uses one producer")

    def consumer_config(self) -> dict[str, str]:
        config = dict(CONSUMER_DEFAULTS)
        config.update(
            {
                "bootstrap.servers": self.produce.bootstrap_server,
                "group.id": f"pystream-bench-e2e-{self.produce.topic}",
                # A long-poll fetch answered as soon as one byte is there, as Kafka's
                # EndToEndLatency does; a short fetch.wait.max.ms would busy-poll the broker.
                "fetch.min.bytes": "1",
                "fetch.wait.max.ms": "500",
            }
        )
        config.update(self.consumer_props)
        return config

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.produce.to_dict(),
            "timeout_ms": self.timeout_ms,
            "consumer_props": dict(self.consumer_props),
        }


def _check_common(num_records: int, partitions: int, replication_factor: int) -> None:
    if num_records < 1:
        raise WorkloadError("--num-records must be at least 1")
    if partitions < 1:
        raise WorkloadError("--partitions must be at least 1")
    if replication_factor < 1:
        raise WorkloadError("--replication-factor must be at least 1")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
