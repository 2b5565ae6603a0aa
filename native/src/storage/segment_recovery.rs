//! Bringing one segment back after a restart (Kafka's `LogSegment.recover`
//! plus the index sanity checks of `LogLoader`).
//!
//! Three ways in, chosen by the loader from the recovery point (RP):
//! - `load_trusted`: the whole segment is below RP (flushed). Indexes are
//!   sanity-checked, never trusted blindly; a missing or failing index is
//!   rebuilt by a full re-validation.
//! - `recover_after(rp)`: the segment holding RP. Headers are walked from
//!   the index entry below RP up to the batch holding RP; everything from
//!   there is re-validated with CRCs and the indexes rebuilt.
//! - `recover_from(0)`: segments above RP are re-validated whole.
//!
//! Re-validation stops at the first batch whose length, magic, CRC or
//! offsets are wrong and cuts the file there.

use std::sync::Arc;

use crate::record::header::verify_crc;
use crate::record::RecordError;

use super::batch_reader::{BatchWalker, HeaderCursor};
use super::config::LogConfig;
use super::error::{IoContext, Result, StorageError};
use super::segment::LogSegment;

/// What recovery did to one segment.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SegmentRecovery {
    pub validated_bytes: u64,
    /// `(position, bytes dropped, reason)` when the tail was cut.
    pub truncation: Option<(u64, u64, String)>,
    /// Why the indexes were rebuilt from scratch, if they were.
    pub index_rebuilt: Option<String>,
}

impl LogSegment {
    /// Loads a segment wholly below the recovery point.
    pub(super) fn load_trusted(
        &mut self,
        index_existed: bool,
        config: &LogConfig,
        active: bool,
    ) -> Result<Option<SegmentRecovery>> {
        let why = if !index_existed {
            Some("index file missing".to_string())
        } else {
            let dropped_o = self.offset_index.sanitize(self.size);
            let dropped_t = self.time_index.sanitize(i64::MAX);
            let stray =
                |n: usize, what: &str| (n > 0).then(|| format!("{n} invalid {what} entries"));
            stray(dropped_o, "offset index").or(stray(dropped_t, "time index"))
        };
        let why = match why {
            Some(w) => Some(w),
            None => match self.reload_tail_state() {
                Ok(()) => None,
                Err(StorageError::Corrupt { reason, .. }) => Some(reason),
                Err(e) => return Err(e),
            },
        };
        match why {
            None => {
                if !active {
                    self.offset_index.file_mut().trim_to_valid()?;
                    self.time_index.file_mut().trim_to_valid()?;
                }
                Ok(None)
            }
            Some(reason) => {
                let mut r = self.recover_from(0, config, active)?;
                r.index_rebuilt = Some(reason);
                Ok(Some(r))
            }
        }
    }

    /// Recovers the segment holding the recovery point `rp`: trusts what is
    /// below it, re-validates the rest.
    pub(super) fn recover_after(
        &mut self,
        rp: i64,
        index_existed: bool,
        config: &LogConfig,
        active: bool,
    ) -> Result<SegmentRecovery> {
        if !index_existed {
            let mut r = self.recover_from(0, config, active)?;
            r.index_rebuilt = Some("index file missing".to_string());
            return Ok(r);
        }
        self.offset_index.sanitize(self.size);
        self.time_index.sanitize(rp);
        self.offset_index.truncate_to(rp);
        self.time_index.truncate_to(rp);
        let (_, start) = self.offset_index.last_entry();
        match self.walk_headers_to(rp, start)? {
            Some(p) => self.recover_from(p, config, active),
            None => {
                // The index pointed somewhere that is not a batch: distrust it.
                let mut r = self.recover_from(0, config, active)?;
                r.index_rebuilt = Some("index entry does not point at a batch".to_string());
                Ok(r)
            }
        }
    }

