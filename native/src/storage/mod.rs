//! The segmented partition log in Kafka's on-disk layout: a directory per
//! partition holding `<20-digit base offset>.log` segments with their
//! `.index` (8-byte entries) and `.timeindex` (12-byte entries), plus the
//! checkpoint files. No PyO3 here (see `crate::py::storage`).
//!
//! - [`log`]: the partition log (append, roll); reads in [`log_read`],
//!   flushes in [`log_flush`], truncation and retention in
//!   [`log_retention`], opening and recovery in [`log_loader`];
//! - [`segments`], [`segment`] (+ [`segment_read`], [`segment_recovery`]):
//!   segments;
//! - [`offset_index`], [`time_index`] over [`index_file`]: mmap'd indexes;
//! - [`batch_reader`]: bounded reads of batch headers and batches;
//! - [`checkpoint`], [`leader_epoch`]: Kafka's checkpoint files.

pub mod batch_reader;
pub mod checkpoint;
pub mod config;
pub mod error;
pub mod index_file;
pub mod leader_epoch;
pub mod log;
pub mod log_flush;
pub mod log_loader;
pub mod log_read;
pub mod log_retention;
pub mod offset_index;
pub mod segment;
pub mod segment_read;
pub mod segment_recovery;
pub mod segments;
pub mod time_index;

#[cfg(test)]
mod test_util;
#[cfg(test)]
mod tests;

pub use config::LogConfig;
pub use error::{Result, StorageError};
pub use log::{AppendInfo, Log, LogSlice};
pub use log_flush::FlushPlan;
pub use log_loader::{Dropped, RecoveryReport};
pub use log_retention::RetentionResult;
