//! Errors raised while reading, validating or building record batches.

use thiserror::Error;

/// Why a record batch (or a run of batches) was rejected.
///
/// Each variant maps onto a Kafka error code in the Python layer
/// (`CORRUPT_MESSAGE`, `INVALID_RECORD`, `UNSUPPORTED_COMPRESSION_TYPE`, ...).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RecordError {
    /// Fewer bytes than the header or the declared batch length needs.
    #[error("truncated record batch: need {needed} bytes, have {available}")]
    Truncated { needed: usize, available: usize },
    /// A size field that is negative or impossibly large.
    #[error("invalid batch length {0}")]
    InvalidLength(i64),
    /// Magic byte other than 2.
    #[error("unsupported record batch magic {0} (only v2 is supported)")]
    UnsupportedMagic(i8),
    /// Stored CRC32C does not match the bytes.
    #[error("CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    CrcMismatch { stored: u32, computed: u32 },
    /// Structurally invalid content (record count, varints, deltas, ...).
    #[error("corrupt record batch: {0}")]
    Corrupt(String),
    /// Compression codec id outside 0..=4.
    #[error("unsupported compression type {0}")]
    UnsupportedCompression(u8),
    /// Compressing or decompressing failed.
    #[error("compression error: {0}")]
    Compression(String),
    /// A batch larger than the configured maximum.
    #[error("record batch of {size} bytes exceeds the maximum of {max}")]
    TooLarge { size: usize, max: usize },
    /// Valid bytes that the operation refuses (e.g. invalid timestamps).
    #[error("invalid record: {0}")]
    InvalidRecord(String),
    /// Any of the above, located: which batch of a run of batches failed
    /// and where it starts. [`RecordError::root`] gives the cause.
    #[error("batch {index} at byte {position}: {source}")]
    InBatch {
        index: usize,
        position: usize,
        source: Box<RecordError>,
    },
}

impl RecordError {
    /// Wraps `self` with the batch it was found in (keeps an existing location).
    pub fn in_batch(self, index: usize, position: usize) -> RecordError {
        match self {
            RecordError::InBatch { .. } => self,
            other => RecordError::InBatch {
                index,
                position,
                source: Box::new(other),
            },
        }
    }

    /// The underlying error, without the batch location. Decides the Kafka
    /// error code (and the Python exception class).
    pub fn root(&self) -> &RecordError {
        match self {
            RecordError::InBatch { source, .. } => source.root(),
            other => other,
        }
    }
}
