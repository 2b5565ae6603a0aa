"""Operator nodes of the logical plan: stateless, aggregation, deduplication, joins."""
