//! The batch builder for Python: `RecordBatchBuilder` and the helpers the
//! one-shot `build_batch` shares with it.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::pybacked::{PyBackedBytes, PyBackedStr};
use pyo3::types::PyBytes;

use crate::py::errors::record_err;
use crate::record::builder::{BatchBuilder, BatchOptions};
use crate::record::{Compression, Header};

use super::buffer::DETACH_BYTES;

/// A header key given as str or bytes.
#[derive(FromPyObject)]
pub enum HeaderKey {
    Str(PyBackedStr),
    Bytes(PyBackedBytes),
}

impl HeaderKey {
    fn as_bytes(&self) -> &[u8] {
        match self {
            HeaderKey::Str(s) => s.as_bytes(),
            HeaderKey::Bytes(b) => b,
        }
    }
}

pub type HeaderArg = (HeaderKey, Option<PyBackedBytes>);

/// Appends one record to `b`, converting Python headers.
pub fn add_record(
    b: &mut BatchBuilder,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    timestamp: i64,
    headers: &[HeaderArg],
) -> PyResult<()> {
    let hs: Vec<Header<'_>> = headers
        .iter()
        .map(|(k, v)| Header {
            key: k.as_bytes(),
            value: v.as_deref(),
        })
        .collect();
    b.add(timestamp, key, value, &hs).map_err(record_err)
}

/// Builds a batch with the GIL released when it is big.
pub fn finish(py: Python<'_>, b: BatchBuilder) -> PyResult<Bound<'_, PyBytes>> {
    let bytes = if b.uncompressed_size() >= DETACH_BYTES {
        py.detach(|| b.build())
    } else {
        b.build()
    }
    .map_err(record_err)?;
    Ok(PyBytes::new(py, &bytes))
}

/// Keyword arguments shared by the builder and `build_batch`.
#[allow(clippy::too_many_arguments)]
pub fn batch_options(
    base_offset: i64,
    compression: u8,
    compression_level: Option<i32>,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    partition_leader_epoch: i32,
    is_transactional: bool,
    is_control: bool,
    log_append_time: bool,
) -> PyResult<BatchOptions> {
    Ok(BatchOptions {
        base_offset,
        partition_leader_epoch,
        producer_id,
        producer_epoch,
        base_sequence,
        is_transactional,
        is_control,
        compression: Compression::from_id(compression).map_err(record_err)?,
        compression_level,
        log_append_time,
    })
}

/// Accumulates records for one batch; `build()` returns its bytes.
#[pyclass(name = "RecordBatchBuilder", module = "pystream._native")]
pub struct PyRecordBatchBuilder {
    inner: Option<BatchBuilder>,
}

#[pymethods]
impl PyRecordBatchBuilder {
    #[new]
    #[pyo3(signature = (base_offset=0, *, compression=0, compression_level=None, producer_id=-1,
        producer_epoch=-1, base_sequence=-1, partition_leader_epoch=-1, is_transactional=false,
        is_control=false, log_append_time=false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        base_offset: i64,
        compression: u8,
        compression_level: Option<i32>,
        producer_id: i64,
        producer_epoch: i16,
        base_sequence: i32,
        partition_leader_epoch: i32,
        is_transactional: bool,
        is_control: bool,
        log_append_time: bool,
    ) -> PyResult<Self> {
        let opts = batch_options(
            base_offset,
            compression,
            compression_level,
            producer_id,
            producer_epoch,
            base_sequence,
            partition_leader_epoch,
            is_transactional,
            is_control,
            log_append_time,
        )?;
        Ok(PyRecordBatchBuilder {
            inner: Some(BatchBuilder::new(opts)),
        })
    }

    #[pyo3(signature = (key, value, timestamp, headers=None))]
    fn add(
        &mut self,
        key: Option<PyBackedBytes>,
        value: Option<PyBackedBytes>,
        timestamp: i64,
        headers: Option<Vec<HeaderArg>>,
    ) -> PyResult<()> {
        let b = self.builder()?;
        add_record(
            b,
            key.as_deref(),
            value.as_deref(),
            timestamp,
            headers.as_deref().unwrap_or(&[]),
        )
    }

    fn __len__(&self) -> usize {
        self.inner.as_ref().map_or(0, |b| b.record_count())
    }

    /// Size of the batch if it were built uncompressed now.
    #[getter]
    fn uncompressed_size(&self) -> usize {
        self.inner.as_ref().map_or(0, |b| b.uncompressed_size())
    }

    /// Compresses, writes header and CRC. The builder is spent afterwards.
    fn build<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let b = self
            .inner
            .take()
            .ok_or_else(|| PyValueError::new_err("this builder was already built"))?;
        finish(py, b)
    }
}

impl PyRecordBatchBuilder {
    fn builder(&mut self) -> PyResult<&mut BatchBuilder> {
        self.inner
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("this builder was already built"))
    }
}
