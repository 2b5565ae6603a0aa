"""pystream.storage: the Python facade over the native partition log.

- `LogManager`: every partition of a data dir (create, open, list, delete),
  topic configs, retention / flush / checkpoint scheduling;
- `PartitionLog`: one partition's log (append, read, lookups, truncation,
  retention, flush);
- `LogConfig`: topic-level log configs under Kafka's names.

Errors are the typed exceptions of `pystream.errors` (`StorageError`,
`OffsetOutOfRangeError`, `CorruptRecordError`, `InvalidRecordError`, ...).
"""

from pystream.storage.config import LogConfig
from pystream.storage.log_manager import LogManager, TopicPartition, parse_partition_dir
from pystream.storage.partition import PartitionLog

__all__ = ["LogConfig", "LogManager", "PartitionLog", "TopicPartition", "parse_partition_dir"]
