//! Building a RecordBatch v2 from records: encodes each record as it is
//! added, then compresses the records section, writes the 61-byte header
//! and the CRC32C in [`BatchBuilder::build`].
//!
//! Like Kafka's Java producer: `baseTimestamp` is the first record's
//! timestamp (later deltas may be negative), `maxTimestamp` the largest,
//! offset deltas count from 0, and the CRC covers attributes..end.

use super::compression::{compress, Compression};
use super::header::{
    compute_crc, ATTRIBUTES_POS, CONTROL_MASK, CRC_POS, HEADER_SIZE, LOG_OVERHEAD, MAGIC_V2,
    TIMESTAMP_TYPE_MASK, TRANSACTIONAL_MASK,
};
use super::records::Header;
use super::varint::{varint_size, varlong_size, write_varint, write_varlong};
use super::RecordError;

/// Batch-level fields. `Default` is a plain non-idempotent producer's
/// uncompressed CreateTime batch at offset 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOptions {
    pub base_offset: i64,
    pub partition_leader_epoch: i32,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub is_transactional: bool,
    pub is_control: bool,
    pub compression: Compression,
    /// Codec level; `None` uses the codec's Kafka default.
    pub compression_level: Option<i32>,
    /// Timestamp type LogAppendTime instead of CreateTime.
    pub log_append_time: bool,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            base_offset: 0,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            base_sequence: -1,
            is_transactional: false,
            is_control: false,
            compression: Compression::None,
            compression_level: None,
            log_append_time: false,
        }
    }
}

/// Accumulates records for one batch.
#[derive(Debug, Clone)]
pub struct BatchBuilder {
    opts: BatchOptions,
    records: Vec<u8>,
    count: i32,
    base_timestamp: i64,
    max_timestamp: i64,
}

fn len_i32(n: usize, what: &str) -> Result<i32, RecordError> {
    i32::try_from(n).map_err(|_| RecordError::InvalidRecord(format!("{what} of {n} bytes")))
}

fn nullable_size(b: Option<&[u8]>) -> usize {
    match b {
        Some(b) => varint_size(b.len() as i32) + b.len(),
        None => 1,
    }
}

fn write_nullable(out: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        Some(b) => {
            write_varint(out, b.len() as i32);
            out.extend_from_slice(b);
        }
        None => write_varint(out, -1),
    }
}

impl BatchBuilder {
    pub fn new(opts: BatchOptions) -> Self {
        BatchBuilder {
            opts,
            records: Vec::new(),
            count: 0,
            base_timestamp: -1,
            max_timestamp: -1,
        }
    }

    pub fn record_count(&self) -> usize {
        self.count as usize
    }

    /// Size of the batch if built uncompressed now.
    pub fn uncompressed_size(&self) -> usize {
        HEADER_SIZE + self.records.len()
    }

