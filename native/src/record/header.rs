//! The 61-byte RecordBatch v2 header: parsing, CRC32C and in-place rewrites.
//!
//! Layout (big-endian), offsets in bytes:
//! ```text
//!  0 baseOffset i64        27 baseTimestamp i64
//!  8 batchLength i32       35 maxTimestamp i64
//! 12 partitionLeaderEpoch  43 producerId i64
//! 16 magic i8              51 producerEpoch i16
//! 17 crc u32               53 baseSequence i32
//! 21 attributes i16        57 recordsCount i32
//! 23 lastOffsetDelta i32   61 records...
//! ```
//! `batchLength` counts the bytes after itself, so a batch occupies
//! `batchLength + 12` bytes. The CRC32C covers bytes `21..end`.

use super::RecordError;

pub const HEADER_SIZE: usize = 61;
/// Bytes before and including `batchLength` (`baseOffset` + `batchLength`).
pub const LOG_OVERHEAD: usize = 12;
pub const MAGIC_V2: i8 = 2;

pub const BASE_OFFSET_POS: usize = 0;
pub const LENGTH_POS: usize = 8;
pub const PARTITION_LEADER_EPOCH_POS: usize = 12;
pub const MAGIC_POS: usize = 16;
pub const CRC_POS: usize = 17;
pub const ATTRIBUTES_POS: usize = 21;
pub const LAST_OFFSET_DELTA_POS: usize = 23;
pub const BASE_TIMESTAMP_POS: usize = 27;
pub const MAX_TIMESTAMP_POS: usize = 35;
pub const PRODUCER_ID_POS: usize = 43;
pub const PRODUCER_EPOCH_POS: usize = 51;
pub const BASE_SEQUENCE_POS: usize = 53;
pub const RECORDS_COUNT_POS: usize = 57;

pub const COMPRESSION_MASK: i16 = 0x07;
pub const TIMESTAMP_TYPE_MASK: i16 = 0x08;
pub const TRANSACTIONAL_MASK: i16 = 0x10;
pub const CONTROL_MASK: i16 = 0x20;
pub const DELETE_HORIZON_MASK: i16 = 0x40;

/// Smallest legal `batchLength`: the header after the length field.
pub const MIN_BATCH_LENGTH: i32 = (HEADER_SIZE - LOG_OVERHEAD) as i32;

#[inline]
fn be_i16(b: &[u8], p: usize) -> i16 {
    i16::from_be_bytes([b[p], b[p + 1]])
}
#[inline]
fn be_i32(b: &[u8], p: usize) -> i32 {
    i32::from_be_bytes(b[p..p + 4].try_into().unwrap())
}
#[inline]
fn be_u32(b: &[u8], p: usize) -> u32 {
    u32::from_be_bytes(b[p..p + 4].try_into().unwrap())
}
#[inline]
fn be_i64(b: &[u8], p: usize) -> i64 {
    i64::from_be_bytes(b[p..p + 8].try_into().unwrap())
}

/// A decoded batch header. Holds copies of the fields, not a borrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    pub base_offset: i64,
    pub batch_length: i32,
    pub partition_leader_epoch: i32,
    pub magic: i8,
    pub crc: u32,
    pub attributes: i16,
    pub last_offset_delta: i32,
    pub base_timestamp: i64,
    pub max_timestamp: i64,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub records_count: i32,
}

impl BatchHeader {
    /// Reads just the 12-byte prefix: `(base_offset, total_size)`, where
    /// `total_size = batchLength + 12`. Enough to walk a log without
    /// touching record bytes. Rejects lengths below the v2 header size.
    pub fn peek_size(buf: &[u8]) -> Result<(i64, usize), RecordError> {
        if buf.len() < LOG_OVERHEAD {
            return Err(RecordError::Truncated {
                needed: LOG_OVERHEAD,
                available: buf.len(),
            });
        }
        let len = be_i32(buf, LENGTH_POS);
        if len < MIN_BATCH_LENGTH {
            return Err(RecordError::InvalidLength(len as i64));
        }
        Ok((be_i64(buf, BASE_OFFSET_POS), len as usize + LOG_OVERHEAD))
    }

