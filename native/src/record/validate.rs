//! The broker's append-path validation of a produce payload (one or more
//! concatenated batches from a client), then offset assignment.
//!
//! All or nothing: a read-only pass checks every batch and plans the
//! rewrites; only when all batches pass does a second pass write
//! `baseOffset`, `partitionLeaderEpoch` and, where needed, the timestamp
//! type and `maxTimestamp` (then the CRC). On error the buffer is
//! untouched and the error names the batch ([`RecordError::InBatch`]).
//!
//! Checks, as Kafka's `LogValidator` for a client's v2 batch: size
//! against `message.max.bytes`, magic 2, CRC32C, a known codec, no control
//! batch, `recordsCount == lastOffsetDelta + 1 > 0`, a producer id for
//! transactional batches, a sequence for idempotent ones. Shallow by
//! default (header only, nothing decompressed); `full` also decodes every
//! record (decompressing) and checks offset deltas are 0..n-1, as Kafka
//! does for compressed data, and then trusts only the records' timestamps.

use super::append_info::{AppendInfo, BatchAppendInfo};
use super::batches::{record_timestamp, BatchRecords, BatchRef};
use super::compression::{Compression, DEFAULT_MAX_DECOMPRESSED};
use super::header::{
    set_base_offset, set_max_timestamp, set_partition_leader_epoch, verify_crc, BatchHeader,
    HEADER_SIZE,
};
use super::records::checked_count;
use super::RecordError;

/// Kafka's default `message.max.bytes`.
pub const DEFAULT_MAX_BATCH_BYTES: usize = 1_048_588;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOptions {
    /// Stamp LogAppendTime with this time (topic `message.timestamp.type`).
    pub log_append_time_ms: Option<i64>,
    pub partition_leader_epoch: i32,
    /// `message.max.bytes`: the largest batch accepted.
    pub max_batch_bytes: usize,
    /// Decode every record (decompressing) instead of the headers only.
    pub full: bool,
    /// Refuse records without a key (compacted topics); implies `full`.
    pub require_key: bool,
    /// Accept control batches (transaction markers from the coordinator).
    pub allow_control: bool,
    /// Cap on one batch's decompressed records in full validation.
    pub max_decompressed: usize,
}

impl Default for AppendOptions {
    fn default() -> Self {
        AppendOptions {
            log_append_time_ms: None,
            partition_leader_epoch: -1,
            max_batch_bytes: DEFAULT_MAX_BATCH_BYTES,
            full: false,
            require_key: false,
            allow_control: false,
            max_decompressed: DEFAULT_MAX_DECOMPRESSED,
        }
    }
}

/// What the write pass does to one batch.
struct Plan {
    position: usize,
    header: BatchHeader,
    /// Largest record timestamp and the offset delta of its first record.
    max_timestamp: i64,
    max_timestamp_delta: i32,
    /// New `(log_append_time, maxTimestamp)` when the header must change.
    restamp: Option<(bool, i64)>,
}

fn invalid(msg: impl Into<String>) -> RecordError {
    RecordError::InvalidRecord(msg.into())
}

/// Header checks; returns the parsed header of the batch at `rest`'s start.
fn check_header(rest: &[u8], opts: &AppendOptions) -> Result<BatchHeader, RecordError> {
    let (_, total) = BatchHeader::peek_size(rest)?;
    if total > opts.max_batch_bytes {
        return Err(RecordError::TooLarge {
            size: total,
            max: opts.max_batch_bytes,
        });
    }
    let h = BatchHeader::parse(rest)?;
    verify_crc(&rest[..total])?;
    Compression::from_id(h.compression())?;
    if h.is_control() && !opts.allow_control {
        return Err(invalid("clients may not write control batches"));
    }
    if h.last_offset_delta < 0 || h.records_count <= 0 {
        return Err(invalid(format!(
            "record count {} with lastOffsetDelta {}",
            h.records_count, h.last_offset_delta
        )));
    }
    if i64::from(h.records_count) != i64::from(h.last_offset_delta) + 1 {
        return Err(invalid(format!(
            "record count {} does not match lastOffsetDelta {} + 1",
            h.records_count, h.last_offset_delta
        )));
    }
    if h.is_transactional() && h.producer_id < 0 {
        return Err(invalid("transactional batch without a producer id"));
    }
    if h.producer_id >= 0 && h.base_sequence < 0 {
        return Err(invalid(format!(
            "producer id {} with invalid sequence {}",
            h.producer_id, h.base_sequence
        )));
    }
    Ok(h)
}

