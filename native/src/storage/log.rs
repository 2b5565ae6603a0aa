//! The partition log: segments in a directory, with the log start offset,
//! log end offset and recovery point (Kafka's `LocalLog` plus the storage
//! half of `UnifiedLog`). Appends and rolls live here; flushes in
//! `log_flush.rs`; reads and lookups in `log_read.rs`; truncation and
//! retention in `log_retention.rs`; opening and recovery in `log_loader.rs`.
//!
//! Invariants: at least one segment; `log_start_offset <= log_end_offset`;
//! everything below `recovery_point` has been fsynced. Not thread-safe:
//! the Python wrapper guards it with a lock.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::record::RecordError;

use super::batch_reader::BatchInfo;
use super::config::LogConfig;
use super::error::{Result, StorageError};
use super::leader_epoch::LeaderEpochCache;
use super::segment::LogSegment;
use super::segments::Segments;

pub struct Log {
    pub(super) dir: PathBuf,
    pub(super) config: LogConfig,
    pub(super) segments: Segments,
    pub(super) log_start_offset: i64,
    pub(super) recovery_point: i64,
    pub(super) unflushed_messages: i64,
    pub(super) last_flush_ms: i64,
    /// A segment file was created or removed since the last flush.
    pub(super) dir_dirty: bool,
    /// Bumped by every truncation: a flush planned before one must not
    /// move the recovery point over bytes that were replaced since.
    pub(super) truncations: u64,
    pub(super) epochs: LeaderEpochCache,
    pub(super) closed: bool,
}

/// What an append did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendInfo {
    pub first_offset: i64,
    pub last_offset: i64,
    pub max_timestamp: i64,
    pub offset_of_max_timestamp: i64,
    pub records: i64,
    pub segment_base_offset: i64,
    pub position: u64,
    /// A new segment was rolled: the caller should flush the old ones.
    pub rolled: bool,
    /// `flush.messages` was reached: the caller should flush.
    pub flush_needed: bool,
}

/// Whole batches in one segment file, for `sendfile` or a copy. Holds the
/// file open, so the range stays readable even if retention deletes the
/// segment meanwhile.
#[derive(Debug, Clone)]
pub struct LogSlice {
    pub file: Arc<File>,
    pub path: PathBuf,
    pub position: u64,
    pub length: u64,
    pub first_offset: i64,
}

/// Parses the batch headers of an append buffer: whole v2 batches only.
pub fn parse_batches(data: &[u8]) -> Result<Vec<BatchInfo>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        let rest = &data[pos..];
        let info = BatchInfo::parse(&rest[..rest.len().min(61)], rest.len() as u64)?;
        out.push(info);
        pos += info.size as usize;
    }
    if out.is_empty() {
        return Err(StorageError::InvalidAppend("empty record set".into()));
    }
    Ok(out)
}

