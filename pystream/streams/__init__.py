"""pystream.streams: a Structured-Streaming style stream processor over columnar micro-batches.

Importing this package imports numpy but neither numba nor the broker. The public entry
points are re-exported here::

    from pystream.streams import Stream, functions as F, Trigger
"""

from __future__ import annotations

import importlib
from typing import Any

# Public names resolve lazily (PEP 562), so importing a submodule such as
# `pystream.streams.bytes_column` from `pystream.compute` does not pull in the whole API.
_EXPORTS = {
    "BytesColumn": "pystream.streams.bytes_column",
    "ConsoleSink": "pystream.streams.sinks.console",
    "DataLossError": "pystream.streams.sources.records",
    "EmbeddedLogSource": "pystream.streams.sources.log",
    "FileSource": "pystream.streams.sources.files",
    "HeadersColumn": "pystream.streams.bytes_column",
    "MalformedFileError": "pystream.streams.sources.file_formats",
    "FileSink": "pystream.streams.sinks.files",
    "FixedLayout": "pystream.streams.formats",
    "ForeachBatchSink": "pystream.streams.sinks.foreach",
    "GeneratorSource": "pystream.streams.sources.generator",
    "JsonFormat": "pystream.streams.formats",
    "JsonLinesFile": "pystream.streams.sinks.files",
    "KafkaSink": "pystream.streams.sinks.kafka",
    "KafkaSource": "pystream.streams.sources.kafka",
    "MemorySink": "pystream.streams.sinks.memory",
    "MemorySource": "pystream.streams.sources.memory",
    "MicroBatch": "pystream.streams.batch",
    "OutputMode": "pystream.streams.plan",
    "PostgresSink": "pystream.streams.sinks.postgres",
    "RawFormat": "pystream.streams.formats",
    "SqliteSink": "pystream.streams.sinks.sqlite",
    "Stream": "pystream.streams.stream",
    "StreamingQuery": "pystream.streams.query",
    "StreamingQueryException": "pystream.streams.query",
    "Trigger": "pystream.streams.triggers",
    "rate_source": "pystream.streams.sources.generator",
}

__all__ = sorted([*_EXPORTS, "functions"])


def __getattr__(name: str) -> Any:
    if name == "functions":
        return importlib.import_module("pystream.streams.functions")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pystream.streams' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
