"""Exceptions raised by pystream's native layer, re-exported under one name."""

from pystream._native import (
    CorruptRecordError,
    InvalidRecordError,
    NativeError,
    OffsetOutOfRangeError,
    RecordTooLargeError,
    StorageError,
    UnsupportedCompressionError,
)

__all__ = [
    "CorruptRecordError",
    "InvalidRecordError",
    "NativeError",
    "OffsetOutOfRangeError",
    "RecordTooLargeError",
    "StorageError",
    "UnsupportedCompressionError",
]