impl Log {
    pub fn dir(&self) -> &Path {
        &self.dir
    }
    pub fn config(&self) -> &LogConfig {
        &self.config
    }
    pub fn log_start_offset(&self) -> i64 {
        self.log_start_offset
    }
    pub fn log_end_offset(&self) -> i64 {
        self.segments.active().next_offset()
    }
    pub fn recovery_point(&self) -> i64 {
        self.recovery_point
    }
    pub fn unflushed_messages(&self) -> i64 {
        self.unflushed_messages
    }
    pub fn last_flush_ms(&self) -> i64 {
        self.last_flush_ms
    }
    pub fn size_in_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.size()).sum()
    }
    pub fn segments(&self) -> &Segments {
        &self.segments
    }
    pub fn leader_epochs(&self) -> &LeaderEpochCache {
        &self.epochs
    }
    pub fn leader_epochs_mut(&mut self) -> &mut LeaderEpochCache {
        &mut self.epochs
    }

    pub(super) fn check_open(&self) -> Result<()> {
        if self.closed {
            return Err(StorageError::Closed(self.dir.clone()));
        }
        Ok(())
    }

    pub fn update_config(&mut self, config: LogConfig) -> Result<()> {
        config.validate()?;
        self.config = config;
        for s in self.segments.iter_mut() {
            s.index_interval_bytes = config.index_interval_bytes;
        }
        Ok(())
    }

    /// Appends already validated, offset-assigned batches. `last_offset`,
    /// when given, must match the last batch. Does not fsync: see
    /// `AppendInfo::rolled` / `flush_needed`.
    pub fn append(
        &mut self,
        data: &[u8],
        last_offset: Option<i64>,
        now_ms: i64,
    ) -> Result<AppendInfo> {
        self.check_open()?;
        let batches = parse_batches(data)?;
        let leo = self.log_end_offset();
        let mut expected = leo;
        for b in &batches {
            if b.base_offset < expected || b.last_offset < b.base_offset {
                return Err(StorageError::InvalidAppend(format!(
                    "batch offsets {}..={} do not follow offset {} (log end offset {leo})",
                    b.base_offset,
                    b.last_offset,
                    expected - 1
                )));
            }
            expected = b.last_offset + 1;
        }
        let first = batches[0].base_offset;
        let last = expected - 1;
        if last_offset.is_some_and(|l| l != last) {
            return Err(StorageError::InvalidAppend(format!(
                "declared last offset {} but the batches end at {last}",
                last_offset.unwrap_or_default()
            )));
        }
        if data.len() as u64 > self.config.segment_bytes {
            return Err(RecordError::TooLarge {
                size: data.len(),
                max: self.config.segment_bytes as usize,
            }
            .into());
        }
        if last - first > u32::MAX as i64 {
            return Err(StorageError::InvalidAppend(format!(
                "offsets {first}..={last} span more than a segment can index"
            )));
        }
        let rolled =
            self.segments
                .active()
                .should_roll(&batches, data.len() as u64, &self.config, now_ms);
        if rolled || (self.segments.active().is_empty() && first > leo) {
            // An empty active segment is replaced at the first offset, so
            // its base stays the offset of its first batch.
            self.roll(Some(first), now_ms)?;
        }
        let active = self.segments.active_mut();
        let position = active.append(data, &batches)?;
        let segment_base_offset = active.base_offset();
        let (mut max_ts, mut max_off) = (-1, first);
        let mut records = 0i64;
        for b in &batches {
            if b.max_timestamp > max_ts {
                (max_ts, max_off) = (b.max_timestamp, b.last_offset);
            }
            records += b.records_count.max(0) as i64;
            let newer = self
                .epochs
                .latest_epoch()
                .is_none_or(|e| b.partition_leader_epoch > e);
            if b.partition_leader_epoch >= 0 && newer {
                self.epochs
                    .assign(b.partition_leader_epoch, b.base_offset)?;
            }
        }
        self.unflushed_messages += records;
        Ok(AppendInfo {
            first_offset: first,
            last_offset: last,
            max_timestamp: max_ts,
            offset_of_max_timestamp: max_off,
            records,
            segment_base_offset,
            position,
            rolled,
            flush_needed: self.unflushed_messages >= self.config.flush_messages,
        })
    }

    /// Starts a new active segment at `new_base` (default: the log end
    /// offset). An empty active segment is replaced instead.
    pub fn roll(&mut self, new_base: Option<i64>, now_ms: i64) -> Result<i64> {
        self.check_open()?;
        let leo = self.log_end_offset();
        let base = new_base.unwrap_or(leo);
        if base < leo {
            return Err(StorageError::InvalidArgument(format!(
                "cannot roll at {base}, below the log end offset {leo}"
            )));
        }
        let active = self.segments.active_mut();
        if active.is_empty() {
            if active.base_offset() == base {
                return Ok(base);
            }
            let old = active.base_offset();
            let mut seg = self.segments.remove(old).expect("active exists");
            seg.delete()?;
        } else {
            active.on_become_inactive()?;
        }
        self.segments
            .insert(LogSegment::create(&self.dir, base, &self.config, now_ms)?);
        self.dir_dirty = true;
        Ok(base)
    }
}
