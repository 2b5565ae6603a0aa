"""Create the benchmark topic when it is missing and wait until every partition has a leader."""

from __future__ import annotations

import time

DEFAULT_TIMEOUT_S = 30.0


class TopicError(RuntimeError):
    """The topic could not be created or never became ready."""


def ensure_topic(
    bootstrap_server: str,
    topic: str,
    partitions: int,
    replication_factor: int = 1,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> int:
    """Create `topic` if it does not exist; return its partition count once all have leaders.

    An existing topic is used as it is (as Kafka's perf tools do), so the
    caller records the returned count rather than assuming `partitions`.
    """
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap_server})
    if not _partitions(admin, topic, timeout_s):
        futures = admin.create_topics(
            [NewTopic(topic, num_partitions=partitions, replication_factor=replication_factor)],
            operation_timeout=timeout_s,
            request_timeout=timeout_s,
        )
        try:
            futures[topic].result(timeout=timeout_s)
        except KafkaException as exc:
            err = exc.args[0] if exc.args else None
            if not (isinstance(err, KafkaError) and err.code() == KafkaError.TOPIC_ALREADY_EXISTS):
                raise TopicError(f"cannot create topic {topic!r}: {exc}") from exc
    deadline = time.monotonic() + timeout_s
    while True:
        ready = _partitions(admin, topic, timeout_s)
        if ready:
            return ready
        if time.monotonic() > deadline:
            raise TopicError(
                f"topic {topic!r} has no leader for every partition after {timeout_s}s"
            )
        time.sleep(0.2)


def _partitions(admin: object, topic: str, timeout_s: float) -> int:
    """Number of partitions of `topic` if it exists and each has a leader, else 0."""
    from confluent_kafka import KafkaException

    try:
        # All topics, not just `topic`: a metadata request naming a missing topic makes a
        # broker with auto.create.topics.enable create it with its default partition count.
        metadata = admin.list_topics(timeout=timeout_s)  # type: ignore[attr-defined]
    except KafkaException as exc:
        raise TopicError(f"cannot read metadata from the bootstrap server: {exc}") from exc
    info = metadata.topics.get(topic)
    if info is None or info.error is not None or not info.partitions:
        return 0
    if any(p.leader < 0 or p.error is not None for p in info.partitions.values()):
        return 0
    return len(info.partitions)


def delete_topic(bootstrap_server: str, topic: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> str:
    """Delete `topic` (frees an in-memory broker between runs); '' or the reason it failed."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap_server})
    futures = admin.delete_topics([topic], operation_timeout=timeout_s, request_timeout=timeout_s)
    try:
        futures[topic].result(timeout=timeout_s)
    except KafkaException as exc:
        return str(exc)
    return ""