    /// Parses the header at the start of `buf`. Checks the magic byte and
    /// that the whole batch (`batchLength + 12` bytes) is present, but not
    /// the CRC (see [`verify_crc`]).
    pub fn parse(buf: &[u8]) -> Result<BatchHeader, RecordError> {
        let (_, total) = Self::peek_size(buf)?;
        if buf.len() < HEADER_SIZE {
            return Err(RecordError::Truncated {
                needed: HEADER_SIZE,
                available: buf.len(),
            });
        }
        let magic = buf[MAGIC_POS] as i8;
        if magic != MAGIC_V2 {
            return Err(RecordError::UnsupportedMagic(magic));
        }
        if buf.len() < total {
            return Err(RecordError::Truncated {
                needed: total,
                available: buf.len(),
            });
        }
        Ok(BatchHeader {
            base_offset: be_i64(buf, BASE_OFFSET_POS),
            batch_length: be_i32(buf, LENGTH_POS),
            partition_leader_epoch: be_i32(buf, PARTITION_LEADER_EPOCH_POS),
            magic,
            crc: be_u32(buf, CRC_POS),
            attributes: be_i16(buf, ATTRIBUTES_POS),
            last_offset_delta: be_i32(buf, LAST_OFFSET_DELTA_POS),
            base_timestamp: be_i64(buf, BASE_TIMESTAMP_POS),
            max_timestamp: be_i64(buf, MAX_TIMESTAMP_POS),
            producer_id: be_i64(buf, PRODUCER_ID_POS),
            producer_epoch: be_i16(buf, PRODUCER_EPOCH_POS),
            base_sequence: be_i32(buf, BASE_SEQUENCE_POS),
            records_count: be_i32(buf, RECORDS_COUNT_POS),
        })
    }

    /// Total bytes the batch occupies on disk and on the wire.
    pub fn total_size(&self) -> usize {
        self.batch_length as usize + LOG_OVERHEAD
    }
    pub fn last_offset(&self) -> i64 {
        self.base_offset + self.last_offset_delta as i64
    }
    pub fn compression(&self) -> u8 {
        (self.attributes & COMPRESSION_MASK) as u8
    }
    pub fn is_log_append_time(&self) -> bool {
        self.attributes & TIMESTAMP_TYPE_MASK != 0
    }
    pub fn is_transactional(&self) -> bool {
        self.attributes & TRANSACTIONAL_MASK != 0
    }
    pub fn is_control(&self) -> bool {
        self.attributes & CONTROL_MASK != 0
    }
    /// Sequence number of the last record; -1 when the batch has none
    /// (`baseSequence` -1). Wraps past `i32::MAX` to 0, as Kafka does.
    pub fn last_sequence(&self) -> i32 {
        if self.base_sequence < 0 {
            return -1;
        }
        increment_sequence(self.base_sequence, self.last_offset_delta)
    }
}

/// `sequence + increment`, wrapping from `i32::MAX` to 0 (producer sequence
/// numbers are non-negative and wrap around).
pub fn increment_sequence(sequence: i32, increment: i32) -> i32 {
    if sequence > i32::MAX - increment {
        increment - (i32::MAX - sequence) - 1
    } else {
        sequence + increment
    }
}

/// CRC32C of `batch[21..total]` (hardware-accelerated where the CPU has it).
pub fn compute_crc(batch: &[u8]) -> u32 {
    crc32c::crc32c(&batch[ATTRIBUTES_POS..])
}

/// Checks the stored CRC of one whole batch (exactly `total_size` bytes).
pub fn verify_crc(batch: &[u8]) -> Result<(), RecordError> {
    let stored = be_u32(batch, CRC_POS);
    let computed = compute_crc(batch);
    if stored != computed {
        return Err(RecordError::CrcMismatch { stored, computed });
    }
    Ok(())
}

/// Rewrites `baseOffset`. Not covered by the CRC, so nothing else changes.
pub fn set_base_offset(batch: &mut [u8], base_offset: i64) {
    batch[BASE_OFFSET_POS..BASE_OFFSET_POS + 8].copy_from_slice(&base_offset.to_be_bytes());
}

