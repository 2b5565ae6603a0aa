"""The workloads every peer runs, in the spirit of the OpenMessaging Benchmark.

1 KiB records; 1 and 16 partitions; acks=1 and acks=all; 1 and 4 producers;
then a consumer run over each partition count, and a fixed-rate end-to-end
latency run. Sizes come from the mode (`--quick` or full).

The load generator is librdkafka driven from C (`pystream.bench.cclient`),
so that on a small machine the client does not set the pace; a few cases
repeat with confluent-kafka from Python (one produce() call per record), what
a Python application sees, and with the wire-level fetch reader.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

RECORD_SIZE = 1024
PARTITIONS = (1, 16)
ACKS = ("1", "all")
PRODUCERS = (1, 4)
CONSUMERS = (1, 2)
PYTHON_PRODUCE_PARTITIONS = (1,)  # the Python client's cases: acks=1, 1 and 4 producers
PYTHON_CONSUME_PARTITIONS = (1,)


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
    client: str = "c"  # pystream.bench.workload.CLIENTS

    @property
    def label(self) -> str:
        kind = "prod" if self.client == "c" else "py prod"
        return f"{self.partitions}p acks={self.acks} {self.producers} {kind}"

    @property
    def key(self) -> str:
        suffix = "" if self.client == "c" else "-py"
        return f"produce-p{self.partitions}-acks{self.acks}-x{self.producers}{suffix}"


@dataclass(frozen=True)
class ConsumeCase:
    """Readers of the topic the single-producer acks=1 run wrote with `partitions`.

    `rdkafka-c`: librdkafka consumers in C, assigned every partition (several
    split each partition's offsets between them). `librdkafka`: confluent-kafka
    consumers from Python; one uses a group, as applications do, several split
    the offsets (one partition cannot be split inside a group). `fetch`: the
    wire-level reader of `pystream.bench.fetcher` (Fetch requests, batch
    headers only).
    """

    partitions: int
    consumers: int
    reader: str = "rdkafka-c"

    @property
    def label(self) -> str:
        kind = {"rdkafka-c": "cons", "librdkafka": "py cons"}.get(self.reader, self.reader)
        return f"{self.partitions}p {self.consumers} {kind}"

    @property
    def key(self) -> str:
        suffix = {"rdkafka-c": "", "librdkafka": "-py"}.get(self.reader, f"-{self.reader}")
        return f"consume-p{self.partitions}-x{self.consumers}{suffix}"

    @property
    def source_key(self) -> str:
        return ProduceCase(self.partitions, "1", 1).key


def consume_cases() -> list[ConsumeCase]:
    return [
        *(ConsumeCase(p, n) for p, n in itertools.product(PARTITIONS, CONSUMERS)),
        *(
            ConsumeCase(p, n, "librdkafka")
            for p, n in itertools.product(PYTHON_CONSUME_PARTITIONS, CONSUMERS)
        ),
        *(ConsumeCase(p, 1, "fetch") for p in PYTHON_CONSUME_PARTITIONS),
    ]


def produce_cases() -> list[ProduceCase]:
    return [
        *(ProduceCase(p, a, n) for p, a, n in itertools.product(PARTITIONS, ACKS, PRODUCERS)),
        *(ProduceCase(p, "1", n, "python") for p in PYTHON_PRODUCE_PARTITIONS for n in PRODUCERS),
    ]