    /// Appends one record with the next offset delta.
    pub fn add(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[Header<'_>],
    ) -> Result<(), RecordError> {
        if self.count == i32::MAX {
            return Err(RecordError::InvalidRecord(
                "too many records in one batch".into(),
            ));
        }
        if self.count == 0 {
            self.base_timestamp = timestamp;
            self.max_timestamp = timestamp;
        }
        let ts_delta = timestamp.checked_sub(self.base_timestamp).ok_or_else(|| {
            RecordError::InvalidRecord(format!(
                "timestamp {timestamp} too far from the batch's first {}",
                self.base_timestamp
            ))
        })?;
        for b in [key, value].into_iter().flatten() {
            len_i32(b.len(), "key or value")?;
        }
        let mut size = 1 + varlong_size(ts_delta) + varint_size(self.count);
        size += nullable_size(key) + nullable_size(value);
        size += varint_size(len_i32(headers.len(), "header count")?);
        for h in headers {
            len_i32(h.key.len(), "header key")?;
            if let Some(v) = h.value {
                len_i32(v.len(), "header value")?;
            }
            size += nullable_size(Some(h.key)) + nullable_size(h.value);
        }
        let size = len_i32(size, "record")?;
        let out = &mut self.records;
        out.reserve(size as usize + 5);
        write_varint(out, size);
        out.push(0); // record attributes: unused, always 0
        write_varlong(out, ts_delta);
        write_varint(out, self.count);
        write_nullable(out, key);
        write_nullable(out, value);
        write_varint(out, headers.len() as i32);
        for h in headers {
            write_nullable(out, Some(h.key));
            write_nullable(out, h.value);
        }
        self.count += 1;
        self.max_timestamp = self.max_timestamp.max(timestamp);
        Ok(())
    }

    /// Finishes the batch: compresses, writes the header and the CRC.
    pub fn build(self) -> Result<Vec<u8>, RecordError> {
        if self.count == 0 {
            return Err(RecordError::InvalidRecord(
                "a record batch needs at least one record".into(),
            ));
        }
        let o = &self.opts;
        let body = match o.compression {
            Compression::None => self.records,
            codec => compress(codec, &self.records, o.compression_level)?,
        };
        let batch_length = len_i32(HEADER_SIZE - LOG_OVERHEAD + body.len(), "record batch")?;
        let mut attributes = o.compression.id() as i16;
        if o.log_append_time {
            attributes |= TIMESTAMP_TYPE_MASK;
        }
        if o.is_transactional {
            attributes |= TRANSACTIONAL_MASK;
        }
        if o.is_control {
            attributes |= CONTROL_MASK;
        }
        let mut out = Vec::with_capacity(HEADER_SIZE + body.len());
        out.extend_from_slice(&o.base_offset.to_be_bytes());
        out.extend_from_slice(&batch_length.to_be_bytes());
        out.extend_from_slice(&o.partition_leader_epoch.to_be_bytes());
        out.push(MAGIC_V2 as u8);
        out.extend_from_slice(&[0; 4]); // CRC, filled below
        debug_assert_eq!(out.len(), ATTRIBUTES_POS);
        out.extend_from_slice(&attributes.to_be_bytes());
        out.extend_from_slice(&(self.count - 1).to_be_bytes());
        out.extend_from_slice(&self.base_timestamp.to_be_bytes());
        out.extend_from_slice(&self.max_timestamp.to_be_bytes());
        out.extend_from_slice(&o.producer_id.to_be_bytes());
        out.extend_from_slice(&o.producer_epoch.to_be_bytes());
        out.extend_from_slice(&o.base_sequence.to_be_bytes());
        out.extend_from_slice(&self.count.to_be_bytes());
        debug_assert_eq!(out.len(), HEADER_SIZE);
        out.extend_from_slice(&body);
        let crc = compute_crc(&out);
        out[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::header::{verify_crc, BatchHeader};
    use crate::record::records::{records_section, RecordIter};

    #[test]
    fn builds_a_valid_batch_for_every_codec() {
        for id in 0..=4u8 {
            let opts = BatchOptions {
                base_offset: 100,
                producer_id: 7,
                producer_epoch: 2,
                base_sequence: 40,
                is_transactional: true,
                compression: Compression::from_id(id).unwrap(),
                ..Default::default()
            };
            let mut b = BatchBuilder::new(opts);
            let hdr = [Header {
                key: b"h",
                value: Some(b"v"),
            }];
            b.add(1_000, Some(b"k0"), Some(b"v0"), &hdr).unwrap();
            b.add(900, None, None, &[]).unwrap();
            b.add(1_500, Some(b""), Some(&[7u8; 3000]), &[]).unwrap();
            let bytes = b.build().unwrap();
            verify_crc(&bytes).unwrap();
            let h = BatchHeader::parse(&bytes).unwrap();
            assert_eq!(h.total_size(), bytes.len());
            assert_eq!(
                (h.base_offset, h.last_offset_delta, h.records_count),
                (100, 2, 3)
            );
            assert_eq!((h.base_timestamp, h.max_timestamp), (1_000, 1_500));
            assert_eq!(
                (h.producer_id, h.base_sequence, h.last_sequence()),
                (7, 40, 42)
            );
            assert!(h.is_transactional() && !h.is_control());
            assert_eq!(h.compression(), id);
            let body = records_section(&bytes, &h, 1 << 20).unwrap();
            let recs: Vec<_> = RecordIter::new(&body, 3).collect::<Result<_, _>>().unwrap();
            assert_eq!(recs[1].timestamp_delta, -100);
            assert_eq!(recs[1].key, None);
            assert_eq!(recs[2].key, Some(&b""[..]));
            assert_eq!(recs[2].offset_delta, 2);
            assert_eq!(recs[0].headers().next().unwrap(), hdr[0]);
        }
    }

    #[test]
    fn empty_batch_and_bad_levels_are_refused() {
        assert!(BatchBuilder::new(BatchOptions::default()).build().is_err());
        let mut b = BatchBuilder::new(BatchOptions {
            compression: Compression::Gzip,
            compression_level: Some(42),
            ..Default::default()
        });
        b.add(0, None, Some(b"x"), &[]).unwrap();
        assert!(b.build().is_err());
    }

    #[test]
    fn extreme_timestamp_delta_is_an_error() {
        let mut b = BatchBuilder::new(BatchOptions::default());
        b.add(i64::MIN, None, None, &[]).unwrap();
        assert!(b.add(i64::MAX, None, None, &[]).is_err());
        assert_eq!(b.record_count(), 1);
    }
}
