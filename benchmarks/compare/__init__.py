"""One-command comparison of pystream with Apache Kafka, Tansu and the machine's limits.

Run `python -m benchmarks.compare.run --quick` from the repository root; see
docs/benchmarks.md.
"""
