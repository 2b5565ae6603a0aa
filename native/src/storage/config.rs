//! The numeric subset of a topic's log config that the native log acts on.
//! Python (`pystream.storage.config`) owns names, parsing and defaults;
//! this struct only carries validated numbers.

use super::error::{Result, StorageError};

/// Kafka's `Long.MAX_VALUE`, the "never" of `flush.messages` / `flush.ms`.
pub const NEVER: i64 = i64::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogConfig {
    /// `segment.bytes`: roll when the active segment would exceed this.
    pub segment_bytes: u64,
    /// `segment.ms`: roll when the active segment's first timestamp is older.
    pub segment_ms: i64,
    /// `segment.index.bytes`: preallocated size of each index file.
    pub segment_index_bytes: u64,
    /// `index.interval.bytes`: bytes between sparse index entries.
    pub index_interval_bytes: u64,
    /// `retention.bytes`: negative for unlimited.
    pub retention_bytes: i64,
    /// `retention.ms`: -1 for unlimited.
    pub retention_ms: i64,
    /// `flush.messages`: fsync after this many unflushed records.
    pub flush_messages: i64,
    /// `flush.ms`: fsync when the last flush is older (driven by the caller).
    pub flush_ms: i64,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1 << 30,
            segment_ms: 7 * 24 * 3600 * 1000,
            segment_index_bytes: 10 << 20,
            index_interval_bytes: 4096,
            retention_bytes: -1,
            retention_ms: 7 * 24 * 3600 * 1000,
            flush_messages: NEVER,
            flush_ms: NEVER,
        }
    }
}

impl LogConfig {
    /// Kafka's bounds for each setting.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(StorageError::InvalidArgument(what.to_string()));
        // Segment positions are 32-bit in the index, as in Kafka.
        if self.segment_bytes < 14 || self.segment_bytes > i32::MAX as u64 {
            return bad("segment.bytes must be in [14, 2147483647]");
        }
        if self.segment_ms < 1 {
            return bad("segment.ms must be at least 1");
        }
        if self.segment_index_bytes < 4 || self.segment_index_bytes > i32::MAX as u64 {
            return bad("segment.index.bytes must be in [4, 2147483647]");
        }
        if self.index_interval_bytes > i32::MAX as u64 {
            return bad("index.interval.bytes must be at most 2147483647");
        }
        if self.retention_ms < -1 {
            return bad("retention.ms must be -1 or more");
        }
        if self.flush_messages < 1 || self.flush_ms < 0 {
            return bad("flush.messages must be at least 1 and flush.ms at least 0");
        }
        Ok(())
    }
}
