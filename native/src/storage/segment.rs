//! One log segment: a `.log` file of whole batches plus its `.index` and
//! `.timeindex` (Kafka's `LogSegment`). Appends, reads, offset and time
//! lookups, truncation, and the hooks for rolling. Reads live in
//! `segment_read.rs`, recovery in `segment_recovery.rs`.
//!
//! Invariants: `size` bytes of the `.log` are whole batches with strictly
//! increasing offsets in `[base_offset, base_offset + u32::MAX]`; index
//! entries point at batch starts below `size`. Not thread-safe: the owning
//! log serializes writers; readers share `&self`.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use memmap2::{Advice, Mmap, MmapOptions};

use super::batch_reader::{BatchInfo, HeaderCursor};
use super::config::LogConfig;
use super::error::{IoContext, Result};
use super::offset_index::OffsetIndex;
use super::time_index::TimeIndex;

pub const LOG_SUFFIX: &str = ".log";
pub const INDEX_SUFFIX: &str = ".index";
pub const TIME_INDEX_SUFFIX: &str = ".timeindex";

/// `<20-digit base offset><suffix>`, Kafka's segment file name.
pub fn file_name(base_offset: i64, suffix: &str) -> String {
    format!("{base_offset:020}{suffix}")
}

/// A whole-batch byte range of a segment, for a fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentRead {
    pub position: u64,
    pub length: u64,
    /// Base offset of the first batch in the range.
    pub first_offset: i64,
}

pub struct LogSegment {
    pub(super) base_offset: i64,
    pub(super) log_path: PathBuf,
    pub(super) log: Arc<File>,
    pub(super) size: u64,
    pub(super) offset_index: OffsetIndex,
    pub(super) time_index: TimeIndex,
    pub(super) index_interval_bytes: u64,
    pub(super) bytes_since_last_index_entry: u64,
    /// Largest batch max timestamp so far, -1 if none.
    pub(super) max_timestamp: i64,
    pub(super) offset_of_max_timestamp: i64,
    /// Max timestamp of the first batch: `segment.ms` counts from it.
    pub(super) first_batch_timestamp: Option<i64>,
    pub(super) created_ms: i64,
    /// Last offset + 1, or `base_offset` when empty.
    pub(super) next_offset: i64,
    /// Read-only map of the `.log` for header walks (lookups without a
    /// syscall). May extend past the end of the file; only `..size` is
    /// ever touched, and `size` shrinks under the log's write lock.
    pub(super) read_map: Option<Mmap>,
}