/// Decodes every record: deltas 0..n-1, keys if required. Returns the max
/// record timestamp and the offset delta of the first record holding it.
fn check_records(batch: &BatchRef<'_>, opts: &AppendOptions) -> Result<(i64, i32), RecordError> {
    let records = BatchRecords::read(batch, opts.max_decompressed)?;
    let (mut max_ts, mut max_delta) = (-1i64, -1i32);
    for (i, r) in records.iter().enumerate() {
        let r = r?;
        if i64::from(r.offset_delta) != i as i64 {
            return Err(invalid(format!(
                "record {i} has offset delta {}",
                r.offset_delta
            )));
        }
        if opts.require_key && r.key.is_none() {
            return Err(invalid(format!(
                "record {i} has no key (compacted topics need one)"
            )));
        }
        let ts = record_timestamp(&batch.header, &r);
        if ts > max_ts {
            (max_ts, max_delta) = (ts, r.offset_delta);
        }
    }
    Ok((max_ts, max_delta))
}

fn plan_batch(
    buf: &[u8],
    position: usize,
    index: usize,
    opts: &AppendOptions,
) -> Result<Plan, RecordError> {
    let rest = &buf[position..];
    let header = check_header(rest, opts)?;
    let batch = BatchRef {
        index,
        position,
        header,
        bytes: &rest[..header.total_size()],
    };
    let (mut max_timestamp, mut max_timestamp_delta) = if opts.full || opts.require_key {
        check_records(&batch, opts)?
    } else {
        if header.compression() == 0 {
            checked_count(&header, header.total_size() - HEADER_SIZE)?;
        }
        (header.max_timestamp, header.last_offset_delta)
    };
    let restamp = if let Some(t) = opts.log_append_time_ms {
        (max_timestamp, max_timestamp_delta) = (t, 0);
        Some((true, t))
    } else if header.is_log_append_time() || header.max_timestamp != max_timestamp {
        Some((false, max_timestamp))
    } else {
        None
    };
    Ok(Plan {
        position,
        header,
        max_timestamp,
        max_timestamp_delta,
        restamp,
    })
}

/// Validates `buf` and assigns offsets from `next_offset`, in place.
pub fn validate_and_assign(
    buf: &mut [u8],
    next_offset: i64,
    opts: &AppendOptions,
) -> Result<AppendInfo, RecordError> {
    if buf.is_empty() {
        return Err(invalid("produce payload holds no record batch"));
    }
    if next_offset < 0 {
        return Err(invalid(format!("next offset {next_offset} is negative")));
    }
    let mut plans = Vec::new();
    let mut position = 0;
    let mut offset = next_offset;
    while position < buf.len() {
        let index = plans.len();
        let plan =
            plan_batch(buf, position, index, opts).map_err(|e| e.in_batch(index, position))?;
        offset = offset
            .checked_add(i64::from(plan.header.records_count))
            .ok_or_else(|| invalid("offsets overflow").in_batch(index, position))?;
        position += plan.header.total_size();
        plans.push(plan);
    }

    let mut info = AppendInfo {
        first_offset: next_offset,
        last_offset: offset - 1,
        max_timestamp: -1,
        offset_of_max_timestamp: -1,
        log_append_time: opts.log_append_time_ms.unwrap_or(-1),
        record_count: offset - next_offset,
        valid_bytes: buf.len(),
        batches: Vec::with_capacity(plans.len()),
    };
    let mut base = next_offset;
    for p in &plans {
        let h = &p.header;
        let batch = &mut buf[p.position..p.position + h.total_size()];
        set_base_offset(batch, base);
        set_partition_leader_epoch(batch, opts.partition_leader_epoch);
        if let Some((log_append_time, ts)) = p.restamp {
            set_max_timestamp(batch, log_append_time, ts);
        }
        if p.max_timestamp > info.max_timestamp {
            info.max_timestamp = p.max_timestamp;
            info.offset_of_max_timestamp = base + i64::from(p.max_timestamp_delta);
        }
        info.batches.push(BatchAppendInfo {
            base_offset: base,
            last_offset: base + i64::from(h.last_offset_delta),
            record_count: h.records_count,
            producer_id: h.producer_id,
            producer_epoch: h.producer_epoch,
            base_sequence: h.base_sequence,
            last_sequence: h.last_sequence(),
            is_transactional: h.is_transactional(),
            is_control: h.is_control(),
            max_timestamp: p.restamp.map_or(h.max_timestamp, |(_, ts)| ts),
            compression: h.compression(),
            size: h.total_size(),
        });
        base += i64::from(h.records_count);
    }
    Ok(info)
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
