//! Walking a run of concatenated batches (a fetch response, a segment
//! slice, a produce payload) read-only, and the records of each batch with
//! their absolute offsets and timestamps.
//!
//! Errors carry the batch index and byte position
//! ([`RecordError::InBatch`]).

use std::borrow::Cow;

use super::header::{verify_crc, BatchHeader};
use super::records::{checked_count, records_section, Record, RecordIter};
use super::RecordError;

/// One batch inside a larger buffer.
#[derive(Debug, Clone, Copy)]
pub struct BatchRef<'a> {
    pub index: usize,
    /// Byte position of the batch in the walked buffer.
    pub position: usize,
    pub header: BatchHeader,
    /// The whole batch, header included.
    pub bytes: &'a [u8],
}

/// How to walk: whether to check CRCs, and whether an incomplete last
/// batch ends the walk quietly (fetch responses may cut the last batch)
/// instead of being an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkOptions {
    pub verify_crc: bool,
    pub allow_partial_tail: bool,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            verify_crc: true,
            allow_partial_tail: false,
        }
    }
}

pub struct BatchIter<'a> {
    buf: &'a [u8],
    pos: usize,
    index: usize,
    opts: WalkOptions,
    done: bool,
}

impl<'a> BatchIter<'a> {
    pub fn new(buf: &'a [u8], opts: WalkOptions) -> Self {
        BatchIter {
            buf,
            pos: 0,
            index: 0,
            opts,
            done: false,
        }
    }

    fn read_one(&self, rest: &'a [u8]) -> Result<Option<BatchRef<'a>>, RecordError> {
        let partial = match BatchHeader::peek_size(rest) {
            Ok((_, total)) => total > rest.len(),
            Err(RecordError::Truncated { .. }) => true,
            Err(e) => return Err(e),
        };
        if partial && self.opts.allow_partial_tail {
            return Ok(None);
        }
        let header = BatchHeader::parse(rest)?;
        let bytes = &rest[..header.total_size()];
        if self.opts.verify_crc {
            verify_crc(bytes)?;
        }
        Ok(Some(BatchRef {
            index: self.index,
            position: self.pos,
            header,
            bytes,
        }))
    }
}

impl<'a> Iterator for BatchIter<'a> {
    type Item = Result<BatchRef<'a>, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos == self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.pos..];
        match self.read_one(rest) {
            Ok(Some(b)) => {
                self.pos += b.bytes.len();
                self.index += 1;
                Some(Ok(b))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e.in_batch(self.index, self.pos)))
            }
        }
    }
}

/// A batch's records section (decompressed if needed) and its checked count.
pub struct BatchRecords<'a> {
    section: Cow<'a, [u8]>,
    count: usize,
}

impl<'a> BatchRecords<'a> {
    pub fn read(batch: &BatchRef<'a>, max_decompressed: usize) -> Result<Self, RecordError> {
        let wrap = |e: RecordError| e.in_batch(batch.index, batch.position);
        let section =
            records_section(batch.bytes, &batch.header, max_decompressed).map_err(wrap)?;
        let count = checked_count(&batch.header, section.len()).map_err(wrap)?;
        Ok(BatchRecords { section, count })
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// Bytes of the (decompressed) records section.
    pub fn section_len(&self) -> usize {
        self.section.len()
    }

    pub fn iter(&self) -> RecordIter<'_> {
        RecordIter::new(&self.section, self.count)
    }
}

/// Absolute offset of a record of `header`.
#[inline]
pub fn record_offset(header: &BatchHeader, r: &Record<'_>) -> i64 {
    header.base_offset.wrapping_add(i64::from(r.offset_delta))
}

/// Timestamp of a record of `header`: the batch's `maxTimestamp` under
/// LogAppendTime, else `baseTimestamp + timestampDelta`.
#[inline]
pub fn record_timestamp(header: &BatchHeader, r: &Record<'_>) -> i64 {
    if header.is_log_append_time() {
        header.max_timestamp
    } else {
        header.base_timestamp.wrapping_add(r.timestamp_delta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::builder::{BatchBuilder, BatchOptions};

    fn batch(base_offset: i64, n: usize) -> Vec<u8> {
        let mut b = BatchBuilder::new(BatchOptions {
            base_offset,
            ..Default::default()
        });
        for i in 0..n {
            b.add(10 + i as i64, None, Some(b"v"), &[]).unwrap();
        }
        b.build().unwrap()
    }

    #[test]
    fn walks_batches_and_records() {
        let buf = [batch(0, 2), batch(2, 3)].concat();
        let batches: Vec<_> = BatchIter::new(&buf, WalkOptions::default())
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[1].position, batches[0].bytes.len());
        let recs = BatchRecords::read(&batches[1], 1 << 20).unwrap();
        let offsets: Vec<i64> = recs
            .iter()
            .map(|r| record_offset(&batches[1].header, &r.unwrap()))
            .collect();
        assert_eq!(offsets, vec![2, 3, 4]);
    }

    #[test]
    fn partial_tail_is_an_error_unless_allowed() {
        let full = [batch(0, 2), batch(2, 3)].concat();
        let cut = &full[..full.len() - 5];
        let strict: Vec<_> = BatchIter::new(cut, WalkOptions::default()).collect();
        assert_eq!(strict.len(), 2);
        let err = strict[1].as_ref().unwrap_err();
        assert!(matches!(err.root(), RecordError::Truncated { .. }));
        assert!(err.to_string().starts_with("batch 1 at byte"));
        let lenient = WalkOptions {
            allow_partial_tail: true,
            ..Default::default()
        };
        assert_eq!(
            BatchIter::new(cut, lenient).filter(|b| b.is_ok()).count(),
            1
        );
        assert_eq!(BatchIter::new(&full[..5], lenient).count(), 0);
    }

    #[test]
    fn crc_is_checked_when_asked() {
        let mut buf = batch(0, 2);
        let last = buf.len() - 1;
        buf[last] ^= 0x40;
        let err = BatchIter::new(&buf, WalkOptions::default()).next().unwrap();
        assert!(matches!(
            err.unwrap_err().root(),
            RecordError::CrcMismatch { .. }
        ));
        let no_crc = WalkOptions {
            verify_crc: false,
            ..Default::default()
        };
        assert!(BatchIter::new(&buf, no_crc).next().unwrap().is_ok());
    }
}
