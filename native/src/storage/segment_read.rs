//! Reading one segment: header walks from the index, offset translation,
//! fetch ranges and the batch for a timestamp. All `&self`.

use std::os::unix::fs::FileExt;

use crate::record::header::HEADER_SIZE;

use super::batch_reader::{BatchInfo, HeaderCursor};
use super::error::{IoContext, Result, StorageError};
use super::segment::{LogSegment, SegmentRead};

impl LogSegment {
    pub(super) fn corrupt(&self, position: u64, reason: String) -> StorageError {
        StorageError::Corrupt {
            path: self.log_path.clone(),
            position,
            reason,
        }
    }

    /// A cursor for header walks over this segment.
    pub fn cursor(&self) -> HeaderCursor<'_> {
        let walk = self.index_interval_bytes as usize + 2 * HEADER_SIZE;
        let cur = HeaderCursor::new(&self.log, &self.log_path, self.size, walk);
        match &self.read_map {
            Some(m) => cur.with_map(m),
            None => cur,
        }
    }

    /// Header of the batch at `pos` through `cur`; `None` at the end.
    pub fn header_at(&self, cur: &mut HeaderCursor<'_>, pos: u64) -> Result<Option<BatchInfo>> {
        match cur.header(pos)? {
            None => Ok(None),
            Some(Ok(b)) => Ok(Some(b)),
            Some(Err(e)) => Err(self.corrupt(pos, e.to_string())),
        }
    }

    /// Position and header of the first batch at or after `from_pos` whose
    /// last offset is `>= offset`, starting from the index.
    pub fn translate_offset(&self, offset: i64, from_pos: u64) -> Result<Option<(u64, BatchInfo)>> {
        let mut cur = self.cursor();
        let mut pos = self.offset_index.lookup(offset).1.max(from_pos);
        while let Some(b) = self.header_at(&mut cur, pos)? {
            if b.last_offset >= offset {
                return Ok(Some((pos, b)));
            }
            pos += b.size;
        }
        Ok(None)
    }

    /// Whole batches from the one holding `start_offset`: at most
    /// `max_bytes` unless the first batch alone is larger, and none whose
    /// last offset is `>= max_offset`. `None` if no batch qualifies.
    pub fn read(
        &self,
        start_offset: i64,
        max_bytes: u64,
        max_offset: Option<i64>,
    ) -> Result<Option<SegmentRead>> {
        let Some((start, first)) = self.translate_offset(start_offset, 0)? else {
            return Ok(None);
        };
        let hard_end = match max_offset {
            Some(m) if first.last_offset >= m => return Ok(None),
            Some(m) if m < self.next_offset => self
                .translate_offset(m, start)?
                .map_or(self.size, |(p, _)| p),
            _ => self.size,
        };
        let limit = start.saturating_add(max_bytes);
        let end = if limit >= hard_end {
            hard_end
        } else {
            let mut cur = self.cursor();
            let mut p = self.offset_index.lookup_position(limit).1.max(start);
            while let Some(b) = self.header_at(&mut cur, p)? {
                if p + b.size > limit {
                    break;
                }
                p += b.size;
            }
            // At least one whole batch, as Kafka's fetch guarantees.
            p.max(start + first.size)
        };
        Ok(Some(SegmentRead {
            position: start,
            length: end - start,
            first_offset: first.base_offset,
        }))
    }

    /// Kafka's `findOffsetByTimestamp` at batch granularity: the first batch
    /// at or after `start_offset` whose max timestamp is `>= timestamp`.
    pub fn find_batch_by_timestamp(
        &self,
        timestamp: i64,
        start_offset: i64,
    ) -> Result<Option<(u64, BatchInfo)>> {
        let (_, ts_offset) = self.time_index.lookup(timestamp);
        let mut cur = self.cursor();
        let mut pos = self.offset_index.lookup(ts_offset.max(start_offset)).1;
        while let Some(b) = self.header_at(&mut cur, pos)? {
            if b.max_timestamp >= timestamp && b.last_offset >= start_offset {
                return Ok(Some((pos, b)));
            }
            pos += b.size;
        }
        Ok(None)
    }

    /// Reads `len` bytes at `pos` (bounded by the segment).
    pub fn read_bytes(&self, pos: u64, len: u64) -> Result<Vec<u8>> {
        let len = len.min(self.size.saturating_sub(pos)) as usize;
        let mut buf = vec![0u8; len];
        self.log.read_exact_at(&mut buf, pos).at(&self.log_path)?;
        Ok(buf)
    }
}
