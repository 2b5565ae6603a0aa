"""Sinks: where each micro-batch's output goes, keyed by batch id for exactly-once replays."""
