//! Errors of the storage layer. Every variant about a file names the file.

use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::record::RecordError;

#[derive(Debug, Error)]
pub enum StorageError {
    /// An operating-system error on a named file or directory.
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A file in a partition directory that cannot be a segment or index.
    #[error("{path} is not a log segment file: {reason}")]
    NotASegment { path: PathBuf, reason: String },
    /// A checkpoint file that does not follow Kafka's checkpoint format.
    #[error("malformed checkpoint file {path}: {reason}")]
    Checkpoint { path: PathBuf, reason: String },
    /// Kafka's OFFSET_OUT_OF_RANGE.
    #[error("offset {offset} is out of range [{log_start_offset}, {log_end_offset}]")]
    OffsetOutOfRange {
        offset: i64,
        log_start_offset: i64,
        log_end_offset: i64,
    },
    /// The append buffer is not a run of whole v2 batches.
    #[error("invalid append: {0}")]
    Record(#[from] RecordError),
    /// Whole, well-formed batches that the log refuses (offsets going
    /// backwards, a declared last offset that does not match, ...).
    #[error("invalid append: {0}")]
    InvalidAppend(String),
    /// A caller-supplied argument outside its domain.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Bytes on disk that contradict the index or the log's own invariants,
    /// found outside recovery (recovery repairs instead of failing).
    #[error("corrupt log segment {path} at position {position}: {reason}")]
    Corrupt {
        path: PathBuf,
        position: u64,
        reason: String,
    },
    #[error("the log in {0} is closed")]
    Closed(PathBuf),
}

pub type Result<T> = std::result::Result<T, StorageError>;

/// Attaches a path to an `io::Result`.
pub(crate) trait IoContext<T> {
    fn at(self, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: &Path) -> Result<T> {
        self.map_err(|source| StorageError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}