    /// Walks headers (no CRC) from `start` to the first batch whose last
    /// offset is `>= rp`, a bad header or the end, updating the tail state
    /// on the way. `None` if the very first header read from a non-zero
    /// index position is bad.
    fn walk_headers_to(&mut self, rp: i64, start: u64) -> Result<Option<u64>> {
        let entries = self.offset_index.entries();
        self.next_offset = if entries > 0 {
            self.offset_index.last_entry().0 + 1
        } else {
            self.base_offset
        };
        (self.max_timestamp, self.offset_of_max_timestamp) = self
            .time_index
            .last_entry()
            .unwrap_or((-1, self.base_offset));
        let log = Arc::clone(&self.log);
        let path = self.log_path.clone();
        let mut cur = HeaderCursor::new(&log, &path, self.size, usize::MAX);
        self.first_batch_timestamp = None;
        if let Some(Ok(b)) = cur.header(0)? {
            self.first_batch_timestamp = Some(b.max_timestamp);
        }
        self.bytes_since_last_index_entry = 0;
        let mut pos = start;
        loop {
            match cur.header(pos)? {
                Some(Ok(b)) if b.last_offset < rp => {
                    if b.max_timestamp > self.max_timestamp {
                        self.max_timestamp = b.max_timestamp;
                        self.offset_of_max_timestamp = b.last_offset;
                    }
                    self.bytes_since_last_index_entry += b.size;
                    self.next_offset = b.last_offset + 1;
                    pos += b.size;
                }
                Some(Err(_)) if pos == start && start > 0 => return Ok(None),
                _ => return Ok(Some(pos)),
            }
        }
    }

    /// Re-validates every batch from `from_pos` (a batch boundary whose
    /// preceding state is loaded; 0 resets everything), rebuilding index
    /// entries, and cuts the file at the first invalid batch.
    pub(super) fn recover_from(
        &mut self,
        from_pos: u64,
        config: &LogConfig,
        active: bool,
    ) -> Result<SegmentRecovery> {
        if from_pos == 0 {
            self.offset_index.reset();
            self.time_index.reset();
            self.max_timestamp = -1;
            self.offset_of_max_timestamp = self.base_offset;
            self.first_batch_timestamp = None;
            self.next_offset = self.base_offset;
            self.bytes_since_last_index_entry = 0;
        }
        self.on_become_active(config)?;
        let log = Arc::clone(&self.log);
        let path = self.log_path.clone();
        let mut walker = BatchWalker::new(&log, &path, from_pos, self.size);
        let mut reason = None;
        while let Some(item) = walker.next_batch()? {
            let (pos, info, bytes) = match item {
                Ok(x) => x,
                Err(e) => {
                    if let (0, RecordError::UnsupportedMagic(m)) = (walker.position(), &e) {
                        return Err(StorageError::NotASegment {
                            path,
                            reason: format!(
                                "first batch has magic {m}; only v2 segments are supported"
                            ),
                        });
                    }
                    reason = Some(e.to_string());
                    break;
                }
            };
            if let Err(e) = verify_crc(bytes) {
                reason = Some(e.to_string());
                break;
            }
            if info.base_offset < self.next_offset
                || info.last_offset - self.base_offset > u32::MAX as i64
            {
                reason = Some(format!(
                    "batch offsets {}..={} out of order (expected >= {})",
                    info.base_offset, info.last_offset, self.next_offset
                ));
                break;
            }
            self.note_batch(pos, &info)?;
        }
        let valid_end = walker.position();
        let mut out = SegmentRecovery {
            validated_bytes: valid_end - from_pos,
            ..Default::default()
        };
        if valid_end < self.size {
            let dropped = self.size - valid_end;
            self.log.set_len(valid_end).at(&self.log_path)?;
            self.size = valid_end;
            let why = reason.unwrap_or_else(|| "torn tail".to_string());
            out.truncation = Some((valid_end, dropped, why));
        }
        if !active {
            self.offset_index.file_mut().trim_to_valid()?;
            self.time_index.file_mut().trim_to_valid()?;
        }
        Ok(out)
    }
}
