//! Removing data from a log: truncation from the end (replication's
//! `truncate_to`, `truncate_fully_and_start_at`), moving the log start
//! offset (`delete_records`), and retention by time, size and log start
//! offset (Kafka's `deleteOldSegments`), always by whole segments.

use super::error::{Result, StorageError};
use super::log::Log;
use super::segment::LogSegment;

/// What a retention pass removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RetentionResult {
    pub deleted_segments: Vec<i64>,
    pub deleted_bytes: u64,
    pub log_start_offset: i64,
}

impl Log {
    /// Removes everything at and after `offset` (the whole batch holding it).
    /// Returns whether anything was removed.
    pub fn truncate_to(&mut self, offset: i64, now_ms: i64) -> Result<bool> {
        self.check_open()?;
        if offset < 0 {
            return Err(StorageError::InvalidArgument(format!(
                "truncate to {offset}"
            )));
        }
        if offset >= self.log_end_offset() {
            return Ok(false);
        }
        if self
            .segments
            .first()
            .is_some_and(|s| s.base_offset() > offset)
        {
            self.truncate_fully_and_start_at(offset, now_ms)?;
            return Ok(true);
        }
        self.truncations += 1;
        let later: Vec<i64> = self
            .segments
            .bases()
            .into_iter()
            .filter(|&b| b > offset)
            .collect();
        let was_active = later.is_empty();
        for b in later {
            if let Some(mut s) = self.segments.remove(b) {
                s.delete()?;
            }
        }
        let active = self.segments.active_mut();
        active.truncate_to(offset)?;
        // Kafka keeps the log end offset at the target even when the batch
        // holding it went: the next append starts there.
        active.next_offset = offset;
        if !was_active {
            active.on_become_active(&self.config)?;
        }
        self.dir_dirty = true;
        self.recovery_point = self.recovery_point.min(offset);
        self.log_start_offset = self.log_start_offset.min(offset);
        self.epochs.truncate_from_end(offset)?;
        Ok(true)
    }

    /// Deletes every segment and starts empty at `offset` (a follower whose
    /// fetch offset is out of range on the leader).
    pub fn truncate_fully_and_start_at(&mut self, offset: i64, now_ms: i64) -> Result<()> {
        self.check_open()?;
        if offset < 0 {
            return Err(StorageError::InvalidArgument(format!("start at {offset}")));
        }
        self.truncations += 1;
        for b in self.segments.bases() {
            if let Some(mut s) = self.segments.remove(b) {
                s.delete()?;
            }
        }
        self.segments
            .insert(LogSegment::create(&self.dir, offset, &self.config, now_ms)?);
        self.dir_dirty = true;
        self.log_start_offset = offset;
        self.recovery_point = offset;
        self.unflushed_messages = 0;
        self.epochs.clear()?;
        Ok(())
    }

    /// Moves the log start offset to `before_offset` (Kafka's DeleteRecords)
    /// and deletes the segments wholly below it. Returns the log start offset.
    pub fn delete_records(&mut self, before_offset: i64, now_ms: i64) -> Result<i64> {
        self.check_open()?;
        let leo = self.log_end_offset();
        if before_offset > leo || before_offset < 0 {
            return Err(StorageError::OffsetOutOfRange {
                offset: before_offset,
                log_start_offset: self.log_start_offset,
                log_end_offset: leo,
            });
        }
        if before_offset > self.log_start_offset {
            self.log_start_offset = before_offset;
            self.epochs.truncate_from_start(before_offset)?;
            self.enforce_retention(now_ms, None, false)?;
        }
        Ok(self.log_start_offset)
    }

    /// Deletes old segments, oldest first, while they break `retention.ms`,
    /// `retention.bytes` or lie below the log start offset. Only segments
    /// wholly below `high_watermark` (default: log end offset) go; the
    /// active segment goes only if non-empty (a new one is rolled first).
    /// `by_config` false applies the log start offset alone.
    pub fn enforce_retention(
        &mut self,
        now_ms: i64,
        high_watermark: Option<i64>,
        by_config: bool,
    ) -> Result<RetentionResult> {
        self.check_open()?;
        let leo = self.log_end_offset();
        let hw = high_watermark.unwrap_or(leo).min(leo);
        let mut excess = match self.config.retention_bytes {
            r if r >= 0 && by_config => self.size_in_bytes() as i64 - r,
            _ => i64::MIN,
        };
        let retention_ms = if by_config {
            self.config.retention_ms
        } else {
            -1
        };
        let mut doomed = Vec::new();
        for seg in self.segments.iter() {
            let upper = self.segments.next_base(seg.base_offset()).unwrap_or(leo);
            let last_and_empty = upper == leo && seg.is_empty();
            if upper > hw || last_and_empty {
                break;
            }
            let by_start = upper <= self.log_start_offset;
            let by_time = retention_ms >= 0 && now_ms - seg.largest_timestamp() > retention_ms;
            let by_size = excess != i64::MIN && excess - seg.size() as i64 >= 0;
            if !(by_start || by_time || by_size) {
                break;
            }
            if by_size {
                excess -= seg.size() as i64;
            }
            doomed.push(seg.base_offset());
        }
        let mut out = RetentionResult::default();
        if doomed.len() == self.segments.len() {
            self.roll(None, now_ms)?;
        }
        for b in doomed {
            if let Some(mut s) = self.segments.remove(b) {
                out.deleted_bytes += s.size();
                s.delete()?;
                out.deleted_segments.push(b);
            }
        }
        if !out.deleted_segments.is_empty() {
            self.dir_dirty = true;
            let first = self.segments.first().map_or(leo, |s| s.base_offset());
            if first > self.log_start_offset {
                self.log_start_offset = first;
                self.epochs.truncate_from_start(first)?;
            }
            // Whatever lay below the first remaining segment is gone, so
            // there is nothing left there to recover.
            self.recovery_point = self.recovery_point.max(first.min(leo));
        }
        out.log_start_offset = self.log_start_offset;
        Ok(out)
    }
}
