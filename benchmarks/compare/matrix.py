"""The workloads every peer runs, in the spirit of the OpenMessaging Benchmark.

1 KiB records; 1 and 16 partitions; acks=1 and acks=all; 1 and 4 producers;
then a consumer run over each partition count, and a fixed-rate end-to-end
latency run. Sizes come from the mode (`--quick` or full).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

RECORD_SIZE = 1024
PARTITIONS = (1, 16)
ACKS = ("1", "all")
PRODUCERS = (1, 4)
CONSUMERS = (1, 2)
READERS = ("librdkafka", "fetch")


@dataclass(frozen=True)
class Mode:
    name: str
    produce_records: int
    repeats: int
    e2e_rate: int  # records/s
    e2e_seconds: int
    java_records: int
    disk_mib: int
    tcp_mib: int


QUICK = Mode("quick", 100_000, 3, 1000, 10, 300_000, 256, 1024)
FULL = Mode("full", 1_000_000, 5, 2000, 60, 2_000_000, 2048, 4096)


@dataclass(frozen=True)
class ProduceCase:
    partitions: int
    acks: str
    producers: int

    @property
    def label(self) -> str:
        return f"{self.partitions}p acks={self.acks} {self.producers} prod"

    @property
    def key(self) -> str:
        return f"produce-p{self.partitions}-acks{self.acks}-x{self.producers}"


@dataclass(frozen=True)
class ConsumeCase:
    """Readers of the topic the single-producer acks=1 run wrote with `partitions`.

    `librdkafka`: one consumer uses a group, as applications do; several
    split each partition's offsets between them (one partition cannot be
    split inside a group). `fetch`: the wire-level reader of
    `pystream.bench.fetcher` (Fetch requests, batch headers only), which
    needs far less CPU per byte, so the broker rather than the tool sets the
    pace.
    """

    partitions: int
    consumers: int
    reader: str = "librdkafka"

    @property
    def label(self) -> str:
        kind = "cons" if self.reader == "librdkafka" else self.reader
        return f"{self.partitions}p {self.consumers} {kind}"

    @property
    def key(self) -> str:
        suffix = "" if self.reader == "librdkafka" else f"-{self.reader}"
        return f"consume-p{self.partitions}-x{self.consumers}{suffix}"

    @property
    def source_key(self) -> str:
        return ProduceCase(self.partitions, "1", 1).key


def consume_cases() -> list[ConsumeCase]:
    return [
        ConsumeCase(p, n, reader)
        for reader in READERS
        for p, n in itertools.product(PARTITIONS, CONSUMERS)
    ]


def produce_cases() -> list[ProduceCase]:
    return [ProduceCase(p, a, n) for p, a, n in itertools.product(PARTITIONS, ACKS, PRODUCERS)]
