//! Reading batch headers and whole batches out of a `.log` file without
//! trusting it: every size field is checked against the bytes that exist
//! before anything is allocated or skipped.
//!
//! `HeaderCursor` is for short walks (translate an offset, find a read's
//! end); `BatchWalker` reads sequentially in large chunks for recovery and
//! index rebuilding, yielding whole batches so their CRC can be checked.

use std::cell::Cell;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use crate::record::header::{
    BatchHeader, BASE_TIMESTAMP_POS, HEADER_SIZE, LAST_OFFSET_DELTA_POS, MAGIC_POS, MAGIC_V2,
    MAX_TIMESTAMP_POS, PARTITION_LEADER_EPOCH_POS, RECORDS_COUNT_POS,
};
use crate::record::RecordError;

use super::error::{IoContext, Result};

/// The header fields the log needs, read from the first 61 bytes of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchInfo {
    pub base_offset: i64,
    pub last_offset: i64,
    /// Bytes the batch occupies (`batchLength + 12`).
    pub size: u64,
    pub max_timestamp: i64,
    pub base_timestamp: i64,
    pub records_count: i32,
    pub partition_leader_epoch: i32,
    pub attributes: i16,
}

fn be_i64(b: &[u8], p: usize) -> i64 {
    i64::from_be_bytes(b[p..p + 8].try_into().unwrap())
}
fn be_i32(b: &[u8], p: usize) -> i32 {
    i32::from_be_bytes(b[p..p + 4].try_into().unwrap())
}

impl BatchInfo {
    /// Decodes a header from `head` (at least 61 bytes), checking the size
    /// field, the magic byte and that the batch fits in `available` bytes.
    pub fn parse(head: &[u8], available: u64) -> std::result::Result<BatchInfo, RecordError> {
        let (base_offset, size) = BatchHeader::peek_size(head)?;
        if head.len() < HEADER_SIZE {
            return Err(RecordError::Truncated {
                needed: HEADER_SIZE,
                available: head.len(),
            });
        }
        let magic = head[MAGIC_POS] as i8;
        if magic != MAGIC_V2 {
            return Err(RecordError::UnsupportedMagic(magic));
        }
        if size as u64 > available {
            return Err(RecordError::Truncated {
                needed: size,
                available: available as usize,
            });
        }
        let delta = be_i32(head, LAST_OFFSET_DELTA_POS);
        if delta < 0 {
            return Err(RecordError::Corrupt(format!(
                "negative lastOffsetDelta {delta}"
            )));
        }
        Ok(BatchInfo {
            base_offset,
            last_offset: base_offset + delta as i64,
            size: size as u64,
            max_timestamp: be_i64(head, MAX_TIMESTAMP_POS),
            base_timestamp: be_i64(head, BASE_TIMESTAMP_POS),
            records_count: be_i32(head, RECORDS_COUNT_POS),
            partition_leader_epoch: be_i32(head, PARTITION_LEADER_EPOCH_POS),
            attributes: i16::from_be_bytes([head[21], head[22]]),
        })
    }
}

/// Reads headers along a walk with one `pread` per chunk instead of one
/// per batch: index lookups walk up to `index.interval.bytes` of small
/// batches, and syscalls dominate their cost. The buffer is reused per
/// thread, so a lookup does not zero-fill kilobytes either.
pub struct HeaderCursor<'a> {
    file: &'a File,
    path: &'a Path,
    /// The log's read-only map, when it has one: headers come straight
    /// from it, without a syscall.
    mapped: &'a [u8],
    log_size: u64,
    chunk: usize,
    buf: Vec<u8>,
    /// File position of `buf[0]` and the number of valid bytes.
    start: u64,
    len: usize,
}

const MAX_CURSOR_BYTES: usize = 16 << 10;

