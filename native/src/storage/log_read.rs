//! Reading a log: fetch ranges, offset lookups, and offsets by timestamp
//! (ListOffsets). All take `&self`: readers share the log's read lock.

use crate::record::batches::{
    record_offset, record_timestamp, BatchIter, BatchRecords, WalkOptions,
};

use super::batch_reader::BatchInfo;
use super::error::{Result, StorageError};
use super::log::{Log, LogSlice};
use super::segment::LogSegment;

/// Bound on a batch's decompressed records when looking inside it for a
/// timestamp (the batch itself is bounded by the segment).
const MAX_DECOMPRESSED: usize = 256 << 20;

impl Log {
    /// Whole batches from the one holding `start_offset` (Kafka fetch
    /// semantics): at most `max_bytes` unless the first batch is larger,
    /// none at or past `max_offset`, all from one segment. `None` when there
    /// is nothing to return yet.
    pub fn read(
        &self,
        start_offset: i64,
        max_bytes: u64,
        max_offset: Option<i64>,
    ) -> Result<Option<LogSlice>> {
        self.check_open()?;
        self.check_range(start_offset)?;
        if start_offset == self.log_end_offset() || max_offset.is_some_and(|m| m <= start_offset) {
            return Ok(None);
        }
        for seg in self.segments.from_floor(start_offset) {
            if max_offset.is_some_and(|m| seg.base_offset() >= m) {
                break;
            }
            if let Some(r) = seg.read(start_offset, max_bytes, max_offset)? {
                return Ok(Some(LogSlice {
                    file: seg.log_file(),
                    path: seg.log_path().to_path_buf(),
                    position: r.position,
                    length: r.length,
                    first_offset: r.first_offset,
                }));
            }
        }
        Ok(None)
    }

    pub(super) fn check_range(&self, offset: i64) -> Result<()> {
        let (start, end) = (self.log_start_offset, self.log_end_offset());
        if offset < start || offset > end {
            return Err(StorageError::OffsetOutOfRange {
                offset,
                log_start_offset: start,
                log_end_offset: end,
            });
        }
        Ok(())
    }

    /// `(segment base offset, position)` of the batch holding `offset`.
    pub fn lookup(&self, offset: i64) -> Result<Option<(i64, u64)>> {
        self.check_open()?;
        self.check_range(offset)?;
        for seg in self.segments.from_floor(offset) {
            if let Some((pos, _)) = seg.translate_offset(offset, 0)? {
                return Ok(Some((seg.base_offset(), pos)));
            }
        }
        Ok(None)
    }

    /// The first batch whose max timestamp is `>= timestamp`, at or after
    /// the log start offset: `(segment, position, header)`.
    pub fn find_batch_by_timestamp(
        &self,
        timestamp: i64,
    ) -> Result<Option<(&LogSegment, u64, BatchInfo)>> {
        self.check_open()?;
        for seg in self.segments.iter() {
            if seg.max_timestamp() < timestamp || seg.next_offset() <= self.log_start_offset {
                continue;
            }
            if let Some((pos, b)) = seg.find_batch_by_timestamp(timestamp, self.log_start_offset)? {
                return Ok(Some((seg, pos, b)));
            }
        }
        Ok(None)
    }

    /// `(max timestamp, offset of the batch holding it)`, or `(-1, -1)`.
    pub fn max_timestamp_and_offset(&self) -> (i64, i64) {
        self.segments
            .iter()
            .filter(|s| s.max_timestamp() >= 0)
            .map(|s| (s.max_timestamp(), s.offset_of_max_timestamp()))
            .fold((-1, -1), |acc, x| if x.0 > acc.0 { x } else { acc })
    }

    /// ListOffsets: `(offset, timestamp)` of the first record at or after
    /// the log start offset whose timestamp is `>= timestamp`, or `None`.
    /// Decodes only the one batch the indexes lead to.
    pub fn offset_for_timestamp(&self, timestamp: i64) -> Result<Option<(i64, i64)>> {
        let Some((seg, pos, info)) = self.find_batch_by_timestamp(timestamp)? else {
            return Ok(None);
        };
        let bytes = seg.read_bytes(pos, info.size)?;
        let corrupt = |reason: String| StorageError::Corrupt {
            path: seg.log_path().to_path_buf(),
            position: pos,
            reason,
        };
        let opts = WalkOptions {
            verify_crc: false,
            allow_partial_tail: false,
        };
        let batch = match BatchIter::new(&bytes, opts).next() {
            Some(Ok(b)) => b,
            Some(Err(e)) => return Err(corrupt(e.to_string())),
            None => return Err(corrupt("empty batch".into())),
        };
        let records =
            BatchRecords::read(&batch, MAX_DECOMPRESSED).map_err(|e| corrupt(e.to_string()))?;
        for r in records.iter() {
            let r = r.map_err(|e| corrupt(e.to_string()))?;
            let (off, ts) = (
                record_offset(&batch.header, &r),
                record_timestamp(&batch.header, &r),
            );
            if ts >= timestamp && off >= self.log_start_offset {
                return Ok(Some((off, ts)));
            }
        }
        // maxTimestamp promised a record that is not there: say so rather
        // than skip ahead.
        Err(corrupt(format!(
            "no record reaches the batch's max timestamp {}",
            info.max_timestamp
        )))
    }
}
