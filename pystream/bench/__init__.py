"""Load generators and measurements behind `pystream bench` and the comparison harness.

The counterparts of Kafka's `ProducerPerformance`, `ConsumerPerformance` and
`EndToEndLatency` tools, driven through librdkafka (`confluent-kafka`) so that
the client is not the bottleneck, plus the machine's physical limits (disk,
loopback TCP) measured the same way in the same run. Works against any
Kafka-compatible bootstrap server; nothing here imports the broker.
"""