/// Rewrites `partitionLeaderEpoch`. Not covered by the CRC.
pub fn set_partition_leader_epoch(batch: &mut [u8], epoch: i32) {
    batch[PARTITION_LEADER_EPOCH_POS..PARTITION_LEADER_EPOCH_POS + 4]
        .copy_from_slice(&epoch.to_be_bytes());
}

/// Stamps LogAppendTime: sets the timestamp-type bit and `maxTimestamp`,
/// then recomputes the CRC (both fields are covered by it).
pub fn set_log_append_time(batch: &mut [u8], timestamp_ms: i64) {
    set_max_timestamp(batch, true, timestamp_ms);
}

/// Sets the timestamp type (LogAppendTime when `log_append_time`, else
/// CreateTime) and `maxTimestamp`, then recomputes the CRC. Like Kafka's
/// `setMaxTimestamp`, a no-op when both already hold those values.
pub fn set_max_timestamp(batch: &mut [u8], log_append_time: bool, timestamp_ms: i64) {
    let old_attrs = be_i16(batch, ATTRIBUTES_POS);
    let attrs = if log_append_time {
        old_attrs | TIMESTAMP_TYPE_MASK
    } else {
        old_attrs & !TIMESTAMP_TYPE_MASK
    };
    if attrs == old_attrs && be_i64(batch, MAX_TIMESTAMP_POS) == timestamp_ms {
        return;
    }
    batch[ATTRIBUTES_POS..ATTRIBUTES_POS + 2].copy_from_slice(&attrs.to_be_bytes());
    batch[MAX_TIMESTAMP_POS..MAX_TIMESTAMP_POS + 8].copy_from_slice(&timestamp_ms.to_be_bytes());
    let crc = compute_crc(batch);
    batch[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty_batch() -> Vec<u8> {
        let mut b = vec![0u8; HEADER_SIZE];
        b[LENGTH_POS..LENGTH_POS + 4].copy_from_slice(&MIN_BATCH_LENGTH.to_be_bytes());
        b[MAGIC_POS] = 2;
        b[PRODUCER_ID_POS..PRODUCER_ID_POS + 8].copy_from_slice(&(-1i64).to_be_bytes());
        let crc = compute_crc(&b);
        b[CRC_POS..CRC_POS + 4].copy_from_slice(&crc.to_be_bytes());
        b
    }

    #[test]
    fn parse_and_verify() {
        let b = empty_batch();
        let h = BatchHeader::parse(&b).unwrap();
        assert_eq!(h.total_size(), HEADER_SIZE);
        assert_eq!(h.producer_id, -1);
        verify_crc(&b).unwrap();
    }

    #[test]
    fn rejects_short_and_bad_magic() {
        let mut b = empty_batch();
        assert!(matches!(
            BatchHeader::parse(&b[..20]),
            Err(RecordError::Truncated { .. })
        ));
        b[MAGIC_POS] = 1;
        assert_eq!(
            BatchHeader::parse(&b),
            Err(RecordError::UnsupportedMagic(1))
        );
    }

    #[test]
    fn crc_detects_flip_and_rewrites_keep_it_valid() {
        let mut b = empty_batch();
        set_base_offset(&mut b, 42);
        set_partition_leader_epoch(&mut b, 7);
        verify_crc(&b).unwrap();
        set_log_append_time(&mut b, 1_700_000_000_000);
        verify_crc(&b).unwrap();
        assert!(BatchHeader::parse(&b).unwrap().is_log_append_time());
        set_max_timestamp(&mut b, false, 5);
        verify_crc(&b).unwrap();
        let h = BatchHeader::parse(&b).unwrap();
        assert!(!h.is_log_append_time());
        assert_eq!(h.max_timestamp, 5);
        b[40] ^= 1;
        assert!(matches!(
            verify_crc(&b),
            Err(RecordError::CrcMismatch { .. })
        ));
    }

    #[test]
    fn sequences_wrap_like_kafka() {
        assert_eq!(increment_sequence(5, 3), 8);
        assert_eq!(increment_sequence(i32::MAX, 1), 0);
        assert_eq!(increment_sequence(i32::MAX - 1, 3), 1);
    }
}
