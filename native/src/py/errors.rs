//! Python exception types raised by the native layer, and the mapping from
//! Rust errors to them. `pystream.errors` re-exports them.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

use crate::record::RecordError;

create_exception!(
    _native,
    NativeError,
    PyException,
    "Base of every error raised by pystream._native."
);
create_exception!(
    _native,
    CorruptRecordError,
    NativeError,
    "A record batch failed validation (length, magic, CRC, structure). Kafka: CORRUPT_MESSAGE."
);
create_exception!(
    _native,
    InvalidRecordError,
    NativeError,
    "A well-formed record batch that the operation refuses. Kafka: INVALID_RECORD."
);
create_exception!(
    _native,
    RecordTooLargeError,
    NativeError,
    "A batch larger than the configured maximum. Kafka: MESSAGE_TOO_LARGE."
);
create_exception!(
    _native,
    UnsupportedCompressionError,
    NativeError,
    "A compression codec outside none/gzip/snappy/lz4/zstd. Kafka: UNSUPPORTED_COMPRESSION_TYPE."
);
create_exception!(
    _native,
    OffsetOutOfRangeError,
    NativeError,
    "An offset outside [log start offset, log end offset]. Kafka: OFFSET_OUT_OF_RANGE."
);
create_exception!(
    _native,
    StorageError,
    NativeError,
    "An I/O or on-disk format problem in the log (names the file). Kafka: KAFKA_STORAGE_ERROR."
);

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("NativeError", py.get_type::<NativeError>())?;
    m.add("CorruptRecordError", py.get_type::<CorruptRecordError>())?;
    m.add("InvalidRecordError", py.get_type::<InvalidRecordError>())?;
    m.add("RecordTooLargeError", py.get_type::<RecordTooLargeError>())?;
    m.add(
        "UnsupportedCompressionError",
        py.get_type::<UnsupportedCompressionError>(),
    )?;
    m.add(
        "OffsetOutOfRangeError",
        py.get_type::<OffsetOutOfRangeError>(),
    )?;
    m.add("StorageError", py.get_type::<StorageError>())?;
    Ok(())
}

/// Maps a record-layer error onto its Python exception. The class follows
/// the root cause; the message keeps the batch location, if any.
#[allow(dead_code)] // used by the record and storage wrappers as they land
pub fn record_err(e: RecordError) -> PyErr {
    let msg = e.to_string();
    match e.root() {
        RecordError::TooLarge { .. } => RecordTooLargeError::new_err(msg),
        RecordError::UnsupportedCompression(_) => UnsupportedCompressionError::new_err(msg),
        RecordError::InvalidRecord(_) => InvalidRecordError::new_err(msg),
        _ => CorruptRecordError::new_err(msg),
    }
}
