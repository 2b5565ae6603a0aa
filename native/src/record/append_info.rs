//! What the append path learns from a validated produce payload: the
//! offsets it assigned, the max timestamp, and each batch's producer
//! fields (the broker checks idempotence sequences per batch).

/// One batch of the payload, after offset assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchAppendInfo {
    pub base_offset: i64,
    pub last_offset: i64,
    pub record_count: i32,
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    /// `base_sequence + last_offset_delta` (wrapping), -1 without sequence.
    pub last_sequence: i32,
    pub is_transactional: bool,
    pub is_control: bool,
    /// The batch's max timestamp as written (after any stamping).
    pub max_timestamp: i64,
    pub compression: u8,
    /// Bytes the batch occupies.
    pub size: usize,
}

/// The whole payload: Kafka's `LogAppendInfo`, minus what the log adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendInfo {
    pub first_offset: i64,
    pub last_offset: i64,
    /// Largest timestamp of the payload, -1 when no record has one.
    pub max_timestamp: i64,
    /// Offset of the first record holding `max_timestamp` (exact in full
    /// validation; without it, the last offset of the batch holding it,
    /// as Kafka's shallow validation reports), -1 with no timestamp.
    pub offset_of_max_timestamp: i64,
    /// The stamped LogAppendTime, or -1 for CreateTime.
    pub log_append_time: i64,
    pub record_count: i64,
    /// Total bytes of the payload (all batches).
    pub valid_bytes: usize,
    pub batches: Vec<BatchAppendInfo>,
}

impl AppendInfo {
    /// Codec of the first batch (Kafka's `sourceCompression`).
    pub fn source_compression(&self) -> u8 {
        self.batches.first().map_or(0, |b| b.compression)
    }
    pub fn is_transactional(&self) -> bool {
        self.batches.iter().any(|b| b.is_transactional)
    }
}