thread_local! {
    static SPARE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

impl<'a> HeaderCursor<'a> {
    /// `chunk`: bytes per read, ideally the expected length of the walk
    /// (the index interval plus a header); clamped to [61, 16 KiB].
    pub fn new(file: &'a File, path: &'a Path, log_size: u64, chunk: usize) -> Self {
        let mut buf = SPARE.try_with(Cell::take).unwrap_or_default();
        if buf.len() < MAX_CURSOR_BYTES {
            buf = vec![0; MAX_CURSOR_BYTES];
        }
        HeaderCursor {
            file,
            path,
            mapped: &[],
            log_size,
            chunk: chunk.clamp(HEADER_SIZE, MAX_CURSOR_BYTES),
            buf,
            start: 0,
            len: 0,
        }
    }

    /// Serves headers from `mapped` (the first bytes of the log, at most
    /// `log_size`) where it reaches.
    pub fn with_map(mut self, mapped: &'a [u8]) -> Self {
        self.mapped = &mapped[..mapped.len().min(self.log_size as usize)];
        self
    }

    /// The header of the batch at `pos`: `Ok(None)` at the end,
    /// `Ok(Some(Err(_)))` for a bad header.
    pub fn header(
        &mut self,
        pos: u64,
    ) -> Result<Option<std::result::Result<BatchInfo, RecordError>>> {
        if pos >= self.log_size {
            return Ok(None);
        }
        let want = (self.log_size - pos).min(HEADER_SIZE as u64) as usize;
        if pos as usize + want <= self.mapped.len() {
            let at = pos as usize;
            let head = &self.mapped[at..at + want];
            return Ok(Some(BatchInfo::parse(head, self.log_size - pos)));
        }
        let inside = pos >= self.start && pos + want as u64 <= self.start + self.len as u64;
        if !inside {
            let n = (self.log_size - pos).min(self.chunk as u64) as usize;
            self.file
                .read_exact_at(&mut self.buf[..n], pos)
                .at(self.path)?;
            (self.start, self.len) = (pos, n);
        }
        let at = (pos - self.start) as usize;
        Ok(Some(BatchInfo::parse(
            &self.buf[at..at + want],
            self.log_size - pos,
        )))
    }
}

impl Drop for HeaderCursor<'_> {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        // During thread teardown the spare is gone: just free the buffer.
        let _ = SPARE.try_with(|s| s.set(buf));
    }
}

/// Sequential reader of whole batches from `start` to `end`.
pub struct BatchWalker<'a> {
    file: &'a File,
    path: &'a Path,
    /// File position of `buf[0]`.
    buf_pos: u64,
    buf: Vec<u8>,
    /// Next batch starts at `buf[cursor]`.
    cursor: usize,
    end: u64,
}

/// Chunk size of sequential reads: large enough that syscalls vanish in the
/// cost of the CRC, small enough to stay in cache.
const CHUNK: usize = 4 << 20;

impl<'a> BatchWalker<'a> {
    pub fn new(file: &'a File, path: &'a Path, start: u64, end: u64) -> Self {
        BatchWalker {
            file,
            path,
            buf_pos: start,
            buf: Vec::new(),
            cursor: 0,
            end,
        }
    }

    /// Position of the next batch.
    pub fn position(&self) -> u64 {
        self.buf_pos + self.cursor as u64
    }

    /// Ensures `n` bytes from the cursor are buffered (or as many as the
    /// file has); `n` is bounded by the caller against `end`.
    fn fill(&mut self, n: usize) -> Result<()> {
        if self.buf.len() - self.cursor >= n {
            return Ok(());
        }
        self.buf.drain(..self.cursor);
        self.buf_pos += self.cursor as u64;
        self.cursor = 0;
        let have = self.buf.len();
        let file_left = self.end - self.buf_pos - have as u64;
        let want = (n.max(CHUNK) - have).min(file_left as usize);
        self.buf.resize(have + want, 0);
        self.file
            .read_exact_at(&mut self.buf[have..], self.buf_pos + have as u64)
            .at(self.path)
    }

    /// The next batch: `Ok(None)` at `end`, `Ok(Some(Err(_)))` at a batch
    /// whose header or size is invalid (the walk stops there).
    #[allow(clippy::type_complexity)]
    pub fn next_batch(
        &mut self,
    ) -> Result<Option<std::result::Result<(u64, BatchInfo, &[u8]), RecordError>>> {
        let pos = self.position();
        if pos >= self.end {
            return Ok(None);
        }
        let left = self.end - pos;
        self.fill((left as usize).min(HEADER_SIZE))?;
        let head = &self.buf[self.cursor..];
        let info = match BatchInfo::parse(&head[..head.len().min(HEADER_SIZE)], left) {
            Ok(i) => i,
            Err(e) => return Ok(Some(Err(e))),
        };
        // `info.size <= left` was checked: this allocation is bounded by the file.
        self.fill(info.size as usize)?;
        let start = self.cursor;
        self.cursor += info.size as usize;
        Ok(Some(Ok((pos, info, &self.buf[start..self.cursor]))))
    }
}