impl LogSegment {
    /// Opens the three files of the segment at `base_offset` in `dir`,
    /// creating missing ones, without reading the log. `active` preallocates
    /// the indexes. The caller recovers or loads state next.
    pub(super) fn open_files(
        dir: &Path,
        base_offset: i64,
        config: &LogConfig,
        active: bool,
        now_ms: i64,
    ) -> Result<Self> {
        let log_path = dir.join(file_name(base_offset, LOG_SUFFIX));
        let log = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&log_path)
            .at(&log_path)?;
        let size = log.metadata().at(&log_path)?.len();
        let idx_bytes = config.segment_index_bytes;
        let oi = dir.join(file_name(base_offset, INDEX_SUFFIX));
        let ti = dir.join(file_name(base_offset, TIME_INDEX_SUFFIX));
        Ok(LogSegment {
            base_offset,
            log_path,
            log: Arc::new(log),
            size,
            offset_index: OffsetIndex::open(&oi, base_offset, idx_bytes, active)?,
            time_index: TimeIndex::open(&ti, base_offset, idx_bytes, active)?,
            index_interval_bytes: config.index_interval_bytes,
            bytes_since_last_index_entry: 0,
            max_timestamp: -1,
            offset_of_max_timestamp: base_offset,
            first_batch_timestamp: None,
            created_ms: now_ms,
            next_offset: base_offset,
            read_map: None,
        })
    }

    /// (Re)maps the log for header reads, covering at least `len` bytes.
    pub(super) fn map_for_reads(&mut self, len: u64) -> Result<()> {
        let len = len.max(self.size).max(1) as usize;
        self.read_map = None;
        // SAFETY: the map is only read below `size`, which never exceeds
        // the file's length while readers run (truncation takes the write
        // lock); the file is private to this partition directory.
        let map = unsafe { MmapOptions::new().len(len).map(&*self.log) }.at(&self.log_path)?;
        map.advise(Advice::Random).at(&self.log_path)?;
        self.read_map = Some(map);
        Ok(())
    }

    /// A new, empty active segment (any old files of that name are emptied).
    pub fn create(dir: &Path, base_offset: i64, config: &LogConfig, now_ms: i64) -> Result<Self> {
        let mut seg = Self::open_files(dir, base_offset, config, true, now_ms)?;
        seg.log.set_len(0).at(&seg.log_path)?;
        seg.size = 0;
        seg.offset_index.reset();
        seg.time_index.reset();
        seg.map_for_reads(config.segment_bytes)?;
        Ok(seg)
    }

    pub fn base_offset(&self) -> i64 {
        self.base_offset
    }
    pub fn size(&self) -> u64 {
        self.size
    }
    pub fn next_offset(&self) -> i64 {
        self.next_offset
    }
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }
    pub fn max_timestamp(&self) -> i64 {
        self.max_timestamp
    }
    pub fn offset_of_max_timestamp(&self) -> i64 {
        self.offset_of_max_timestamp
    }
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }
    pub fn log_file(&self) -> Arc<File> {
        Arc::clone(&self.log)
    }
    pub fn offset_index(&self) -> &OffsetIndex {
        &self.offset_index
    }
    pub fn time_index(&self) -> &TimeIndex {
        &self.time_index
    }

    /// Kafka's `shouldRoll`: the append would overflow the segment's size,
    /// time span, indexes or 32-bit relative offsets.
    pub fn should_roll(
        &self,
        incoming: &[BatchInfo],
        bytes: u64,
        config: &LogConfig,
        now_ms: i64,
    ) -> bool {
        if self.is_empty() {
            return false;
        }
        let max_ts = incoming.iter().map(|b| b.max_timestamp).max().unwrap_or(-1);
        let waited = match self.first_batch_timestamp {
            Some(t) if t >= 0 && max_ts >= 0 => max_ts - t,
            _ => now_ms - self.created_ms,
        };
        let last = incoming.last().map_or(self.next_offset, |b| b.last_offset);
        self.size + bytes > config.segment_bytes
            || waited > config.segment_ms
            || self.offset_index.is_full()
            || self.time_index.is_full()
            || last - self.base_offset > u32::MAX as i64
    }

    /// Writes `data` (the batches described by `batches`, in order) at the
    /// end and indexes them. Returns the position of the first byte.
    pub fn append(&mut self, data: &[u8], batches: &[BatchInfo]) -> Result<u64> {
        let start = self.size;
        self.log.write_all_at(data, start).at(&self.log_path)?;
        let mut pos = start;
        for b in batches {
            self.note_batch(pos, b)?;
            pos += b.size;
        }
        self.size = pos;
        if self
            .read_map
            .as_ref()
            .is_some_and(|m| (m.len() as u64) < pos)
        {
            self.map_for_reads(pos.saturating_mul(2))?;
        }
        Ok(start)
    }

    /// Updates timestamps, next offset and the sparse indexes for one batch
    /// at `pos` (append and recovery share this).
    pub(super) fn note_batch(&mut self, pos: u64, b: &BatchInfo) -> Result<()> {
        if self.first_batch_timestamp.is_none() && pos == 0 {
            self.first_batch_timestamp = Some(b.max_timestamp);
        }
        if b.max_timestamp > self.max_timestamp {
            self.max_timestamp = b.max_timestamp;
            self.offset_of_max_timestamp = b.last_offset;
        }
        if self.bytes_since_last_index_entry > self.index_interval_bytes {
            // A full index only makes lookups scan further; the log rolls
            // before the next append.
            if !self.offset_index.is_full() {
                self.offset_index.append(b.last_offset, pos)?;
                if !self.time_index.is_full() {
                    self.time_index.maybe_append(
                        self.max_timestamp,
                        self.offset_of_max_timestamp,
                        false,
                    )?;
                }
            }
            self.bytes_since_last_index_entry = 0;
        }
        self.bytes_since_last_index_entry += b.size;
        self.next_offset = b.last_offset + 1;
        Ok(())
    }

    /// Drops every batch from the one holding `offset`; returns bytes removed.
    pub fn truncate_to(&mut self, offset: i64) -> Result<u64> {
        let Some((pos, _)) = self.translate_offset(offset, 0)? else {
            return Ok(0);
        };
        self.offset_index.truncate_to(offset);
        self.time_index.truncate_to(offset);
        let removed = self.size - pos;
        self.log.set_len(pos).at(&self.log_path)?;
        self.size = pos;
        self.reload_tail_state()?;
        Ok(removed)
    }

    /// Recomputes next offset, max timestamp and the index cadence from the
    /// indexes plus a header walk from the last offset index entry.
    pub(super) fn reload_tail_state(&mut self) -> Result<()> {
        let (last_off, mut pos) = self.offset_index.last_entry();
        let entries = self.offset_index.entries();
        self.next_offset = if entries > 0 {
            last_off + 1
        } else {
            self.base_offset
        };
        (self.max_timestamp, self.offset_of_max_timestamp) = self
            .time_index
            .last_entry()
            .unwrap_or((-1, self.base_offset));
        self.bytes_since_last_index_entry = 0;
        let log = Arc::clone(&self.log);
        let path = self.log_path.clone();
        let mut cur = HeaderCursor::new(&log, &path, self.size, usize::MAX);
        while let Some(b) = self.header_at(&mut cur, pos)? {
            if b.max_timestamp > self.max_timestamp {
                self.max_timestamp = b.max_timestamp;
                self.offset_of_max_timestamp = b.last_offset;
            }
            self.bytes_since_last_index_entry += b.size;
            self.next_offset = b.last_offset + 1;
            pos += b.size;
        }
        self.first_batch_timestamp = self.header_at(&mut cur, 0)?.map(|b| b.max_timestamp);
        Ok(())
    }

    /// Leaving the active role: record the final max timestamp and trim the
    /// preallocated indexes (Kafka's `onBecomeInactiveSegment`).
    pub fn on_become_inactive(&mut self) -> Result<()> {
        if self.max_timestamp >= 0 {
            self.time_index
                .maybe_append(self.max_timestamp, self.offset_of_max_timestamp, true)?;
        }
        self.offset_index.file_mut().trim_to_valid()?;
        self.time_index.file_mut().trim_to_valid()
    }

    /// Becoming active again (after truncation): room for new entries.
    pub fn on_become_active(&mut self, config: &LogConfig) -> Result<()> {
        self.offset_index
            .file_mut()
            .resize(config.segment_index_bytes as usize)?;
        self.time_index
            .file_mut()
            .resize(config.segment_index_bytes as usize)
    }

    /// Files to fsync for this segment (fsync also writes back the index
    /// pages dirtied through the map: one page cache on Linux).
    pub fn files(&self) -> [Arc<File>; 3] {
        [
            Arc::clone(&self.log),
            self.offset_index.file().file(),
            self.time_index.file().file(),
        ]
    }

    /// For `retention.ms`: the largest timestamp, or the file's mtime when
    /// the batches carry none (as Kafka does).
    pub fn largest_timestamp(&self) -> i64 {
        if self.max_timestamp >= 0 {
            return self.max_timestamp;
        }
        self.log
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as i64)
    }

    /// Removes the `.log` first, so a crash midway leaves orphan indexes
    /// (cleaned up on load) rather than a log without its index.
    pub fn delete(&mut self) -> Result<()> {
        match std::fs::remove_file(&self.log_path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e).at(&self.log_path),
            _ => {}
        }
        self.offset_index.file_mut().delete()?;
        self.time_index.file_mut().delete()
    }
}
