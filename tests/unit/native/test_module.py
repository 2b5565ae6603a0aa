import pytest

from pystream import errors


def test_exception_hierarchy() -> None:
    for exc in (
        errors.CorruptRecordError,
        errors.InvalidRecordError,
        errors.RecordTooLargeError,
        errors.UnsupportedCompressionError,
        errors.OffsetOutOfRangeError,
        errors.StorageError,
    ):
        assert issubclass(exc, errors.NativeError)
    with pytest.raises(errors.NativeError):
        raise errors.CorruptRecordError("x")
