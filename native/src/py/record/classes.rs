//! Python value classes of the record layer: batch headers and append
//! results (frozen, compared by value where that makes sense).

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::record::batches::BatchRef;
use crate::record::{AppendInfo, BatchAppendInfo};

/// The header of one batch, as found in a buffer.
#[pyclass(
    frozen,
    get_all,
    eq,
    name = "RecordBatchInfo",
    module = "pystream._native"
)]
#[derive(Clone, PartialEq, Eq)]
pub struct PyRecordBatchInfo {
    base_offset: i64,
    last_offset: i64,
    partition_leader_epoch: i32,
    crc: u32,
    attributes: i16,
    compression: u8,
    /// 0 CreateTime, 1 LogAppendTime (Kafka's TimestampType ids).
    timestamp_type: i8,
    is_transactional: bool,
    is_control: bool,
    base_timestamp: i64,
    max_timestamp: i64,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    last_sequence: i32,
    record_count: i32,
    size: usize,
    position: usize,
}

impl PyRecordBatchInfo {
    pub fn from_ref(b: &BatchRef<'_>) -> Self {
        let h = &b.header;
        PyRecordBatchInfo {
            base_offset: h.base_offset,
            last_offset: h.last_offset(),
            partition_leader_epoch: h.partition_leader_epoch,
            crc: h.crc,
            attributes: h.attributes,
            compression: h.compression(),
            timestamp_type: h.is_log_append_time() as i8,
            is_transactional: h.is_transactional(),
            is_control: h.is_control(),
            base_timestamp: h.base_timestamp,
            max_timestamp: h.max_timestamp,
            producer_id: h.producer_id,
            producer_epoch: h.producer_epoch,
            base_sequence: h.base_sequence,
            last_sequence: h.last_sequence(),
            record_count: h.records_count,
            size: h.total_size(),
            position: b.position,
        }
    }
}

#[pymethods]
impl PyRecordBatchInfo {
    fn __repr__(&self) -> String {
        format!(
            "RecordBatchInfo(base_offset={}, last_offset={}, record_count={}, compression={}, \
             producer_id={}, base_sequence={}, size={})",
            self.base_offset,
            self.last_offset,
            self.record_count,
            self.compression,
            self.producer_id,
            self.base_sequence,
            self.size
        )
    }
}

/// One batch of a validated produce payload, after offset assignment.
#[pyclass(
    frozen,
    get_all,
    eq,
    name = "BatchAppendInfo",
    module = "pystream._native"
)]
#[derive(Clone, PartialEq, Eq)]
pub struct PyBatchAppendInfo {
    base_offset: i64,
    last_offset: i64,
    record_count: i32,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    last_sequence: i32,
    is_transactional: bool,
    is_control: bool,
    max_timestamp: i64,
    compression: u8,
    size: usize,
}

impl From<&BatchAppendInfo> for PyBatchAppendInfo {
    fn from(b: &BatchAppendInfo) -> Self {
        PyBatchAppendInfo {
            base_offset: b.base_offset,
            last_offset: b.last_offset,
            record_count: b.record_count,
            producer_id: b.producer_id,
            producer_epoch: b.producer_epoch,
            base_sequence: b.base_sequence,
            last_sequence: b.last_sequence,
            is_transactional: b.is_transactional,
            is_control: b.is_control,
            max_timestamp: b.max_timestamp,
            compression: b.compression,
            size: b.size,
        }
    }
}

#[pymethods]
impl PyBatchAppendInfo {
    fn __repr__(&self) -> String {
        format!(
            "BatchAppendInfo(base_offset={}, last_offset={}, producer_id={}, producer_epoch={}, \
             base_sequence={}, last_sequence={})",
            self.base_offset,
            self.last_offset,
            self.producer_id,
            self.producer_epoch,
            self.base_sequence,
            self.last_sequence
        )
    }
}

/// The result of `validate_and_assign` (Kafka's LogAppendInfo, in part).
#[pyclass(frozen, get_all, name = "AppendInfo", module = "pystream._native")]
pub struct PyAppendInfo {
    first_offset: i64,
    last_offset: i64,
    max_timestamp: i64,
    offset_of_max_timestamp: i64,
    log_append_time: i64,
    record_count: i64,
    batch_count: usize,
    valid_bytes: usize,
    source_compression: u8,
    is_transactional: bool,
    batches: Py<PyTuple>,
}

impl PyAppendInfo {
    pub fn new(py: Python<'_>, info: &AppendInfo) -> PyResult<Self> {
        let batches = info
            .batches
            .iter()
            .map(|b| Py::new(py, PyBatchAppendInfo::from(b)))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyAppendInfo {
            first_offset: info.first_offset,
            last_offset: info.last_offset,
            max_timestamp: info.max_timestamp,
            offset_of_max_timestamp: info.offset_of_max_timestamp,
            log_append_time: info.log_append_time,
            record_count: info.record_count,
            batch_count: info.batches.len(),
            valid_bytes: info.valid_bytes,
            source_compression: info.source_compression(),
            is_transactional: info.is_transactional(),
            batches: PyTuple::new(py, batches)?.unbind(),
        })
    }
}

#[pymethods]
impl PyAppendInfo {
    fn __repr__(&self) -> String {
        format!(
            "AppendInfo(first_offset={}, last_offset={}, record_count={}, batch_count={}, \
             max_timestamp={}, offset_of_max_timestamp={}, valid_bytes={})",
            self.first_offset,
            self.last_offset,
            self.record_count,
            self.batch_count,
            self.max_timestamp,
            self.offset_of_max_timestamp,
            self.valid_bytes
        )
    }
}
